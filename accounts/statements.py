"""Statements as files: CSV that Excel opens with Chinese text intact, for readers and finance.

UTF-8 with a byte-order mark (without it Excel reads the file as the local ANSI code page and
the Chinese turns to mojibake), amounts as plain decimals with two places and a point, times in
the portal's time zone. Text that a spreadsheet would take for a formula is quoted.
"""

import csv
from collections import defaultdict
from decimal import Decimal

from django.http import HttpResponse
from django.utils import timezone
from django.utils.translation import gettext as _

from .models import EntryKind

BOM = "\ufeff"
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def text_cell(value) -> str:
    """Free text as a spreadsheet cell that is never run as a formula."""
    value = "" if value is None else str(value)
    return "'" + value if value.startswith(FORMULA_STARTS) else value


def amount_cell(value: Decimal) -> str:
    return f"{value:.2f}"


def csv_response(filename: str) -> tuple[HttpResponse, "csv._writer"]:
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response.write(BOM)
    return response, csv.writer(response)


def write_reader_statement(writer, entries) -> None:
    writer.writerow(
        [
            _("Reference number"),
            _("Time"),
            _("Kind"),
            _("Amount (yuan)"),
            _("Balance after (yuan)"),
            _("Payment method"),
            _("Request number"),
            _("Title"),
            _("Note"),
        ]
    )
    for entry in entries:
        writer.writerow(
            [
                entry.number,
                timezone.localtime(entry.at).strftime("%Y-%m-%d %H:%M"),
                entry.get_kind_display(),
                amount_cell(entry.amount),
                amount_cell(entry.balance_after),
                entry.get_method_display() if entry.method else "",
                entry.request_number or "",
                text_cell(entry.request_title),
                text_cell(entry.note_text),
            ]
        )


def _holder_cells(entry) -> list[str]:
    """The reader's name and username; for an old account's entry its name and old username."""
    if entry.reader_id:
        return [text_cell(entry.reader.name), text_cell(entry.reader.user.get_username())]
    old = entry.legacy_account
    return [
        text_cell(old.name),
        text_cell(_("old system account %(username)s") % {"username": old.username}),
    ]


def write_finance_export(writer, entries) -> None:
    """Every entry, then the total per day and kind, then per kind, for the finance office.

    A moved old account's money shows as both halves of its transfer, the old account's and the
    reader's: they cancel out in the totals of all kinds together.
    """
    writer.writerow(
        [
            _("Reference number"),
            _("Time"),
            _("Reader"),
            _("Username"),
            _("Kind"),
            _("Amount (yuan)"),
            _("Balance after (yuan)"),
            _("Payment method"),
            _("Request number"),
            _("Title"),
            _("By"),
            _("Note"),
        ]
    )
    per_day = defaultdict(lambda: [0, Decimal("0.00")])
    per_kind = defaultdict(lambda: [0, Decimal("0.00")])
    for entry in entries:
        local = timezone.localtime(entry.at)
        writer.writerow(
            [
                entry.number,
                local.strftime("%Y-%m-%d %H:%M"),
                *_holder_cells(entry),
                entry.get_kind_display(),
                amount_cell(entry.amount),
                amount_cell(entry.balance_after),
                entry.get_method_display() if entry.method else "",
                entry.request_number or "",
                text_cell(entry.request_title),
                text_cell(entry.actor.get_username() if entry.actor else ""),
                text_cell(entry.note_text),
            ]
        )
        for totals, key in ((per_day, (local.date(), entry.kind)), (per_kind, entry.kind)):
            totals[key][0] += 1
            totals[key][1] += entry.amount
    writer.writerow([])
    writer.writerow([_("Total per day and kind")])
    writer.writerow([_("Date"), _("Kind"), _("Entries"), _("Amount (yuan)")])
    for (day, kind), (count, total) in sorted(per_day.items()):
        writer.writerow([day.isoformat(), EntryKind(kind).label, count, amount_cell(total)])
    writer.writerow([])
    writer.writerow([_("Total per kind")])
    writer.writerow([_("Kind"), _("Entries"), _("Amount (yuan)")])
    for kind, (count, total) in sorted(per_kind.items()):
        writer.writerow([EntryKind(kind).label, count, amount_cell(total)])
