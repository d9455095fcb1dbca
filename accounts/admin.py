"""Staff's side of the prepaid ledger: entries are only added, through `accounts.ledger`.

From a reader's admin page staff record deposits, payments, refunds and adjustments (a form that
only creates entries) and open the reader's statement; the entries' list exports a date range
as CSV for the finance office; the balances' list shows who owes money. Nothing here changes
or deletes an entry.
"""

from django.contrib import admin, messages
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from core.adminbase import GatewayAdminMixin, recent_date_filter
from readers.admin import ReaderAdmin
from readers.models import Reader
from readers.search import reader_ids_matching

from .dues import due_proceed, dues_for
from .ledger import LedgerError, ledger_balance, ledger_record
from .ledger_forms import DateRangeForm, EntryForm
from .models import Account, EntryKind, LedgerEntry
from .statements import csv_response, write_finance_export

# PostgreSQL's integer: a longer number is no entry's.
NUMBER_MAX = 2_147_483_647


class OwingFilter(admin.SimpleListFilter):
    title = _("balance")
    parameter_name = "owing"

    def lookups(self, request, model_admin):
        return [("yes", _("Below 0 (owing)")), ("no", _("0 or more"))]

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.filter(balance__lt=0)
        if self.value() == "no":
            return queryset.filter(balance__gte=0)
        return queryset


class ReadOnlyMixin:
    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Account)
class AccountAdmin(GatewayAdminMixin, ReadOnlyMixin, admin.ModelAdmin):
    """Each reader's balance; filter "below 0" for the readers who owe money."""

    list_display = ["reader", "balance", "updated_at"]
    list_filter = [OwingFilter]
    search_fields = ["reader__name", "reader__user__username"]
    list_select_related = ["reader__user"]
    fields = ["reader", "balance", "updated_at"]
    # On the (balance, reader) index: the model's order by the reader's name (and "reader",
    # which orders by the reader's own order) would sort every balance after a join.
    ordering = ["balance", "reader_id"]

    def get_search_results(self, request, queryset, search_term):
        if not search_term.strip():
            return queryset, False
        return queryset.filter(reader__in=reader_ids_matching(search_term)), False

    def has_add_permission(self, request):
        return False


# The largest primary key (a 64-bit integer on every database).
PK_MAX = 2**63 - 1


def _whole_number(text: str, maximum: int) -> int | None:
    """`text` as a whole number up to `maximum`, else None: ASCII digits only ("²" is a digit
    to str.isdigit() but not to int()), and no more of them than `maximum` has."""
    if text.isascii() and text.isdigit() and len(text) <= len(str(maximum)):
        number = int(text)
        return number if number <= maximum else None
    return None


