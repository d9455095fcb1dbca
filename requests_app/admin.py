"""Staff's side of ILL requests, enough to move them through the lifecycle.

The status is never edited as a field: it changes only through `lifecycle.request_transition`,
from the transition page of a request or from the bulk actions of the list.
"""

import contextlib
import re
from decimal import Decimal

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.admin.options import IncorrectLookupParameters
from django.contrib.contenttypes.models import ContentType
from django.core import signing
from django.core.exceptions import EmptyResultSet, PermissionDenied, ValidationError
from django.db.models import BLANK_CHOICE_DASH, Q
from django.db.models.functions import Lower
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.functional import lazy
from django.utils.html import format_html_join
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from accounts.legacy import LegacyAccount
from core.adminbase import GatewayAdminMixin, apply_to_each_row, recent_date_filter
from core.forms import CleanTextFormMixin, CleanTextModelForm
from core.validators import to_halfwidth
from readers.search import READERS_SEARCHED, reader_ids_matching

from .delivery_admin import delivery_context, delivery_urls
from .export import export_response
from .guests import guest_paid, guest_payment_record
from .lifecycle import (
    NEEDS_REASON,
    TransitionError,
    request_allowed_transitions,
    request_transition,
)
from .models import (
    NUMBER_MAX,
    SUPPLIER_FIELDS,
    Delivery,
    FeeKind,
    FeeLine,
    GuestPayment,
    IllRequest,
    PaymentMethod,
    Status,
    StatusChange,
    Supplier,
)
from .services import REQUEST_FIELDS, request_refuse_cancellation
from .statuses import OPEN_STATUSES
from .validators import normalize_doi


class FeeLineInline(admin.TabularInline):
    model = FeeLine
    form = CleanTextModelForm
    extra = 0
    fields = ["kind", "amount", "note", "created_at"]
    readonly_fields = ["created_at"]


class StatusChangeInline(admin.TabularInline):
    model = StatusChange
    extra = 0
    fields = ["at", "actor", "from_status", "to_status", "text", "visible_to_reader"]
    readonly_fields = fields
    can_delete = False

    @admin.display(description=_("Note"))
    def text(self, obj):
        # The system's words in the staff member's language, then the note as typed.
        return obj.text

    def get_queryset(self, request):
        # Each row shows its actor and is headed by `StatusChange.__str__`, which names the
        # request: both come with the rows, so the page's queries do not grow with its history.
        return super().get_queryset(request).select_related("actor", "request")

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class GuestPaymentInline(admin.TabularInline):
    """The payments recorded for a guest's request: read here, added from the payment page."""

    model = GuestPayment
    extra = 0
    fields = ["recorded_at", "amount", "method", "note", "recorded_by"]
    readonly_fields = fields
    can_delete = False
    verbose_name_plural = _("guest payments (record one with “Record the guest's payment”)")

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("recorded_by")

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class GuestPaymentForm(CleanTextFormMixin, forms.Form):
    amount = forms.DecimalField(
        label=_("Amount (yuan)"), min_value=Decimal("0.01"), max_digits=10, decimal_places=2
    )
    method = forms.ChoiceField(label=_("Payment method"), choices=PaymentMethod.choices)
    note = forms.CharField(
        label=_("Note"), required=False, max_length=GuestPayment._meta.get_field("note").max_length
    )


class GuestFilter(admin.SimpleListFilter):
    title = _("owner")
    parameter_name = "guest"

    def lookups(self, request, model_admin):
        return [("yes", _("Guests (public account)")), ("no", _("Readers"))]

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.filter(is_guest=True)
        if self.value() == "no":
            return queryset.filter(is_guest=False)
        return queryset


