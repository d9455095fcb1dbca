"""Electronic delivery (SPEC 4.6): the PDF staff attach to a copy request, its reader's
downloads, and the removal of files nobody may download any more.

Files live in the "deliveries" storage (settings.STORAGES: local disk by default, an
S3-compatible store when configured) under random names, and have no public address: the portal
streams them to whoever `delivery_can_download` lets through, counting each download with one
conditional UPDATE, so that two downloads at once cannot pass the limit.
"""

import logging
import re
import secrets
import unicodedata
from datetime import timedelta
from urllib.parse import quote

from django.conf import settings
from django.core.files.storage import storages
from django.db import models, transaction
from django.db.models import F
from django.http import FileResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from core.text import clean_text
from readers.models import ReaderStatus

from .lifecycle import (
    Details,
    delivery_tell_reader,
    request_allowed_transitions,
    request_lock,
    request_record_event,
    request_transition_locked,
)
from .models import Delivery, IllRequest, ServiceType
from .statuses import Status

logger = logging.getLogger(__name__)

STORAGE = "deliveries"
MB = 1024 * 1024


def delivery_storage():
    return storages[STORAGE]


class DeliveryError(Exception):
    """A file that cannot be delivered, with the reason staff read beside the file field."""


# --- The file ----------------------------------------------------------------------------------

_HEADER = re.compile(rb"%PDF-[12]\.[0-9]")
_TRAILER = re.compile(rb"startxref\s+([0-9]{1,15})\s+%%EOF[\s\x00]*\Z")
_XREF_AT = re.compile(rb"\s*(xref|[0-9]+\s+[0-9]+\s+obj\b)")
_TAIL = 4096


def pdf_problem(upload) -> str | None:
    """Why `upload` is not a PDF staff may deliver, or None.

    Read from the content, never from the name or the declared type: the file must start as a
    PDF does (`%PDF-1.x` or `%PDF-2.x`), end with the trailer every PDF ends with (`startxref`,
    the offset of the cross-reference section, `%%EOF`), and that offset must point at a
    cross-reference table or stream inside the file. A renamed Word file, an image, an HTML
    error page saved as .pdf or a download cut off half-way fail one of these.
    """
    size = upload.size
    limit = settings.DELIVERY_MAX_MB * MB
    if size > limit:
        return _("The file is %(size).1f MB; files of up to %(limit)d MB can be delivered.") % {
            "size": size / MB,
            "limit": settings.DELIVERY_MAX_MB,
        }
    if not size:
        return _("The file is empty.")
    upload.seek(0)
    head = upload.read(16)
    if not _HEADER.match(head):
        return _(
            "This file is not a PDF (its content does not begin as a PDF does, whatever its "
            "name). Save or scan the document as PDF and attach that."
        )
    upload.seek(max(size - _TAIL, 0))
    trailer = _TRAILER.search(upload.read())
    offset = int(trailer[1]) if trailer else size
    if offset < size:
        upload.seek(offset)
        found = _XREF_AT.match(upload.read(64))
    else:
        found = None
    upload.seek(0)
    if not found:
        return _(
            "This PDF is damaged or incomplete (its end, which says where its contents are, is "
            "missing or wrong). Save it as PDF again and attach the new file."
        )
    return None


def _reader_file_name(upload_name: str, ill_request: IllRequest) -> str:
    """The name the reader's browser saves the file under: staff's file name, cleaned."""
    name = unicodedata.normalize("NFC", clean_text(upload_name or ""))
    name = re.sub(r'[\\/:*?"<>|]+', "_", name).strip(" .")
    stem = name[:-4] if name.lower().endswith(".pdf") else name
    stem = stem[:150].strip(" .") or f"ILL-{ill_request.number}"
    return f"{stem}.pdf"


_ASCII_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9 ._()+-]*")


def content_disposition(file_name: str, fallback: str) -> str:
    """`attachment` with the name per RFC 6266: `filename*` in UTF-8 (RFC 8187) for every
    browser of today, and a plain ASCII `filename` for the rest."""
    plain = file_name if _ASCII_NAME.fullmatch(file_name) else fallback
    return f"attachment; filename=\"{plain}\"; filename*=UTF-8''{quote(file_name, safe='')}"


# --- Attaching ---------------------------------------------------------------------------------


