"""The old system's accounts in the admin: staff see and search them; nobody edits or deletes them.

Staff with the permission `accounts.link_legacyaccount` (the ILL office has it) link an account
to a reader — as the account the reader continues with, or attached as history — which the
reader cannot do themselves for a disabled account or one without a password, and move an
attached account's balance into the reader's ledger (a transfer pair: the old account's page
lists its own entries). Both go through `accounts.legacy_link`.
"""

from django import forms
from django.contrib import admin, messages
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from core.adminbase import GatewayAdminMixin
from readers.models import Reader

from .ledger import ledger_legacy_balance
from .legacy import LegacyAccount, LinkKind
from .legacy_link import LegacyLinkError, legacy_attach, legacy_link, legacy_move_balance
from .models import LedgerEntry

LINK_PERMISSION = "accounts.link_legacyaccount"


class StaffLinkForm(forms.Form):
    reader = forms.CharField(
        label=_("Reader's gateway username"),
        max_length=150,
        help_text=_("As shown on the reader's page in the back office."),
    )
    kind = forms.ChoiceField(
        label=_("Link as"),
        choices=LinkKind.choices,
        initial=LinkKind.LINKED,
        widget=forms.RadioSelect,
    )

    def clean_reader(self):
        username = self.cleaned_data["reader"].strip()
        reader = Reader.objects.filter(user__username__iexact=username).first()
        if reader is None:
            raise forms.ValidationError(_("No reader has this username."))
        return reader