@admin.register(LedgerEntry)
class LedgerEntryAdmin(GatewayAdminMixin, ReadOnlyMixin, admin.ModelAdmin):
    list_display = [
        "number",
        "at",
        "reader",
        "legacy_account",
        "kind",
        "amount",
        "balance_after",
        "method",
        "request_number",
        "actor",
    ]
    list_filter = ["kind", "method", recent_date_filter("at", _("time"))]
    search_fields = ["=number", "=request_number", "reader__name", "reader__user__username"]
    list_select_related = ["reader__user", "legacy_account", "actor"]
    change_list_template = "admin/accounts/ledgerentry/change_list.html"
    fields = [
        "number",
        "at",
        "reader",
        "legacy_account",
        "transfer_other_half",
        "kind",
        "amount",
        "balance_after",
        "method",
        "request_number",
        "request_title",
        "actor",
        "note_text",
    ]
    readonly_fields = fields

    @admin.display(description=_("note"))
    def note_text(self, obj):
        return obj.note_text

    @admin.display(description=_("other half of the transfer"))
    def transfer_other_half(self, obj):
        other = obj.transfer_partner()
        if other is None:
            return "—"
        return format_html(
            '<a href="{}">{}</a> ({}, {} {})',
            reverse("admin:accounts_ledgerentry_change", args=[other.pk]),
            other.number,
            other.holder,
            other.get_kind_display(),
            other.amount,
        )

    def get_search_results(self, request, queryset, search_term):
        # A number is an entry's or a request's (each on its index); anything else a reader.
        term = search_term.strip()
        if not term:
            return queryset, False
        if (number := _whole_number(term, NUMBER_MAX)) is not None:
            return queryset.filter(Q(number=number) | Q(request_number=number)), False
        return queryset.filter(reader__in=reader_ids_matching(term)), False

    def get_urls(self):
        return [
            path(
                "record/<int:reader_pk>/",
                self.admin_site.admin_view(self.record_view),
                name="accounts_ledgerentry_record",
            ),
            path(
                "export/",
                self.admin_site.admin_view(self.export_view),
                name="accounts_ledgerentry_export",
            ),
            *super().get_urls(),
        ]

    def add_view(self, request, form_url="", extra_context=None):
        # An entry belongs to a reader: it is recorded from the reader's page.
        if not self.has_add_permission(request):
            raise PermissionDenied
        self.message_user(
            request,
            gettext("Open the reader and press “Record a payment or entry”."),
            messages.INFO,
        )
        return redirect("admin:readers_reader_changelist")

    def record_view(self, request, reader_pk):
        if not self.has_add_permission(request):
            raise PermissionDenied
        reader = get_object_or_404(Reader.objects.select_related("user"), pk=reader_pk)
        dues = dues_for(reader)
        initial = {}
        number = _whole_number(request.GET.get("request", ""), NUMBER_MAX)
        if request.method != "POST" and number is not None:
            due = next((d for d in dues if d.request_number == number), None)
            if due:
                shortfall = max(due.amount - ledger_balance(reader), 0)
                initial = {"kind": EntryKind.DEPOSIT, "request_number": number}
                if shortfall:
                    initial["amount"] = shortfall
        form = EntryForm(request.POST or None, initial=initial)
        if (
            request.method == "POST"
            and form.is_valid()
            and self._record(request, reader, form, dues)
        ):
            return redirect(
                reverse("admin:accounts_ledgerentry_changelist") + f"?reader__id__exact={reader.pk}"
            )
        return TemplateResponse(
            request,
            "admin/accounts/record_entry.html",
            {
                **self.admin_site.each_context(request),
                "opts": self.opts,
                "title": gettext("Record a payment or entry for %(reader)s") % {"reader": reader},
                "reader": reader,
                "balance": ledger_balance(reader),
                "dues": dues,
                "form": form,
            },
        )

    def _record(self, request, reader, form, dues) -> bool:
        data = form.cleaned_data
        number = data["request_number"]
        due = next((d for d in dues if d.request_number == number), None)
        if number and not due and data["kind"] != EntryKind.REFUND:
            # A number on any other entry is the request it pays for: one of this reader's
            # requests awaiting payment, never someone else's.
            form.add_error(
                "request_number",
                gettext(
                    "Request %(number)s is not awaiting payment from this reader: leave the "
                    "number empty, or give it for a refund."
                )
                % {"number": number},
            )
            return False
        title = due.title if due else ""
        if number and not title:
            title = (
                LedgerEntry.objects.for_reader(reader)
                .filter(request_number=number)
                .exclude(request_title="")
                .values_list("request_title", flat=True)
                .first()
                or ""
            )
        try:
            entry = ledger_record(
                reader=reader,
                kind=data["kind"],
                amount=data["amount"],
                actor=request.user,
                method=data["method"],
                note=data["note"],
                request_number=number,
                request_title=title,
                token=data["token"],
            )
        except LedgerError as exc:
            field = {"request": "request_number"}.get(exc.field, exc.field)
            form.add_error(field if field in form.fields else None, str(exc))
            return False
        self.message_user(
            request,
            gettext("Entry %(number)s recorded: %(kind)s %(amount)s yuan; balance %(balance)s.")
            % {
                "number": entry.number,
                "kind": entry.get_kind_display(),
                "amount": entry.amount,
                "balance": entry.balance_after,
            },
            messages.SUCCESS,
        )
        # The money is recorded whatever becomes of the request: going on with it is a second
        # step (and transaction) that may find it short, cancelled or already delivered.
        if due and entry.kind == EntryKind.DEPOSIT:
            done, said = due_proceed(reader=reader, request_number=number, actor=request.user)
            self.message_user(request, said, messages.SUCCESS if done else messages.WARNING)
        return True

    def export_view(self, request):
        if not self.has_view_permission(request):
            raise PermissionDenied
        form = DateRangeForm(request.GET or None, require_both=True)
        if form.is_bound and form.is_valid():
            start, end = form.range
            entries = (
                LedgerEntry.objects.between(start, end)
                .select_related("reader__user", "legacy_account", "actor")
                .order_by("at", "number")
            )
            response, writer = csv_response(f"ledger-{start.isoformat()}-{end.isoformat()}.csv")
            write_finance_export(writer, entries.iterator())
            return response
        today = timezone.localdate()
        if not form.is_bound:
            form = DateRangeForm(
                initial={"start": today.replace(day=1), "end": today}, require_both=True
            )
        return TemplateResponse(
            request,
            "admin/accounts/export.html",
            {
                **self.admin_site.each_context(request),
                "opts": self.opts,
                "title": gettext("Export ledger entries as CSV"),
                "form": form,
            },
        )


# The reader's admin page gains the account: its balance, statement and entry form. Registered
# from here, the app above readers (README "Architecture"), by extending readers' own admin.
admin.site.unregister(Reader)


@admin.register(Reader)
class ReaderWithAccountAdmin(ReaderAdmin):
    change_form_template = "admin/accounts/reader_change_form.html"

    def audit_related(self, obj):
        # The reader's ledger entries (append-only: their creation) are on the reader's history.
        return Q(
            content_type=ContentType.objects.get_for_model(LedgerEntry),
            object_id__in=LedgerEntry.objects.filter(reader=obj).values("pk"),
        )

    def change_view(self, request, object_id, form_url="", extra_context=None):
        extra = {}
        # Anything but a primary key Django's own view answers with 404.
        if (pk := _whole_number(str(object_id or ""), PK_MAX)) is not None:
            extra = {
                "ledger_balance": ledger_balance(pk),
                "ledger_may_record": request.user.has_perm("accounts.add_ledgerentry"),
                "ledger_may_view": request.user.has_perm("accounts.view_ledgerentry"),
            }
        return super().change_view(request, object_id, form_url, {**extra, **(extra_context or {})})


from . import legacy_admin  # noqa: E402, F401  (the old system's accounts)