def delivery_attachable(ill_request: IllRequest) -> bool:
    """Whether staff may attach a PDF to this request now, as the lifecycle sees it: a copy
    request that is delivered or may be delivered from its status. (Whether it has its file
    already is the caller's question.)"""
    return ill_request.service_type == ServiceType.COPY and (
        ill_request.status == Status.DELIVERED
        or Status.DELIVERED in request_allowed_transitions(ill_request)
    )


def delivery_attach(*, ill_request: IllRequest, upload, actor, note: str = "") -> Delivery:
    """Keep the PDF for the request's reader and deliver the request, in one go.

    A request not delivered yet is delivered here (charged to the reader's prepaid account; short
    of balance it awaits payment, and the file waits with it; a guest's request is delivered once
    the payments staff recorded cover it, `GuestPayment`). Once the request is delivered the
    days begin and the reader, or the guest at the request's address, is e-mailed the link.
    Raises DeliveryError, or the lifecycle's TransitionError. Nothing is kept when anything
    fails: the stored file is removed again.
    """
    problem = pdf_problem(upload)
    if problem:
        raise DeliveryError(problem)
    storage = delivery_storage()
    # A random name: never a path or a name that someone typed.
    stored_name = storage.save(f"{timezone.now():%Y/%m}/{secrets.token_hex(16)}.pdf", upload)
    try:
        with transaction.atomic():
            locked = request_lock(ill_request)
            if locked.service_type != ServiceType.COPY:
                raise DeliveryError(
                    _("Only a copy (non-returnable) request is delivered as a file.")
                )
            if Delivery.objects.filter(request=locked).exists():
                raise DeliveryError(
                    _("Request %(number)s already has its file.") % {"number": locked.number}
                )
            now = timezone.now()
            delivery = Delivery.objects.create(
                request=locked,
                stored_name=stored_name,
                file_name=_reader_file_name(getattr(upload, "name", ""), locked),
                size=upload.size,
                delivered_at=now,
                delivered_by=actor,
                expires_at=now + timedelta(days=settings.DELIVERY_DAYS),
                max_downloads=settings.DELIVERY_MAX_DOWNLOADS,
            )
            if locked.status == Status.DELIVERED:
                if note.strip():
                    request_record_event(locked, actor=actor, event="", note=note)
                delivery_tell_reader(delivery)
            else:
                # Delivering it starts the reader's days and e-mails the link (lifecycle.py),
                # now or, short of balance, once the request is paid.
                request_transition_locked(
                    locked,
                    to=Status.DELIVERED,
                    actor=actor,
                    note=note,
                    visible=True,
                    details=Details(),
                )
                delivery.refresh_from_db()
    except BaseException:
        storage.delete(stored_name)
        raise
    return delivery


# --- Who may download --------------------------------------------------------------------------


class Refusal(models.TextChoices):
    """Why a download is refused; the label is what the reader reads."""

    NOT_YOURS = "not_yours", gettext_lazy("This document is not yours to download.")
    NOT_DELIVERED = (
        "not_delivered",
        gettext_lazy("The document can be downloaded once the request is delivered."),
    )
    REMOVED = (
        "removed",
        gettext_lazy(
            "The file has been removed: its download period ended or every download was used."
        ),
    )
    EXPIRED = "expired", gettext_lazy("The download period of this document has ended.")
    USED_UP = "used_up", gettext_lazy("Every download of this document has been used.")
    NOT_ACKNOWLEDGED = (
        "not_acknowledged",
        gettext_lazy("Accept the copyright statement before downloading the document."),
    )


def _entitled(delivery: Delivery, user, link: str | None = None) -> bool:
    """Whether whoever asks is who the document was delivered to: the request's reader, signed
    in and confirmed; or, for a guest's request (public account), whoever holds its private link
    (`link`, the key of `/guest/r/<number>/<key>/`, checked here again in constant time)."""
    ill_request = delivery.request
    if ill_request.is_guest:
        return link is not None and ill_request.guest_link_matches(link)
    reader = ill_request.reader
    return (
        reader is not None
        and user is not None
        and user.is_authenticated
        and reader.user_id == user.pk
        and reader.status == ReaderStatus.CONFIRMED
    )


