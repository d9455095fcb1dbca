"""Rules that create and change ILL requests on a reader's behalf, and the expiry job.

Views, admin actions and management commands call these; status changes themselves go through
`lifecycle.request_transition`.
"""

import logging
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from functools import partial

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import Q
from django.utils.translation import gettext as _

from accounts.ledger import LedgerError, ledger_require_not_owing
from core.mail import send_to_reader

from .lifecycle import (
    Details,
    TransitionError,
    request_lock,
    request_record_event,
    request_tell_reader,
    request_transition,
    request_transition_locked,
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
from .statuses import CANCELLATION_ON_REQUEST, READER_CANCELLABLE
from .validators import doi_key, normalize_title

logger = logging.getLogger(__name__)


def request_next_number() -> int:
    """Allocate the next request number; call inside a transaction.

    One statement (issue 14: it was four round trips): an upsert of the counter's single row,
    which creates the row when it is missing (a fresh or flushed database) and otherwise
    updates it, keeping the row locked until the transaction ends, so concurrent submissions
    take turns. The number is one above both every number in the table (imported legacy
    numbers included) and every number ever allocated; the unique constraint on `number` is
    the last guard.
    """
    counter = connection.ops.quote_name(RequestNumberCounter._meta.db_table)
    requests = connection.ops.quote_name(IllRequest._meta.db_table)
    # The larger of two values: GREATEST on PostgreSQL, the two-argument MAX on SQLite.
    greatest = "MAX" if connection.vendor == "sqlite" else "GREATEST"
    # Only quoted table names and constants go into the SQL: it has no parameters.
    highest = f"(SELECT COALESCE(MAX(number), 0) FROM {requests})"  # noqa: S608 (constants)
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {counter} (id, last) VALUES (1, {highest} + 1) "  # noqa: S608 (constants)
            f"ON CONFLICT (id) DO UPDATE SET last = {greatest}({counter}.last, {highest}) + 1 "
            "RETURNING last"
        )
        return cursor.fetchone()[0]


def request_submit(*, reader, data: dict, token: str) -> tuple[IllRequest, bool]:
    """Create the reader's request from the form's data; return it and whether it is new.

    Idempotent on `token` (one per form shown): a double click, a resent form or the browser's
    back-and-resubmit returns the request the first submission created. The token is not
    looked up first (issue 14: that query was a seventh of the submit's time): the insert
    breaks the one-request-per-token constraint and the first request is looked up then.
    """
    try:
        ledger_require_not_owing(reader=reader)
    except LedgerError:
        # A form sent again after the first one went through gets its request, owing or not.
        existing = _submitted_with(reader, token)
        if existing:
            return existing, False
        raise
    try:
        with transaction.atomic():
            number = request_next_number()
            # A concurrent twin (same token) holding the counter's lock has committed by now:
            # the insert below breaks the one-request-per-token constraint, the transaction
            # (this number too) is rolled back, and the twin's request is returned below.
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
        existing = _submitted_with(reader, token)
        if existing:
            return existing, False
        raise


def _submitted_with(reader, token: str) -> IllRequest | None:
    return IllRequest.objects.filter(reader=reader, submission_token=token).first()


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


# --- What the reader does to a request ------------------------------------------------------


@dataclass(frozen=True)
class ReaderAction:
    """A status change the reader makes: from where it is allowed, to what, recorded as what.

    `refusal(request)` says why not, when the request is elsewhere; `params(request)` gives the
    history event's details.
    """

    allowed_from: frozenset[str]
    to: str
    event: str
    refusal: Callable[[IllRequest], str]
    params: Callable[[IllRequest], dict] = lambda ill_request: {}


def _too_late_to_cancel(ill_request: IllRequest) -> str:
    values = {"number": ill_request.number, "status": Status(ill_request.status).label}
    if ill_request.status in CANCELLATION_ON_REQUEST:
        return (
            _(
                "Request %(number)s can no longer be cancelled here (it is %(status)s); "
                "you can ask the ILL office to cancel it."
            )
            % values
        )
    return _("Request %(number)s can no longer be cancelled (it is %(status)s).") % values


def _no_quote_to_decide(ill_request: IllRequest) -> str:
    return _("Request %(number)s is not waiting for your approval of a cost.") % {
        "number": ill_request.number
    }


def _quote_accepted(ill_request: IllRequest) -> dict:
    # JSON has no decimals: the amount is kept as the text it is shown as.
    quote = ill_request.quote if ill_request.quote is not None else Decimal("0.00")
    return {"quote": str(quote)}


