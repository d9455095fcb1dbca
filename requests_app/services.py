"""Rules that create and change ILL requests on a reader's behalf, and the expiry job.

Views, admin actions and management commands call these; status changes themselves go through
`lifecycle.request_transition`.
"""

import logging
from decimal import Decimal

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import Max, Q
from django.utils.translation import gettext as _

from accounts.ledger import ledger_require_not_owing
from core.mail import send_to_reader

from .lifecycle import (
    CANCELLATION_ON_REQUEST,
    READER_CANCELLABLE,
    Details,
    TransitionError,
    lock_request,
    record_event,
    request_transition,
    tell_reader,
    transition_locked,
)
from .models import (
    REQUEST_FIELDS,
    Event,
    FeeKind,
    FeeLine,
    IllRequest,
    RequestNumberCounter,
    Status,
    StatusChange,
    Urgency,
)
from .validators import doi_key, normalize_title

logger = logging.getLogger(__name__)


def request_next_number() -> int:
    """Allocate the next request number; call inside a transaction.

    The counter row's lock makes concurrent submissions take turns. The number is one above
    both every number in the table (imported legacy numbers included) and every number ever
    allocated; the unique constraint on `number` is the last guard.
    """
    # The row may be missing (a fresh or flushed database); creating it must not race either.
    RequestNumberCounter.objects.bulk_create([RequestNumberCounter(pk=1)], ignore_conflicts=True)
    counter = RequestNumberCounter.objects.select_for_update().get(pk=1)
    highest = IllRequest.objects.aggregate(highest=Max("number"))["highest"] or 0
    counter.last = max(counter.last, highest) + 1
    counter.save(update_fields=["last"])
    return counter.last


def request_submit(*, reader, data: dict, token: str) -> tuple[IllRequest, bool]:
    """Create the reader's request from the form's data; return it and whether it is new.

    Idempotent on `token` (one per form shown): a double click, a resent form or the browser's
    back-and-resubmit returns the request the first submission created.
    """
    existing = IllRequest.objects.filter(reader=reader, submission_token=token).first()
    if existing:
        return existing, False
    ledger_require_not_owing(reader=reader)
    try:
        with transaction.atomic():
            number = request_next_number()
            # Under the counter lock a concurrent twin has either committed (and is seen here)
            # or not started: check again before creating.
            existing = IllRequest.objects.filter(reader=reader, submission_token=token).first()
            if existing:
                return existing, False
            fields = {key: data[key] for key in REQUEST_FIELDS if key in data}
            ill_request = IllRequest.objects.create(
                reader=reader,
                number=number,
                submission_token=token,
                status=Status.SUBMITTED,
                **fields,
            )
            if ill_request.urgency == Urgency.URGENT and settings.URGENT_SURCHARGE > 0:
                FeeLine.objects.create(
                    request=ill_request, kind=FeeKind.URGENT, amount=settings.URGENT_SURCHARGE
                )
            StatusChange.objects.create(
                request=ill_request, actor=reader.user, from_status="", to_status=Status.SUBMITTED
            )
            send_to_reader(
                reader,
                "request_submitted",
                {"ill_request": ill_request, "surcharge": settings.URGENT_SURCHARGE},
                address=ill_request.contact_email,
            )
            return ill_request, True
    except IntegrityError:
        existing = IllRequest.objects.filter(reader=reader, submission_token=token).first()
        if existing:
            return existing, False
        raise


def request_duplicates(*, reader, data: dict, exclude_token: str = ""):
    """The reader's open requests that look like the one in `data`.

    Same DOI; or same ISSN, volume/issue and pages; or the same normalised title (the
    article's if there is one, else the publication's).
    """
    conditions = Q()
    if data.get("doi"):
        try:
            conditions |= Q(doi__iexact=doi_key(data["doi"]))
        except Exception:  # noqa: BLE001 - an invalid DOI simply matches nothing
            logger.debug("Not a DOI: %r", data["doi"])
    if data.get("issn") and data.get("volume_issue") and data.get("pages"):
        conditions |= Q(issn=data["issn"], volume_issue=data["volume_issue"], pages=data["pages"])
    title_key = normalize_title(data.get("article_title") or data.get("publication_title") or "")
    if title_key:
        conditions |= Q(title_key=title_key[:255])
    if not conditions:
        return IllRequest.objects.none()
    matches = IllRequest.objects.for_reader(reader).open().filter(conditions)
    if exclude_token:
        matches = matches.exclude(submission_token=exclude_token)
    return matches.order_by("-number")