def delivery_can_download(
    delivery: Delivery, *, user, link: str | None = None, now=None
) -> Refusal | None:
    """Whether `user` (or, for a guest's request, the holder of private link `link`) may
    download `delivery` now: None if so, else why not.

    The one access rule of delivered files; every page and the download itself ask it (the
    download then claims its count with the same conditions in one UPDATE). In order: who
    (the request's own reader, signed in and confirmed; a guest's request: its private link,
    whoever is or is not logged in), the request delivered, the file still kept, within its
    days, a download left, the copyright statement accepted. A reader's request is never opened
    by a link, a guest's never by a login.
    """
    if not _entitled(delivery, user, link):
        return Refusal.NOT_YOURS
    return _state_refusal(delivery, now=now)


def _state_refusal(delivery: Delivery, *, now=None) -> Refusal | None:
    now = now or timezone.now()
    if delivery.purged_at is not None:
        return Refusal.REMOVED
    if delivery.request.status != Status.DELIVERED:
        return Refusal.NOT_DELIVERED
    if now >= delivery.expires_at:
        return Refusal.EXPIRED
    if delivery.downloads >= delivery.max_downloads:
        return Refusal.USED_UP
    if delivery.acknowledged_at is None:
        return Refusal.NOT_ACKNOWLEDGED
    return None


def delivery_acknowledge(delivery: Delivery, *, user, link: str | None = None) -> Refusal | None:
    """The reader (or the guest) accepted the copyright statement (once per document)."""
    refusal = delivery_can_download(delivery, user=user, link=link)
    if refusal not in (None, Refusal.NOT_ACKNOWLEDGED):
        return refusal
    now = timezone.now()
    Delivery.objects.filter(pk=delivery.pk, acknowledged_at__isnull=True).update(
        acknowledged_at=now
    )
    delivery.refresh_from_db(fields=["acknowledged_at"])
    return None


def delivery_claim_download(delivery: Delivery, *, user, link: str | None = None) -> Refusal | None:
    """Count one download for `user` (or the holder of `link`), or say why not (and count
    nothing).

    The count is taken by one UPDATE whose WHERE repeats the conditions on the row: two
    downloads at once are serialised by the row's lock, and the second one sees the first's
    count (PostgreSQL re-checks the WHERE against the updated row), so the limit holds.
    """
    now = timezone.now()
    refusal = delivery_can_download(delivery, user=user, link=link, now=now)
    if refusal:
        return refusal
    claimed = Delivery.objects.filter(
        pk=delivery.pk,
        purged_at__isnull=True,
        acknowledged_at__isnull=False,
        expires_at__gt=now,
        downloads__lt=F("max_downloads"),
    ).update(downloads=F("downloads") + 1, last_downloaded_at=now)
    delivery.refresh_from_db(
        fields=["downloads", "last_downloaded_at", "purged_at", "expires_at", "acknowledged_at"]
    )
    if not claimed:
        return _state_refusal(delivery, now=now) or Refusal.USED_UP
    return None


def delivery_open(delivery: Delivery):
    """The stored file, opened for reading (OSError when the storage cannot give it)."""
    return delivery_storage().open(delivery.stored_name, "rb")


def delivery_response(delivery: Delivery, handle) -> FileResponse:
    """The file, streamed, as an attachment with its name, never cached or sniffed."""
    response = FileResponse(handle, content_type="application/pdf")
    response["Content-Length"] = str(delivery.size)
    response["Content-Disposition"] = content_disposition(
        delivery.file_name, fallback=f"ILL-{delivery.request.number}.pdf"
    )
    response["Cache-Control"] = "no-store"
    response["X-Content-Type-Options"] = "nosniff"
    return response


# --- Removing ----------------------------------------------------------------------------------

PURGE_BATCH = 100


def delivery_purge(*, now=None, batch: int = PURGE_BATCH) -> int:
    """Remove the files whose days or downloads are used up; return how many were removed.

    Safe to rerun and to run on several machines at once: each batch of rows is locked with
    SKIP LOCKED (another run takes other rows), and a row is marked removed only once, after its
    file is deleted (deleting a file that is already gone is no error, so a run that failed
    half-way is completed by the next one). The rows stay: the reader's page says the file was
    removed, and when.
    """
    now = now or timezone.now()
    storage = delivery_storage()
    removed = 0
    while True:
        with transaction.atomic():
            rows = list(
                Delivery.objects.due_for_purge(now)
                .select_for_update(skip_locked=True)
                .order_by("pk")[:batch]
            )
            if not rows:
                return removed
            for delivery in rows:
                storage.delete(delivery.stored_name)
                delivery.purged_at = now
                delivery.save(update_fields=["purged_at"])
            removed += len(rows)