class TransitionForm(CleanTextFormMixin, forms.Form):
    # Starts empty: saving must never apply a status that staff did not pick themselves.
    to = forms.ChoiceField(label=_("New status"))
    note = forms.CharField(
        label=_("Note"),
        max_length=StatusChange._meta.get_field("note").max_length,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Required for unfilled: the reason, which the reader reads."),
    )
    visible = forms.BooleanField(
        label=_("The reader sees the note (in the history and the e-mail)"),
        required=False,
        initial=True,
    )
    quote = forms.DecimalField(
        label=_("Quoted cost (for awaiting cost approval)"),
        required=False,
        min_value=0,
        max_digits=10,
        decimal_places=2,
    )
    return_date = forms.DateField(
        label=_("Return date (for on loan)"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )

    def __init__(self, *args, ill_request, **kwargs):
        super().__init__(*args, **kwargs)
        self.allowed = request_allowed_transitions(ill_request)
        self.fields["to"].choices = [
            *BLANK_CHOICE_DASH,
            *((value, Status(value).label) for value in self.allowed),
        ]
        # The quote and the return date only where the request can go where they apply.
        if Status.AWAITING_COST_APPROVAL not in self.allowed:
            del self.fields["quote"]
        if Status.ON_LOAN not in self.allowed:
            del self.fields["return_date"]
        else:
            # The browser's date picker offers no past day; the lifecycle refuses one anyway.
            self.fields["return_date"].widget.attrs["min"] = timezone.localdate().isoformat()


class ReasonForm(CleanTextFormMixin, forms.Form):
    """The reason a bulk move needs (unfilled), given once for all the selected requests."""

    note = forms.CharField(
        label=_("Reason (the readers read it in the history and the e-mail)"),
        max_length=StatusChange._meta.get_field("note").max_length,
        widget=forms.Textarea(attrs={"rows": 4, "cols": 60}),
    )


class _MovedElsewhere(Exception):
    """A bulk move that the lifecycle sent on to another status (awaiting payment)."""


def _move_selected(modeladmin, request, queryset, target: Status, *, note: str = "") -> None:
    def move(ill_request):
        moved = request_transition(
            ill_request=ill_request, to=target, actor=request.user, note=note
        )
        if moved.status != target:
            raise _MovedElsewhere(_awaits_payment(moved))

    apply_to_each_row(
        modeladmin,
        request,
        queryset,
        move,
        refused=(TransitionError, _MovedElsewhere),
        done_message=_(
            "%(count)d request(s) moved to “%(status)s”; the readers are told by e-mail."
        ),
        status=target.label,
    )


def _awaits_payment(ill_request: IllRequest) -> str:
    # Delivering or lending charges the reader's balance; short of it, the request waits.
    return gettext(
        "Request %(number)s is now awaiting payment: the reader's balance does not cover its "
        "total; the reader is told the amount by e-mail."
    ) % {"number": ill_request.number}


def _bulk_action(target: Status):
    def action(modeladmin, request, queryset):
        if target not in NEEDS_REASON:
            _move_selected(modeladmin, request, queryset, target)
            return None
        # Like Django's delete confirmation: a page of its own asks for the reason, and posts
        # the same selection back to this action with it.
        form = ReasonForm(request.POST if "apply" in request.POST else None)
        if form.is_valid():
            _move_selected(modeladmin, request, queryset, target, note=form.cleaned_data["note"])
            return None
        return TemplateResponse(
            request,
            "admin/requests_app/illrequest/bulk_reason.html",
            {
                **modeladmin.admin_site.each_context(request),
                "opts": modeladmin.opts,
                "title": _describe_move(target),
                "target": target,
                "action": action.__name__,
                "queryset": queryset,
                "form": form,
                "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
            },
        )

    action.__name__ = f"move_to_{target.value}"
    return admin.action(description=_move_description(target), permissions=["change"])(action)


def _describe_move(target: Status) -> str:
    return gettext("Move the selected requests to: %(status)s") % {"status": target.label}


# Formatted each time the list is shown, in the language of the staff member looking at it,
# not once at import time in whatever language was active then.
_move_description = lazy(_describe_move, str)


# Bulk moves that need no quote or date (unfilled asks for its reason on a page of its own); the
# others are done one by one on the request's page.
BULK_TARGETS = [
    Status.IN_PROCESS,
    Status.AWAITING_PAYMENT,
    Status.DELIVERED,
    Status.RETURNED,
    Status.UNFILLED,
    Status.CANCELLED,
]


# --- Saving a page that changed meanwhile ------------------------------------------------------

# What the change page shows that someone else may change while staff edit it.
# The fields staff edit on the change form: the reader's details and the supplier's record.
_EDITED_FIELDS = [*REQUEST_FIELDS, *SUPPLIER_FIELDS]
_WATCHED_FIELDS = ["status", "cancellation_requested", "quote", "return_date", *_EDITED_FIELDS]
_SEEN_SALT = "requests_app.admin.seen"


def _snapshot(ill_request: IllRequest) -> dict:
    return {
        "fields": {
            name: "" if (value := getattr(ill_request, name)) is None else str(value)
            for name in _WATCHED_FIELDS
        },
        "fee_lines": {
            str(line.pk): [line.kind, str(line.amount)] for line in ill_request.fee_lines.all()
        },
        "history": ill_request.history.count(),
    }


def _fee_line_shown(line: list) -> str:
    kind, amount = line
    return f"{FeeKind(kind).label if kind in FeeKind.values else kind} {amount}"


def _shown(ill_request: IllRequest, name: str, value: str) -> str:
    field = ill_request._meta.get_field(name)
    if field.choices:
        return str(dict(field.flatchoices).get(value, value))
    if value in ("True", "False"):
        return gettext("yes") if value == "True" else gettext("no")
    return value or "—"


class IllRequestAdminForm(CleanTextModelForm):
    """The request's change form, which refuses to write over what changed since it was opened.

    The page carries a signed snapshot of the request as staff saw it (`seen`). When the request
    changed meanwhile (the reader cancelled it, a colleague saved it) nothing is saved: the page
    comes back with what staff typed, what changed and by whom at the top, and each field that
    changed marked. Saving that page again applies staff's version to the request as it is now.
    """

    seen = forms.CharField(widget=forms.HiddenInput, required=False)

    class Meta:
        model = IllRequest
        fields = _EDITED_FIELDS

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Active suppliers are offered; an inactive one stays when the request already names it.
        self.fields["supplier"].queryset = Supplier.objects.filter(
            Q(active=True) | Q(pk=self.instance.supplier_id)
        )
        self.now = _snapshot(self.instance) if self.instance.pk else None
        if self.now is not None:
            self.initial["seen"] = signing.dumps(self.now, salt=_SEEN_SALT, compress=True)

    def clean(self):
        cleaned = super().clean()
        if self.now is None:
            return cleaned
        try:
            then = signing.loads(self.data.get(self.add_prefix("seen"), ""), salt=_SEEN_SALT)
        except signing.BadSignature:
            return cleaned  # a hand-made post: the other checks still hold
        changes = self._changes(then)
        if changes:
            self.add_error(
                None,
                gettext(
                    "Request %(number)s changed while you were editing it, so nothing was "
                    "saved: %(changes)s. What you typed is still below: check it against the "
                    "request as it is now and save again."
                )
                % {"number": self.instance.number, "changes": "; ".join(changes)},
            )
            # Saving this page again is a decision taken knowing the request as it is now.
            self.data = self.data.copy()
            self.data[self.add_prefix("seen")] = self.initial["seen"]
        return cleaned

    def _changes(self, then: dict) -> list[str]:
        changes = []
        instance = self.instance
        for name, value in self.now["fields"].items():
            old = then.get("fields", {}).get(name, value)
            if old == value:
                continue
            label = str(instance._meta.get_field(name).verbose_name)
            old_shown, new_shown = _shown(instance, name, old), _shown(instance, name, value)
            changes.append(f"{label[:1].upper()}{label[1:]}: {old_shown} → {new_shown}")
            if name in self.fields:
                self.add_error(
                    name,
                    gettext(
                        "Changed meanwhile to “%(new)s” (it was “%(old)s” when you opened the "
                        "page). Save again to replace it with what is in the field now."
                    )
                    % {"new": new_shown, "old": old_shown},
                )
        old_lines = then.get("fee_lines", {})
        for pk, line in old_lines.items():
            if pk not in self.now["fee_lines"]:
                changes.append(
                    gettext("fee line “%(line)s” removed") % {"line": _fee_line_shown(line)}
                )
        for pk, line in self.now["fee_lines"].items():
            if pk not in old_lines:
                changes.append(
                    gettext("fee line “%(line)s” added") % {"line": _fee_line_shown(line)}
                )
        seen_history = then.get("history", self.now["history"])
        if changes and self.now["history"] > seen_history:
            for entry in instance.history.select_related("actor")[seen_history:]:
                changes.append(
                    gettext("%(event)s by %(actor)s at %(at)s")
                    % {
                        "event": entry.get_to_status_display(),
                        "actor": entry.actor.get_username()
                        if entry.actor
                        else gettext("the system"),
                        "at": timezone.localtime(entry.at).strftime("%Y-%m-%d %H:%M"),
                    }
                )
        return changes


def _no_page(changelist, request):
    # The export reads the changelist's filtered queryset, never its page or its counts. Its SQL
    # is built here (nothing runs; a filter no row can match is an empty file, rightly): the file
    # streams, and a lookup the database cannot take (`?submitted_at__year=99999`) must be a bad
    # filter now, as RobustChangeList makes it on the list, not fail half-way through a download.
    try:
        with contextlib.suppress(EmptyResultSet):
            changelist.queryset.query.sql_with_params()
    except (OverflowError, ValueError) as exc:
        raise IncorrectLookupParameters(exc) from exc
    changelist.result_count = changelist.full_result_count = None
    changelist.result_list = []
    changelist.can_show_all = changelist.multi_page = False
    changelist.show_full_result_count = False


class OverdueFilter(admin.SimpleListFilter):
    """Open requests whose valid-until date has passed (the dashboard links here)."""

    title = _("valid until")
    parameter_name = "overdue"

    def lookups(self, request, model_admin):
        return [("yes", _("Passed, still open"))]

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.filter(status__in=OPEN_STATUSES, valid_until__lt=timezone.localdate())
        return queryset


_PMID_IN_REMARKS = re.compile(r"\bPMID: ?([0-9]{1,9})\b")


# What a search term is, by its shape: each kind is looked up on its own index, never OR'ed
# with a scan of every title (README, "Benchmarks").
_NUMBER = re.compile(r"[0-9]{1,10}")
_ISSN = re.compile(r"([0-9]{4})-?([0-9]{3}[0-9X])")
_ISBN = re.compile(r"(?:[0-9]{9}[0-9X]|[0-9]{13})")


def _as_doi(term: str) -> str:
    try:
        return normalize_doi(term)
    except ValidationError:
        return ""


def search_requests(queryset, search_term: str):
    """The change list's search: a request number, ISSN, ISBN or DOI exactly; any other text in
    the titles (trigram indexes on PostgreSQL) or naming the reader (readers.search)."""
    term = to_halfwidth(search_term).strip()
    if not term:
        return queryset
    compact = term.replace("-", "").replace(" ", "").upper()
    if _NUMBER.fullmatch(term):
        condition = Q(number=int(term)) if 0 < int(term) <= NUMBER_MAX else Q(pk__in=[])
        if _ISBN.fullmatch(compact):
            condition |= Q(isbn=compact)
        return queryset.filter(condition)
    if match := _ISSN.fullmatch(term.upper()):
        return queryset.filter(issn=f"{match[1]}-{match[2]}")
    if _ISBN.fullmatch(compact):
        return queryset.filter(isbn=compact)
    if doi := _as_doi(term):
        # In any case, and pasted as a doi.org link or with a "doi:" label.
        return queryset.filter(doi__iexact=doi)
    readers = list(reader_ids_matching(term)[:READERS_SEARCHED])
    # An old system's request not linked to a reader yet is found by its old username (on
    # the accounts' case-insensitive unique index).
    legacy = list(
        LegacyAccount.objects.annotate(lower=Lower("username"))
        .filter(lower=term.lower())
        .values_list("pk", flat=True)[:READERS_SEARCHED]
    )
    condition = Q(publication_title__icontains=term) | Q(article_title__icontains=term)
    # A guest of the public account (no reader) by the contact block's e-mail or name, on the
    # partial indexes over guests' requests only.
    if "@" in term:
        condition |= Q(is_guest=True, contact_email__in={term, term.lower()})
    else:
        condition |= Q(is_guest=True, contact_name=term)
    if readers:
        condition |= Q(reader__in=readers)
    if legacy:
        condition |= Q(legacy_account__in=legacy)
    return queryset.filter(condition)


@admin.register(IllRequest)
class IllRequestAdmin(GatewayAdminMixin, admin.ModelAdmin):
    list_display = [
        "number",
        "publication_title",
        "owner",
        "service_type",
        "status",
        "cancellation_requested",
        "urgency",
        "submitted_at",
    ]
    list_filter = [
        "status",
        "cancellation_requested",
        "service_type",
        "document_type",
        "urgency",
        "origin",
        GuestFilter,
        OverdueFilter,
        "supplier",
        recent_date_filter("submitted_at", _("request date")),
    ]
    # What is searched, and how, is `search_requests` (get_search_results): by the term's shape.
    search_fields = ["number", "publication_title", "article_title", "reader__name"]
    list_select_related = ["reader", "reader__user"]
    raw_id_fields = ["reader"]
    readonly_fields = [
        "number",
        "reader",
        "legacy_account",
        "status",
        "cancellation_requested",
        "quote",
        "return_date",
        "origin",
        "is_guest",
        "submitted_at",
        "updated_at",
        "pubmed_links",
    ]
    inlines = [FeeLineInline, GuestPaymentInline, StatusChangeInline]
    form = IllRequestAdminForm
    actions = [_bulk_action(target) for target in BULK_TARGETS] + ["refuse_cancellation"]
    change_form_template = "admin/requests_app/illrequest/change_form.html"
    change_list_template = "admin/requests_app/illrequest/change_list.html"

    @admin.display(description=_("reader"), ordering="reader__name")
    def owner(self, obj):
        # A guest has no reader: their contact block says who they are.
        if obj.is_guest:
            return gettext("Guest: %(name)s <%(email)s>") % {
                "name": obj.contact_name,
                "email": obj.contact_email,
            }
        return obj.reader if obj.reader_id else "—"

    def get_inlines(self, request, obj):
        if obj is not None and obj.is_guest:
            return self.inlines
        return [inline for inline in self.inlines if inline is not GuestPaymentInline]

    @admin.display(description=_("PubMed"))
    def pubmed_links(self, obj):
        """The PMIDs an OpenURL put in the remarks ("PMID: 19204306"), as links to PubMed."""
        pmids = list(dict.fromkeys(_PMID_IN_REMARKS.findall(obj.remarks or "")))
        if not pmids:
            return "-"
        return format_html_join(
            ", ",
            '<a href="https://pubmed.ncbi.nlm.nih.gov/{}/" rel="noopener noreferrer">PMID {}</a>',
            ((pmid, pmid) for pmid in pmids),
        )

    def audit_related(self, obj):
        # The fee lines' changes (and a guest's payments) belong on the request's history page
        # (their audit entries carry the request, see FeeLine.get_additional_data).
        return Q(
            content_type__in=[
                ContentType.objects.get_for_model(FeeLine),
                ContentType.objects.get_for_model(GuestPayment),
            ],
            additional_data__request_id=obj.pk,
        ) | Q(
            # Its electronic delivery's too (Delivery.get_additional_data).
            content_type=ContentType.objects.get_for_model(Delivery),
            additional_data__request_id=obj.pk,
        )

    def get_search_results(self, request, queryset, search_term):
        return search_requests(queryset, search_term), False

    def has_add_permission(self, request):
        # Requests come from readers (and from the legacy import), not from the back office.
        return False

    def has_delete_permission(self, request, obj=None):
        # Cancelled requests are kept: statistics and history need them.
        return False

    @admin.action(
        description=_("Refuse the cancellation the reader asked for"), permissions=["change"]
    )
    def refuse_cancellation(self, request, queryset):
        apply_to_each_row(
            self,
            request,
            queryset,
            lambda ill_request: request_refuse_cancellation(
                ill_request=ill_request, actor=request.user
            ),
            refused=TransitionError,
            done_message=_(
                "Cancellation refused for %(count)d request(s): they go on as before; "
                "the readers are told by e-mail."
            ),
        )

    def save_model(self, request, obj, form, change):
        """Write only the fields staff changed on this form, and only the reader's details.

        Django's own save writes every column from the copy loaded when the form was posted:
        a status change made meanwhile (the reader cancelling, say) would be undone while its
        history entry stays. The status, the cancellation request, the quote and the return
        date belong to the lifecycle and are never written from here.
        """
        if not change:
            super().save_model(request, obj, form, change)
            return
        fields = [name for name in form.changed_data if name in _EDITED_FIELDS]
        if fields:
            obj.save(update_fields=[*fields, "updated_at"])

    def get_changelist(self, request, **kwargs):
        changelist = super().get_changelist(request, **kwargs)
        if getattr(request, "csv_export", False):
            return type("ExportChangeList", (changelist,), {"get_results": _no_page})
        return changelist

    def export_view(self, request):
        """The changelist's rows as CSV: the same filters, search and order, every page."""
        if not self.has_view_or_change_permission(request):
            raise PermissionDenied
        request.csv_export = True
        try:
            changelist = self.get_changelist_instance(request)
        except IncorrectLookupParameters:
            return redirect(reverse("admin:requests_app_illrequest_changelist") + "?e=1")
        return export_response(changelist.queryset)

    def get_urls(self):
        info = self.opts.app_label, self.opts.model_name
        return [
            path(
                "export/",
                self.admin_site.admin_view(self.export_view),
                name="{}_{}_export".format(*info),
            ),
            path(
                "<int:pk>/guest-payment/",
                self.admin_site.admin_view(self.guest_payment_view),
                name="{}_{}_guest_payment".format(*info),
            ),
            path(
                "<int:pk>/transition/",
                self.admin_site.admin_view(self.transition_view),
                name="{}_{}_transition".format(*info),
            ),
            *delivery_urls(self),
            *super().get_urls(),
        ]

    def render_change_form(self, request, context, *args, obj=None, **kwargs):
        if obj is not None:
            context["allowed_transitions"] = [
                (value, Status(value).label) for value in request_allowed_transitions(obj)
            ]
            context.update(delivery_context(obj))
        return super().render_change_form(request, context, *args, obj=obj, **kwargs)

    def guest_payment_view(self, request, pk):
        """Record what a guest paid for their request (a guest has no prepaid account)."""
        ill_request = get_object_or_404(IllRequest.objects.with_total_fee(), pk=pk, is_guest=True)
        if not self.has_change_permission(request, ill_request) or not request.user.has_perm(
            "requests_app.add_guestpayment"
        ):
            raise PermissionDenied
        form = GuestPaymentForm(request.POST if request.method == "POST" else None)
        if request.method == "POST" and form.is_valid():
            try:
                _payment, message = guest_payment_record(
                    ill_request=ill_request, actor=request.user, **form.cleaned_data
                )
            except TransitionError as exc:
                form.add_error(None, str(exc))
            else:
                self.message_user(request, message, messages.SUCCESS)
                return redirect(reverse("admin:requests_app_illrequest_change", args=[pk]))
        paid = guest_paid(ill_request)
        return TemplateResponse(
            request,
            "admin/requests_app/illrequest/guest_payment.html",
            {
                **self.admin_site.each_context(request),
                "opts": self.opts,
                "original": ill_request,
                "form": form,
                "paid": paid,
                "still_due": max(ill_request.total_fee - paid, Decimal("0")),
                "title": _("Record the guest's payment for request %(number)s")
                % {"number": ill_request.number},
            },
        )

    def transition_view(self, request, pk):
        ill_request = get_object_or_404(IllRequest, pk=pk)
        if not self.has_change_permission(request, ill_request):
            raise PermissionDenied
        form = TransitionForm(
            request.POST if request.method == "POST" else None, ill_request=ill_request
        )
        # The change page's buttons name the status to preselect. One that is not allowed from
        # here (the request moved on meanwhile, or a hand-made address) preselects nothing:
        # choosing another status in its place would have Save do what nobody asked for.
        asked = request.GET.get("to", "")
        if asked in form.allowed:
            form.initial["to"] = asked
        elif asked and request.method != "POST":
            self.message_user(
                request,
                _(
                    "Request %(number)s cannot go from “%(from)s” to “%(to)s”: "
                    "nothing is preselected, choose the new status below."
                )
                % {
                    "number": ill_request.number,
                    "from": ill_request.get_status_display(),
                    "to": Status(asked).label if asked in Status.values else asked,
                },
                messages.WARNING,
            )
        if request.method == "POST" and form.is_valid():
            try:
                moved = request_transition(
                    ill_request=ill_request,
                    to=form.cleaned_data["to"],
                    actor=request.user,
                    note=form.cleaned_data["note"],
                    visible=form.cleaned_data["visible"],
                    quote=form.cleaned_data.get("quote"),
                    return_date=form.cleaned_data.get("return_date"),
                )
            except TransitionError as exc:
                form.add_error(exc.field if exc.field in form.fields else None, str(exc))
            else:
                if moved.status != form.cleaned_data["to"]:
                    self.message_user(request, _awaits_payment(moved), messages.WARNING)
                else:
                    self.message_user(
                        request,
                        _("Request %(number)s is now “%(status)s”; the reader is told by e-mail.")
                        % {
                            "number": ill_request.number,
                            "status": Status(form.cleaned_data["to"]).label,
                        },
                        messages.SUCCESS,
                    )
                return redirect(reverse("admin:requests_app_illrequest_change", args=[pk]))
        return TemplateResponse(
            request,
            "admin/requests_app/illrequest/transition.html",
            {
                **self.admin_site.each_context(request),
                "opts": self.opts,
                "original": ill_request,
                "form": form,
                "title": _("Change the status of request %(number)s")
                % {"number": ill_request.number},
            },
        )


@admin.register(Supplier)
class SupplierAdmin(GatewayAdminMixin, admin.ModelAdmin):
    """The list of suppliers staff keep; a request's page chooses among the active ones."""

    form = CleanTextModelForm
    list_display = ["name_zh", "name_en", "kind", "active"]
    list_filter = ["kind", "active"]
    search_fields = ["name_zh", "name_en"]