def request_cancel(*, request: IllRequest, actor) -> IllRequest:
    """The reader cancels: allowed while submitted or awaiting cost approval, else refused."""
    with transaction.atomic():
        locked = lock_request(request)
        if locked.status not in READER_CANCELLABLE:
            raise TransitionError(
                _(
                    "Request %(number)s can no longer be cancelled here (it is %(status)s); "
                    "you can ask the ILL office to cancel it."
                )
                % {"number": locked.number, "status": Status(locked.status).label}
                if locked.status in CANCELLATION_ON_REQUEST
                else _("Request %(number)s can no longer be cancelled (it is %(status)s).")
                % {"number": locked.number, "status": Status(locked.status).label}
            )
        return transition_locked(
            locked,
            to=Status.CANCELLED,
            actor=actor,
            note="",
            visible=True,
            details=Details(),
            event=Event.READER_CANCELLED,
        )


def request_ask_cancellation(*, request: IllRequest, actor) -> IllRequest:
    """The reader asks staff to cancel a request that is already being processed."""
    with transaction.atomic():
        locked = lock_request(request)
        if locked.status not in CANCELLATION_ON_REQUEST:
            raise TransitionError(
                _("Request %(number)s is %(status)s: there is nothing to ask the ILL office.")
                % {"number": locked.number, "status": Status(locked.status).label}
            )
        if locked.cancellation_requested:
            return locked
        locked.cancellation_requested = True
        locked.save(update_fields=["cancellation_requested", "updated_at"])
        record_event(locked, actor=actor, event=Event.CANCELLATION_ASKED)
        return locked


def request_refuse_cancellation(*, request: IllRequest, actor, note: str = "") -> IllRequest:
    """Staff decide to go on with a request whose cancellation the reader asked for."""
    with transaction.atomic():
        locked = lock_request(request)
        if not locked.cancellation_requested:
            raise TransitionError(
                _("Nobody asked to cancel request %(number)s.") % {"number": locked.number}
            )
        locked.cancellation_requested = False
        locked.save(update_fields=["cancellation_requested", "updated_at"])
        change = record_event(locked, actor=actor, event=Event.CANCELLATION_REFUSED, note=note)
        tell_reader(locked, change=change)
        return locked


def _require_quote(locked: IllRequest) -> None:
    if locked.status != Status.AWAITING_COST_APPROVAL:
        raise TransitionError(
            _("Request %(number)s is not waiting for your approval of a cost.")
            % {"number": locked.number}
        )


def request_accept_quote(*, request: IllRequest, actor) -> IllRequest:
    """The reader accepts the quoted cost: staff go on obtaining the document."""
    with transaction.atomic():
        locked = lock_request(request)
        _require_quote(locked)
        return transition_locked(
            locked,
            to=Status.IN_PROCESS,
            actor=actor,
            note="",
            visible=True,
            details=Details(),
            event=Event.QUOTE_ACCEPTED,
            # JSON has no decimals: the amount is kept as the text it is shown as.
            params={"quote": str(locked.quote if locked.quote is not None else Decimal("0.00"))},
        )


def request_decline_quote(*, request: IllRequest, actor) -> IllRequest:
    """The reader declines the quoted cost: the request is cancelled."""
    with transaction.atomic():
        locked = lock_request(request)
        _require_quote(locked)
        return transition_locked(
            locked,
            to=Status.CANCELLED,
            actor=actor,
            note="",
            visible=True,
            details=Details(),
            event=Event.QUOTE_DECLINED,
        )


def request_expire_due(*, today) -> list[int]:
    """End as expired every submitted request whose valid-until date is before `today`.

    Returns the numbers expired. Safe to run twice, or on two machines at once: each request
    is re-checked under its row lock, and rows another run holds are skipped (on databases
    that can skip locked rows) or waited for and then found no longer due.
    """
    due = IllRequest.objects.filter(status=Status.SUBMITTED, valid_until__lt=today)
    skip_locked = connection.features.has_select_for_update_skip_locked
    expired = []
    for pk in due.values_list("pk", flat=True).order_by("pk"):
        with transaction.atomic():
            locked = (
                # Not the reader's row (see lock_request): a reader held elsewhere is no reason
                # to skip their overdue requests.
                due.select_for_update(skip_locked=skip_locked, of=("self",))
                .select_related("reader")
                .filter(pk=pk)
                .first()
            )
            if locked is None:
                continue
            transition_locked(
                locked,
                to=Status.EXPIRED,
                actor=None,
                note="",
                visible=True,
                details=Details(),
                event=Event.EXPIRED,
                params={"date": locked.valid_until.isoformat()},
            )
            expired.append(locked.number)
    return expired


__all__ = [
    "REQUEST_FIELDS",
    "TransitionError",
    "request_accept_quote",
    "request_ask_cancellation",
    "request_cancel",
    "request_decline_quote",
    "request_duplicates",
    "request_expire_due",
    "request_next_number",
    "request_refuse_cancellation",
    "request_submit",
    "request_transition",
]
