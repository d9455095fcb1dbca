from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.http import HttpResponseNotAllowed
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.translation import gettext_lazy as _

from core.adminbase import GatewayAdminMixin, apply_to_each_row, recent_date_filter
from core.forms import CleanTextFormMixin, CleanTextModelForm

from .models import (
    IDENTITY_FIELDS,
    PROFILE_FIELDS,
    LoginEmailChange,
    Notice,
    Page,
    Reader,
    ReaderStatus,
    RegistrationToConfirm,
)
from .search import READERS_SEARCHED, reader_ids_matching
from .services import ReaderStateError, reader_confirm, reader_reject, reader_update_profile


class RejectionForm(CleanTextFormMixin, forms.Form):
    reason = forms.CharField(
        label=_("Reason, sent to the reader"),
        max_length=Reader._meta.get_field("rejection_reason").max_length,
        widget=forms.Textarea(attrs={"rows": 4}),
    )


class ReaderAdminForm(CleanTextModelForm):
    class Meta:
        model = Reader
        fields = ["user", "reader_type", *PROFILE_FIELDS, *IDENTITY_FIELDS, "language"]

    def clean_user(self):
        # A reader's e-mail becomes its account's login address: never a staff account's.
        user = self.cleaned_data["user"]
        if user is not None and (user.is_staff or user.is_superuser):
            raise forms.ValidationError(
                _("A reader profile cannot belong to a staff account: choose a reader's account.")
            )
        return user


class LoginEmailChangeInline(admin.TabularInline):
    """The record of the reader's login address changes: read only, for everyone."""

    model = LoginEmailChange
    extra = 0
    fields = ["changed_at", "old_email", "new_email", "changed_by"]
    readonly_fields = fields
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Reader)
class ReaderAdmin(GatewayAdminMixin, admin.ModelAdmin):
    list_display = ["name", "username", "reader_type", "status", "institution", "created_at"]
    list_filter = ["status", "reader_type"]
    search_fields = ["name", "email", "user__username", "id_number", "campus_id", "phone"]
    list_select_related = ["user"]
    raw_id_fields = ["user"]
    readonly_fields = [
        "status",
        "created_at",
        "decided_at",
        "decided_by",
        "rejection_reason",
        "legacy_choice_at",
    ]
    actions = ["confirm_selected", "reject_selected"]
    change_form_template = "admin/readers/reader/change_form.html"
    form = ReaderAdminForm
    inlines = [LoginEmailChangeInline]

    def get_search_results(self, request, queryset, search_term):
        # One indexed query per kind of identifier (readers.search), not an OR across tables.
        if not search_term.strip():
            return queryset, False
        return queryset.filter(pk__in=reader_ids_matching(search_term)), False

    def get_readonly_fields(self, request, obj=None):
        # Which account a reader is stays as it was created: moving a profile (and with it the
        # login e-mail) to another account is how that account would be taken over.
        if obj is None:
            return self.readonly_fields
        return ["user", *self.readonly_fields]

    def save_model(self, request, obj, form, change):
        reader_update_profile(form=form, actor=request.user)

    @admin.display(description=_("username"), ordering="user__username")
    def username(self, obj):
        return obj.user.username

    def get_urls(self):
        info = self.opts.app_label, self.opts.model_name
        return [
            path(
                "<int:pk>/confirm/",
                self.admin_site.admin_view(self.confirm_view),
                name="{}_{}_confirm".format(*info),
            ),
            path(
                "<int:pk>/reject/",
                self.admin_site.admin_view(self.reject_view),
                name="{}_{}_reject".format(*info),
            ),
            *super().get_urls(),
        ]

    def _decide(self, request, readers, decide, done_message):
        apply_to_each_row(
            self, request, readers, decide, refused=ReaderStateError, done_message=done_message
        )

    @admin.action(description=_("Confirm the selected readers"), permissions=["change"])
    def confirm_selected(self, request, queryset):
        not_pending = queryset.exclude(status=ReaderStatus.PENDING)
        for reader in not_pending:
            self.message_user(
                request,
                _(
                    "%(reader)s was skipped: only registrations waiting for confirmation "
                    "are confirmed in bulk."
                )
                % {"reader": reader},
                messages.WARNING,
            )
        self._decide(
            request,
            queryset.filter(status=ReaderStatus.PENDING),
            lambda reader: reader_confirm(reader=reader, actor=request.user),
            _("%(count)d reader(s) confirmed and told by e-mail."),
        )

    @admin.action(
        description=_("Reject the selected readers (with a reason)"), permissions=["change"]
    )
    def reject_selected(self, request, queryset):
        form = RejectionForm(request.POST if "reason" in request.POST else None)
        if form.is_bound and form.is_valid():
            self._decide(
                request,
                queryset,
                lambda reader: reader_reject(
                    reader=reader, actor=request.user, reason=form.cleaned_data["reason"]
                ),
                _("%(count)d reader(s) rejected and told by e-mail."),
            )
            return None
        return TemplateResponse(
            request,
            "admin/readers/reader/reject.html",
            {
                **self.admin_site.each_context(request),
                "opts": self.opts,
                "form": form,
                "readers": queryset,
                "action": "reject_selected",
                "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME,
                "title": _("Reject registrations"),
            },
        )

    def confirm_view(self, request, pk):
        reader = get_object_or_404(Reader, pk=pk)
        if not self.has_change_permission(request, reader):
            raise PermissionDenied
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        self._decide(
            request,
            [reader],
            lambda r: reader_confirm(reader=r, actor=request.user),
            _("%(count)d reader(s) confirmed and told by e-mail."),
        )
        return redirect(reverse("admin:readers_reader_change", args=[pk]))

    def reject_view(self, request, pk):
        reader = get_object_or_404(Reader, pk=pk)
        if not self.has_change_permission(request, reader):
            raise PermissionDenied
        form = RejectionForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            self._decide(
                request,
                [reader],
                lambda r: reader_reject(
                    reader=r, actor=request.user, reason=form.cleaned_data["reason"]
                ),
                _("%(count)d reader(s) rejected and told by e-mail."),
            )
            return redirect(reverse("admin:readers_reader_change", args=[pk]))
        return TemplateResponse(
            request,
            "admin/readers/reader/reject.html",
            {
                **self.admin_site.each_context(request),
                "opts": self.opts,
                "form": form,
                "readers": [reader],
                "title": _("Reject registrations"),
            },
        )