@admin.register(LegacyAccount)
class LegacyAccountAdmin(GatewayAdminMixin, admin.ModelAdmin):
    list_display = [
        "user_id",
        "username",
        "name",
        "id_type",
        "id_number",
        "reader_type",
        "balance",
        "status",
        "reader",
        "link_kind",
        "linked_at",
    ]
    list_filter = [
        "status",
        "reader_type",
        "id_type",
        "link_kind",
        ("reader", admin.EmptyFieldListFilter),
    ]
    search_fields = ["username", "name", "id_number"]
    list_select_related = ["reader"]
    show_full_result_count = False
    fields = [
        "user_id",
        "username",
        "usable_password",
        "name",
        "email",
        "id_type",
        "id_number",
        "reader_type",
        "institution",
        "phone",
        "address",
        "postal_code",
        "balance",
        "balance_left",
        "entries",
        "status",
        "created_at",
        "last_login",
        "reader",
        "link_kind",
        "linked_at",
        "linked_by",
        "imported_at",
        "staff_actions",
    ]
    readonly_fields = fields

    @admin.display(description=_("usable password"), boolean=True)
    def usable_password(self, obj):
        return obj.has_usable_password

    @admin.display(description=_("balance left on it"))
    def balance_left(self, obj):
        # The imported balance plus the account's own entries: 0 once moved to the reader.
        return ledger_legacy_balance(obj)

    @admin.display(description=_("ledger entries"))
    def entries(self, obj):
        # A moved account's entries (its half of each transfer), each naming its other half.
        entries = (
            LedgerEntry.objects.for_legacy_account(obj)
            .select_related("counterpart__reader", "counterpart_of__reader")
            .order_by("number")
        )
        lines = [(self._entry_line(entry),) for entry in entries]
        return format_html_join("\n", "<div>{}</div>", lines) if lines else "—"

    @staticmethod
    def _entry_line(entry):
        line = format_html(
            '<a href="{}">{}</a> {} · {} {} · {}',
            reverse("admin:accounts_ledgerentry_change", args=[entry.pk]),
            entry.number,
            date_format(timezone.localtime(entry.at), "Y-m-d H:i"),
            entry.get_kind_display(),
            entry.amount,
            gettext("balance after %(balance)s") % {"balance": entry.balance_after},
        )
        other = entry.transfer_partner()
        if other is None:
            return line
        return format_html(
            '{} · {} <a href="{}">{}</a> ({}, {})',
            line,
            gettext("other half:"),
            reverse("admin:accounts_ledgerentry_change", args=[other.pk]),
            other.number,
            other.holder,
            other.amount,
        )

    def audit_related(self, obj):
        # The account's own ledger entries (its half of a move) belong on its history page.
        return Q(
            content_type=ContentType.objects.get_for_model(LedgerEntry),
            object_id__in=LedgerEntry.objects.for_legacy_account(obj).values("pk"),
        )

    @admin.display(description=_("actions"))
    def staff_actions(self, obj):
        if obj.reader_id is None:
            return format_html(
                '<a class="button" href="{}">{}</a>',
                reverse("admin:accounts_legacyaccount_link", args=[obj.pk]),
                gettext("Link to a reader"),
            )
        if obj.link_kind == LinkKind.ATTACHED and ledger_legacy_balance(obj):
            return format_html(
                '<a class="button" href="{}">{}</a>',
                reverse("admin:accounts_legacyaccount_move", args=[obj.pk]),
                gettext("Move its balance to the reader's account"),
            )
        return "—"

    def get_fields(self, request, obj=None):
        if self._may_link(request):
            return self.fields
        return [name for name in self.fields if name != "staff_actions"]

    def _may_link(self, request):
        return request.user.has_perm(LINK_PERMISSION)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def get_urls(self):
        return [
            path(
                "<int:pk>/link/",
                self.admin_site.admin_view(self.link_view),
                name="accounts_legacyaccount_link",
            ),
            path(
                "<int:pk>/move-balance/",
                self.admin_site.admin_view(self.move_view),
                name="accounts_legacyaccount_move",
            ),
            *super().get_urls(),
        ]

    def _page(self, request, account, title, **context):
        return TemplateResponse(
            request,
            "admin/accounts/legacy_action.html",
            {
                **self.admin_site.each_context(request),
                "opts": self.opts,
                "title": title,
                "legacy": account,
                **context,
            },
        )

    def link_view(self, request, pk):
        if not self._may_link(request):
            raise PermissionDenied
        account = get_object_or_404(LegacyAccount, pk=pk)
        change_url = reverse("admin:accounts_legacyaccount_change", args=[pk])
        form = StaffLinkForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            reader = form.cleaned_data["reader"]
            try:
                if form.cleaned_data["kind"] == LinkKind.LINKED:
                    legacy_link(legacy_account=account, reader=reader, actor=request.user)
                else:
                    legacy_attach(
                        legacy_account=account,
                        reader=reader,
                        actor=request.user,
                        same_person=False,
                    )
            except LegacyLinkError as error:
                form.add_error(None, str(error))
            else:
                self.message_user(
                    request,
                    gettext("%(account)s is linked to %(reader)s.")
                    % {"account": account.username, "reader": reader},
                    messages.SUCCESS,
                )
                return redirect(change_url)
        return self._page(
            request,
            account,
            gettext("Link old account %(username)s to a reader") % {"username": account.username},
            form=form,
            change_url=change_url,
        )

    def move_view(self, request, pk):
        if not self._may_link(request):
            raise PermissionDenied
        account = get_object_or_404(LegacyAccount.objects.select_related("reader"), pk=pk)
        change_url = reverse("admin:accounts_legacyaccount_change", args=[pk])
        error = None
        if request.method == "POST":
            try:
                entry = legacy_move_balance(legacy_account=account, actor=request.user)
            except LegacyLinkError as refusal:
                error = str(refusal)
            else:
                self.message_user(
                    request,
                    gettext(
                        "%(amount)s yuan moved to %(reader)s's account (entries %(out)s and "
                        "%(in)s)."
                    )
                    % {
                        "amount": entry.amount,
                        "reader": account.reader,
                        "out": entry.counterpart.number,
                        "in": entry.number,
                    },
                    messages.SUCCESS,
                )
                return redirect(change_url)
        return self._page(
            request,
            account,
            gettext("Move the balance of old account %(username)s")
            % {"username": account.username},
            move=True,
            balance_left=ledger_legacy_balance(account),
            error=error,
            change_url=change_url,
        )
