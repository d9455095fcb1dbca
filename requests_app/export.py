"""The request list as CSV for staff: the admin changelist's rows, with its filters and search,
streamed so that 100,000 rows cost no memory.

UTF-8 with a byte-order mark (Excel reads Chinese right only with it), amounts with two places,
times in the portal's time zone; free text that a spreadsheet would run as a formula is quoted
(the cells of `accounts.statements`).
"""

import csv

from django.http import StreamingHttpResponse
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.statements import BOM, amount_cell, text_cell

CHUNK_SIZE = 2000


class _Line:
    """csv.writer's file: each row written is handed back as a string."""

    def write(self, value):
        return value


def _time(value) -> str:
    return timezone.localtime(value).strftime("%Y-%m-%d %H:%M") if value else ""


def _date(value) -> str:
    return value.isoformat() if value else ""


def export_columns():
    return [
        _("Request number"),
        _("Reader"),
        _("Username"),
        _("Service type"),
        _("Document type"),
        _("Publication title"),
        _("Article title"),
        "ISSN",
        "ISBN",
        "DOI",
        _("Status"),
        _("Request date"),
        _("Valid until"),
        _("Last change"),
        _("Fees total (yuan)"),
        _("Supplier"),
        _("Supplier's request number"),
        _("Supplier's cost (yuan)"),
    ]


def export_rows(queryset):
    """The CSV's lines, header first; the rows read in chunks, one query per chunk."""
    writer = csv.writer(_Line())
    yield BOM + writer.writerow(export_columns())
    rows = queryset.select_related("reader__user", "supplier").with_total_fee().iterator(CHUNK_SIZE)
    for ill_request in rows:
        reader = ill_request.reader
        if reader is not None:
            name, login = reader.name, reader.user.get_username()
        elif ill_request.is_guest:
            # A guest of the public account: the contact block they typed says who they are.
            name, login = (
                ill_request.contact_name,
                _("guest: %(email)s") % {"email": ill_request.contact_email},
            )
        else:
            name, login = ill_request.contact_name, ""
        yield writer.writerow(
            [
                ill_request.number,
                text_cell(name),
                text_cell(login),
                ill_request.get_service_type_display(),
                ill_request.get_document_type_display(),
                text_cell(ill_request.publication_title),
                text_cell(ill_request.article_title),
                ill_request.issn,
                ill_request.isbn,
                text_cell(ill_request.doi),
                ill_request.get_status_display(),
                _time(ill_request.submitted_at),
                _date(ill_request.valid_until),
                _time(ill_request.updated_at),
                amount_cell(ill_request.total_fee),
                text_cell(ill_request.supplier.name) if ill_request.supplier else "",
                text_cell(ill_request.supplier_number),
                amount_cell(ill_request.supplier_cost)
                if ill_request.supplier_cost is not None
                else "",
            ]
        )


def export_response(queryset) -> StreamingHttpResponse:
    response = StreamingHttpResponse(export_rows(queryset), content_type="text/csv; charset=utf-8")
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    response["Content-Disposition"] = f'attachment; filename="ill-requests-{stamp}.csv"'
    return response