# The reader's status changes, one row each: cancel while submitted or awaiting cost approval;
# accept the quoted cost (staff go on obtaining the document) or decline it (which cancels).
READER_ACTIONS = {
    "cancel": ReaderAction(
        allowed_from=READER_CANCELLABLE,
        to=Status.CANCELLED,
        event=Event.READER_CANCELLED,
        refusal=_too_late_to_cancel,
    ),
    "accept_quote": ReaderAction(
        allowed_from=frozenset({Status.AWAITING_COST_APPROVAL}),
        to=Status.IN_PROCESS,
        event=Event.QUOTE_ACCEPTED,
        refusal=_no_quote_to_decide,
        params=_quote_accepted,
    ),
    "decline_quote": ReaderAction(
        allowed_from=frozenset({Status.AWAITING_COST_APPROVAL}),
        to=Status.CANCELLED,
        event=Event.QUOTE_DECLINED,
        refusal=_no_quote_to_decide,
    ),
}


def request_run_reader_action(
    action: ReaderAction, *, ill_request: IllRequest, actor
) -> IllRequest:
    """Lock the request, check that `action` is allowed from its status now, and make the change."""
    with transaction.atomic():
        locked = request_lock(ill_request)
        if locked.status not in action.allowed_from:
            raise TransitionError(action.refusal(locked))
        return request_transition_locked(
            locked,
            to=action.to,
            actor=actor,
            note="",
            visible=True,
            details=Details(),
            event=action.event,
            params=action.params(locked),
        )


request_cancel = partial(request_run_reader_action, READER_ACTIONS["cancel"])
request_accept_quote = partial(request_run_reader_action, READER_ACTIONS["accept_quote"])
request_decline_quote = partial(request_run_reader_action, READER_ACTIONS["decline_quote"])


def request_ask_cancellation(*, ill_request: IllRequest, actor) -> IllRequest:
    """The reader asks staff to cancel a request that is already being processed."""
    with transaction.atomic():
        locked = request_lock(ill_request)
        if locked.status not in CANCELLATION_ON_REQUEST:
            raise TransitionError(
                _("Request %(number)s is %(status)s: there is nothing to ask the ILL office.")
                % {"number": locked.number, "status": Status(locked.status).label}
            )
        if locked.cancellation_requested:
            return locked
        locked.cancellation_requested = True
        locked.save(update_fields=["cancellation_requested", "updated_at"])
        request_record_event(locked, actor=actor, event=Event.CANCELLATION_ASKED)
        return locked


def request_refuse_cancellation(*, ill_request: IllRequest, actor, note: str = "") -> IllRequest:
    """Staff decide to go on with a request whose cancellation the reader asked for."""
    with transaction.atomic():
        locked = request_lock(ill_request)
        if not locked.cancellation_requested:
            raise TransitionError(
                _("Nobody asked to cancel request %(number)s.") % {"number": locked.number}
            )
        locked.cancellation_requested = False
        locked.save(update_fields=["cancellation_requested", "updated_at"])
        change = request_record_event(
            locked, actor=actor, event=Event.CANCELLATION_REFUSED, note=note
        )
        request_tell_reader(locked, change=change)
        return locked


# Requests expired per transaction: few enough to hold their locks briefly, many enough that
# 20,000 due requests are a few dozen commits rather than tens of thousands.
EXPIRY_BATCH = 500


def request_expire_due(*, today, batch_size: int = EXPIRY_BATCH) -> list[int]:
    """End as expired every submitted request whose valid-until date is before `today`.

    Returns the numbers expired. Works in batches of `batch_size`, each one transaction: the
    batch's rows are locked with `SELECT … FOR UPDATE SKIP LOCKED` (on databases that can skip
    locked rows), so a request someone is changing right now is left for them, and another
    run at the same time takes other rows; a row it waits for instead is re-checked once the
    lock is released and is no longer due. Each request gets its history entry and e-mail as
    from any transition (`request_transition_locked`). Safe to run twice: an expired request
    is no longer due.
    """
    due = IllRequest.objects.filter(status=Status.SUBMITTED, valid_until__lt=today)
    skip_locked = connection.features.has_select_for_update_skip_locked
    expired = []
    while True:
        with transaction.atomic():
            batch = list(
                # Not the reader's row (see request_lock): a reader held elsewhere is no reason
                # to skip their overdue requests. On the partial index of open requests'
                # valid-until dates (models.py), oldest date first.
                due.select_for_update(skip_locked=skip_locked, of=("self",))
                .select_related("reader")
                .order_by("valid_until", "pk")[:batch_size]
            )
            for locked in batch:
                request_transition_locked(
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
        # A short batch was the last; each full one expired all its rows, so this ends.
        if len(batch) < batch_size:
            return expired


__all__ = [
    "READER_ACTIONS",
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
    "request_run_reader_action",
    "request_submit",
    "request_transition",
]
