"""The reader's account pages (帐户管理): balance, statement, CSV, printable receipt.

Everything is read through the signed-in reader (`LedgerEntry.objects.for_reader`), and no
address carries a reader or entry id, so nobody reaches another reader's money.
"""

from urllib.parse import urlencode

from django.conf import settings
from django.core.paginator import Paginator
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from readers.decorators import confirmed_reader_required

from .dues import dues_for
from .ledger import ZERO, ledger_balance
from .ledger_forms import DateRangeForm
from .models import PAYMENT_KINDS, EntryKind, LedgerEntry
from .statements import csv_response, write_reader_statement

RECENT_ENTRIES = 5
# What a receipt for reimbursement (报销) lists: what the reader paid for requests.
RECEIPT_KINDS = [EntryKind.CHARGE, EntryKind.REFUND]


def _filtered_entries(request):
    form = DateRangeForm(request.GET or None)
    start, end = form.range
    entries = LedgerEntry.objects.for_reader(request.user.reader).between(start, end)
    params = {key: value.isoformat() for key, value in (("start", start), ("end", end)) if value}
    return form, entries.order_by("-at", "-number"), params


@confirmed_reader_required
@require_GET
def account(request):
    """帐户管理: the balance, anything due and for which request, recent entries, the links."""
    reader = request.user.reader
    balance = ledger_balance(reader)
    dues = dues_for(reader)
    due_total = sum((due.amount for due in dues), ZERO)
    return render(
        request,
        "accounts/account.html",
        {
            "balance": balance,
            "owing": -balance if balance < 0 else None,
            "dues": dues,
            "due_total": due_total,
            "shortfall": max(due_total - max(balance, ZERO), ZERO),
            "recent": LedgerEntry.objects.for_reader(reader).order_by("-at", "-number")[
                :RECENT_ENTRIES
            ],
            "block_when_owing": settings.BLOCK_REQUESTS_WHEN_OWING,
        },
    )


@confirmed_reader_required
@require_GET
def statement(request):
    """The statement: every entry, newest first, filtered by date, a page at a time."""
    form, entries, params = _filtered_entries(request)
    page = Paginator(entries, settings.LEDGER_ENTRIES_PER_PAGE).get_page(request.GET.get("page"))
    return render(
        request,
        "accounts/statement.html",
        {
            "form": form,
            "page_obj": page,
            "query_string": urlencode(params),
            "balance": ledger_balance(request.user.reader),
        },
    )


@confirmed_reader_required
@require_GET
def statement_csv(request):
    """The statement (with the same date filter) as a CSV file that Excel opens correctly."""
    form, entries, params = _filtered_entries(request)
    today = timezone.localdate().isoformat()
    name = "-".join(["statement", params.get("start", ""), params.get("end", today)])
    response, writer = csv_response(name.replace("--", "-") + ".csv")
    write_reader_statement(writer, entries.order_by("at", "number").iterator())
    return response


@confirmed_reader_required
@require_GET
def receipt(request):
    """A printable statement of what the reader paid for requests in a date range (报销)."""
    reader = request.user.reader
    form = DateRangeForm(request.GET or None, require_both=True)
    context = {"form": form, "reader": reader, "library_name": settings.LIBRARY_NAME}
    if form.is_bound and form.is_valid():
        start, end = form.range
        in_range = LedgerEntry.objects.for_reader(reader).between(start, end)
        lines = list(in_range.filter(kind__in=RECEIPT_KINDS).order_by("at", "number"))
        for line in lines:
            # Charges are stored below 0: the receipt shows what was paid as above 0.
            line.paid = -line.amount
        payments = in_range.filter(kind__in=PAYMENT_KINDS)
        context.update(
            {
                "start": start,
                "end": end,
                "lines": lines,
                "total": sum((line.paid for line in lines), ZERO),
                "payments": payments.order_by("at", "number"),
                "printed_at": timezone.now(),
            }
        )
    else:
        today = timezone.localdate()
        if not form.is_bound:
            context["form"] = DateRangeForm(
                initial={"start": today.replace(month=1, day=1), "end": today},
                require_both=True,
            )
    return render(request, "accounts/receipt.html", context)