@admin.register(RegistrationToConfirm)
class RegistrationToConfirmAdmin(ReaderAdmin):
    """The queue: only registrations still waiting, oldest first."""

    list_filter = ["reader_type"]
    # The changelist orders by the admin's `ordering` (else the model's, newest first), whatever
    # order the queryset had: the queue's own order must be said here.
    ordering = ["created_at", "pk"]

    def get_queryset(self, request):
        return super().get_queryset(request).filter(status=ReaderStatus.PENDING)

    def has_add_permission(self, request):
        return False

    def changelist_view(self, request, extra_context=None):
        extra_context = {"title": _("Registrations to confirm"), **(extra_context or {})}
        return super().changelist_view(request, extra_context)


@admin.register(Notice)
class NoticeAdmin(GatewayAdminMixin, admin.ModelAdmin):
    list_display = ["__str__", "publish_at", "end_at", "pinned", "personal_to", "read_at"]
    list_filter = [
        "pinned",
        ("reader", admin.EmptyFieldListFilter),
        recent_date_filter("publish_at", _("published")),
    ]
    # Personal notices grow with the requests: the search reads the titles and the readers
    # found on their indexes (readers.search), and leaves the bodies alone.
    search_fields = ["title_zh", "title_en", "reader__name"]
    raw_id_fields = ["reader"]
    readonly_fields = ["read_at"]
    # A reader is shown with their login name (Reader.__str__).
    list_select_related = ["reader__user"]
    fieldsets = [
        (_("Chinese"), {"fields": ["title_zh", "body_zh"]}),
        (_("English"), {"fields": ["title_en", "body_en"]}),
        (None, {"fields": ["publish_at", "end_at", "pinned", "reader", "read_at"]}),
    ]

    def get_search_results(self, request, queryset, search_term):
        term = search_term.strip()
        if not term:
            return queryset, False
        readers = list(reader_ids_matching(term)[:READERS_SEARCHED])
        return queryset.filter(
            Q(title_zh__icontains=term) | Q(title_en__icontains=term) | Q(reader__in=readers)
        ), False

    @admin.display(description=_("personal to"), ordering="reader__name")
    def personal_to(self, obj):
        return obj.reader or "—"


@admin.register(Page)
class PageAdmin(GatewayAdminMixin, admin.ModelAdmin):
    list_display = ["__str__", "title_zh", "title_en", "updated_at"]
    fieldsets = [
        (None, {"fields": ["slug"]}),
        (_("Chinese"), {"fields": ["title_zh", "body_zh"]}),
        (_("English"), {"fields": ["title_en", "body_en"]}),
    ]
