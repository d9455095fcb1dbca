"""The lifecycle of an ILL request (SPEC 4.4): the one writer of the transition table in
`statuses.py`.

Every status change — by the reader, by staff in the admin, by the expiry job — goes through
`request_transition`, which locks the request, checks the table, records the change in
the history and tells the reader by e-mail (and, for the changes that need the reader's
attention, by a personal notice on the board).
"""

from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

from django.conf import settings
from django.db import transaction
from django.db.models import Sum
from django.utils import timezone
from django.utils.functional import lazy
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from accounts.ledger import AMOUNT_MAX, InsufficientBalance, ledger_balance, ledger_charge
from core.mail import send_email, send_to_reader
from readers.services import notice_send

from .models import (
    Delivery,
    FeeKind,
    FeeLine,
    GuestPayment,
    IllRequest,
    ServiceType,
    StatusChange,
)
from .statuses import (
    CANCELLATION_ON_REQUEST,
    ENDS_UNSERVED,
    HANDED_OVER,
    NEEDS_REASON,
    NOTHING_DONE_YET,
    NOTIFY_ON_BOARD,
    SYSTEM_ONLY,
    TRANSITIONS,
    Status,
)

S = Status

# A status that only one service type can reach.
SERVICE_TYPE_ONLY = {
    S.DELIVERED: ServiceType.COPY,
    S.ON_LOAN: ServiceType.LOAN,
    S.RETURNED: ServiceType.LOAN,
}


CENT = Decimal("0.01")


class TransitionError(Exception):
    """A status change that the lifecycle does not allow, with the reason in words.

    `field` names the detail the reason is about (quote, return_date, note), if any, so that a
    form can show the reason beside that field.
    """

    def __init__(self, message, *, field: str | None = None):
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class Details:
    """What some transitions need besides the status."""

    quote: Decimal | None = None
    return_date: object = None


def request_allowed_transitions(ill_request: IllRequest, *, staff: bool = True) -> list[str]:
    """The statuses this request may move to next (for staff: without the system-only ones)."""
    targets = TRANSITIONS[ill_request.status]
    result = []
    for status in Status:
        if status not in targets:
            continue
        if staff and status in SYSTEM_ONLY:
            continue
        if SERVICE_TYPE_ONLY.get(status, ill_request.service_type) != ill_request.service_type:
            continue
        result.append(status.value)
    return result


def _check(ill_request: IllRequest, to: str, details: Details, *, note: str, visible: bool) -> None:
    current = Status(ill_request.status)
    if to not in Status.values:
        raise TransitionError(_("“%(status)s” is not a request status.") % {"status": to})
    target = Status(to)
    if target not in TRANSITIONS[current]:
        if not TRANSITIONS[current]:
            raise TransitionError(
                _("Request %(number)s is %(status)s, which is final: it cannot change any more.")
                % {"number": ill_request.number, "status": current.label}
            )
        raise TransitionError(
            _("Request %(number)s cannot go from “%(from)s” to “%(to)s”.")
            % {"number": ill_request.number, "from": current.label, "to": target.label}
        )
    needed = SERVICE_TYPE_ONLY.get(target)
    if needed and needed != ill_request.service_type:
        raise TransitionError(
            _("Only a %(service)s request can become “%(to)s”.")
            % {"service": ServiceType(needed).label, "to": target.label}
        )
    if target == S.AWAITING_COST_APPROVAL:
        if details.quote is None:
            raise TransitionError(
                _("Give the quoted cost the reader is asked to approve."), field="quote"
            )
        # SPEC 4.4: the reader is asked only about a quote above what they said they would pay;
        # anything up to that is already agreed, and the request simply goes on.
        if details.quote <= ill_request.max_cost:
            raise TransitionError(
                _(
                    "A quote of %(quote)s yuan is not above the reader's maximum cost of "
                    "%(max)s yuan: there is nothing for the reader to approve, go on with "
                    "the request instead."
                )
                % {"quote": details.quote, "max": ill_request.max_cost},
                field="quote",
            )
    if target == S.ON_LOAN:
        if details.return_date is None:
            raise TransitionError(
                _("Give the date by which the reader must return the loan."), field="return_date"
            )
        if details.return_date < timezone.localdate():
            raise TransitionError(
                _("The return date %(date)s has passed: give today or a later date.")
                % {"date": details.return_date.isoformat()},
                field="return_date",
            )
    if target in NEEDS_REASON:
        if not note.strip():
            raise TransitionError(
                _("Give the reason why the request cannot be supplied; the reader reads it."),
                field="note",
            )
        if not visible:
            raise TransitionError(
                _("The reader must be able to read why the request cannot be supplied."),
                field="visible",
            )


def request_lock(ill_request: IllRequest) -> IllRequest:
    """The request again, its row locked until the transaction ends, with its reader loaded.

    Only the request's row (`of`): a plain FOR UPDATE locks the joined reader row too, so a
    change to one request would hold up every other request of that reader, and make the
    expiry job skip them.
    """
    return (
        IllRequest.objects.select_for_update(of=("self",))
        .select_related("reader")
        .get(pk=ill_request.pk)
    )


def request_transition(
    *,
    ill_request: IllRequest,
    to: str,
    actor=None,
    note: str = "",
    visible: bool = True,
    quote: Decimal | None = None,
    return_date=None,
) -> IllRequest:
    """Move `ill_request` to status `to`, or raise TransitionError saying why not.

    Locks the request for the whole change, so two people acting at once are served one
    after the other and the second sees what the first did.
    """
    with transaction.atomic():
        return request_transition_locked(
            request_lock(ill_request),
            to=to,
            actor=actor,
            note=note,
            visible=visible,
            details=Details(quote=quote, return_date=return_date),
        )


def request_transition_locked(
    ill_request: IllRequest,
    *,
    to: str,
    actor,
    note: str,
    visible: bool,
    details: Details,
    event: str = "",
    params: dict | None = None,
) -> IllRequest:
    """The change itself, for callers that already hold the request's row lock.

    `note` is staff's own text; `event` and `params` what the system says (models.Event), which
    is written out in each viewer's language when shown.
    """
    note = note.strip()
    _check(ill_request, to, details, note=note, visible=visible)
    params = dict(params or {})
    if to in CHARGED_WHEN_SUPPLIED:
        to = _charge_or_await_payment(ill_request, to, actor=actor)
    if to == S.AWAITING_PAYMENT:
        params.update(_amounts_due(ill_request))
    from_status = ill_request.status
    ill_request.status = to
    fields = ["status", "updated_at"]
    if ill_request.cancellation_requested and to not in CANCELLATION_ON_REQUEST:
        # The status answers the reader's request to cancel: the request ended, or went out
        # on loan, or the reader now decides themselves (a quote they may decline). Between
        # the statuses where staff still can cancel it stays pending, for staff to decide.
        ill_request.cancellation_requested = False
        fields.append("cancellation_requested")
    if to in HANDED_OVER and ill_request.supplied_at is None:
        # The statistics' turnaround ends here (a returned loan keeps its time).
        ill_request.supplied_at = timezone.now()
        fields.append("supplied_at")
    if details.quote is not None:
        ill_request.quote = details.quote
        fields.append("quote")
    if details.return_date is not None:
        ill_request.return_date = details.return_date
        fields.append("return_date")
    ill_request.save(update_fields=fields)
    if to in ENDS_UNSERVED and from_status in NOTHING_DONE_YET:
        waived = _drop_urgent_surcharge(ill_request)
        if waived:
            params["surcharge_waived"] = str(waived)
    change = StatusChange.objects.create(
        request=ill_request,
        actor=actor,
        from_status=from_status,
        to_status=to,
        note=note,
        event=event,
        params=params,
        visible_to_reader=visible,
    )
    request_tell_reader(ill_request, change=change)
    if to == S.DELIVERED:
        _release_delivery(ill_request)
    return ill_request


def _release_delivery(ill_request: IllRequest) -> None:
    """A copy delivered with its PDF attached (SPEC 4.6): the reader's (or guest's) days start
    now, and they are e-mailed the link. The file may have waited for the payment (delivery.py)."""
    delivery = Delivery.objects.filter(request=ill_request, purged_at__isnull=True).first()
    if delivery is None:
        return
    delivery.request = ill_request
    delivery.expires_at = timezone.now() + timedelta(days=settings.DELIVERY_DAYS)
    delivery.save(update_fields=["expires_at"])
    delivery_tell_reader(delivery)


def delivery_tell_reader(delivery: Delivery) -> None:
    """E-mail the reader the link to their delivered file; a guest, the request's private link
    (at the address on the request, in the language of the page it was submitted from)."""
    ill_request = delivery.request
    if ill_request.is_guest:
        send_email(
            "guest_delivery_ready",
            to=ill_request.contact_email,
            context={"ill_request": ill_request, "delivery": delivery},
            language=ill_request.guest_language or None,
        )
        return
    if ill_request.reader is None:
        return
    send_to_reader(
        ill_request.reader,
        "delivery_ready",
        {"ill_request": ill_request, "delivery": delivery},
        address=ill_request.contact_email,
    )


# Supplying the document charges its total to the reader's prepaid balance (SPEC 4.5).
CHARGED_WHEN_SUPPLIED = frozenset({S.DELIVERED, S.ON_LOAN})


def _total_fee(ill_request: IllRequest) -> Decimal:
    total = FeeLine.objects.filter(request=ill_request).aggregate(total=Sum("amount"))["total"]
    return (total or Decimal("0")).quantize(CENT)


def guest_paid(ill_request: IllRequest) -> Decimal:
    """What staff recorded as paid for a guest's request (GuestPayment)."""
    paid = GuestPayment.objects.filter(request=ill_request).aggregate(total=Sum("amount"))
    return (paid["total"] or Decimal("0")).quantize(CENT)


def _guest_paid_or_await_payment(ill_request: IllRequest, to: str) -> str:
    """A guest has no prepaid account: supplied once what staff recorded covers the total."""
    due = _total_fee(ill_request) - guest_paid(ill_request)
    if due <= 0:
        return to
    if ill_request.status == S.AWAITING_PAYMENT:
        raise TransitionError(
            _(
                "Request %(number)s is not paid for yet: %(due)s yuan still to pay. Record the "
                "guest's payment on the request's page first."
            )
            % {"number": ill_request.number, "due": due.quantize(CENT)},
            field="to",
        )
    return S.AWAITING_PAYMENT


def _charge_or_await_payment(ill_request: IllRequest, to: str, *, actor) -> str:
    """Charge the request's total in this transaction and return `to`; short of balance, the
    request awaits payment instead (or, already awaiting it, the change is refused)."""
    if ill_request.is_guest:
        return _guest_paid_or_await_payment(ill_request, to)
    total = _total_fee(ill_request)
    if total > AMOUNT_MAX:
        raise TransitionError(
            _(
                "Request %(number)s’s fees total %(total)s yuan, more than one charge can be: "
                "correct its fee lines."
            )
            % {"number": ill_request.number, "total": total},
            field="to",
        )
    try:
        ledger_charge(
            reader=ill_request.reader,
            amount=total,
            actor=actor,
            request_number=ill_request.number,
            request_title=ill_request.article_title or ill_request.publication_title,
        )
    except InsufficientBalance as short:
        if ill_request.status == S.AWAITING_PAYMENT:
            raise TransitionError(
                _(
                    "Request %(number)s is not paid for yet: %(reason)s Record the reader's "
                    "payment on their account first."
                )
                % {"number": ill_request.number, "reason": short},
                field="to",
            ) from None
        return S.AWAITING_PAYMENT
    return to


def _amounts_due(ill_request: IllRequest) -> dict:
    """What the reader reads in the history, notice and e-mail of awaiting payment (as text:
    JSON has no decimals)."""
    due = _total_fee(ill_request)
    if ill_request.is_guest:
        still = max(due - guest_paid(ill_request), Decimal("0")).quantize(CENT)
        return {"guest_payment_due": str(still)}
    balance = ledger_balance(ill_request.reader)
    return {
        "payment_due": str(due),
        "balance": str(balance),
        "shortfall": str(max(due - balance, Decimal("0")).quantize(CENT)),
    }


def _drop_urgent_surcharge(ill_request: IllRequest) -> Decimal:
    """Delete the request's urgent-surcharge lines; return what they came to (0 without any).

    Deleted rather than marked void: the total fee is the plain sum of the lines everywhere
    (the list, the detail page, the charge on delivery). The history entry of the change keeps
    the amount that was not charged.
    """
    lines = FeeLine.objects.filter(request=ill_request, kind=FeeKind.URGENT)
    amount = lines.aggregate(total=Sum("amount"))["total"] or Decimal("0")
    lines.delete()
    return amount.quantize(CENT)  # SQLite's sum drops the scale: 10, not 10.00


def request_record_event(
    ill_request: IllRequest, *, actor, event: str, note: str = ""
) -> StatusChange:
    """A history entry that does not change the status (a cancellation asked for, say)."""
    return StatusChange.objects.create(
        request=ill_request,
        actor=actor,
        from_status=ill_request.status,
        to_status=ill_request.status,
        event=event,
        note=note.strip(),
        visible_to_reader=True,
    )


NOTICE_TITLE = gettext_noop("Request %(number)s: %(status)s")
NOTICE_BODY = gettext_noop(
    "The status of your request %(number)s (%(title)s) is now: %(status)s. "
    "The request page has the details."
)
NOTICE_BODY_WITH_NOTE = gettext_noop(
    "The status of your request %(number)s (%(title)s) is now: %(status)s. "
    "The request page has the details.\n\n%(note)s"
)


def request_tell_reader(ill_request: IllRequest, *, change: StatusChange) -> None:
    """E-mail the reader about `change` (and leave a notice when the status needs them).

    The e-mail is rendered in the reader's language, the notice in both: the change's text is
    written out in each, never stored in one.
    """
    reader = ill_request.reader
    if ill_request.is_guest:
        # A guest: the e-mail address they gave, with the request's private link.
        send_email(
            "guest_request_status_changed",
            to=ill_request.contact_email,
            context={"ill_request": ill_request, "change": change},
            language=ill_request.guest_language or None,
        )
        return
    if reader is None:
        # An old system's request whose account is not linked yet: nobody to tell.
        return
    send_to_reader(
        reader,
        "request_status_changed",
        {"ill_request": ill_request, "change": change},
        address=ill_request.contact_email,
    )
    if ill_request.status in NOTIFY_ON_BOARD and change.from_status != change.to_status:
        shows_note = (
            change.visible_to_reader and (change.note or change.event)
        ) or "payment_due" in change.params
        notice_send(
            reader=reader,
            # One line per request on the board: its latest change replaces the one before.
            topic=f"request:{ill_request.number}",
            title=NOTICE_TITLE,
            body=NOTICE_BODY_WITH_NOTE if shows_note else NOTICE_BODY,
            params={
                "number": ill_request.number,
                # Both written out when the notice is formatted, once in each language.
                "status": Status(ill_request.status).label,
                "title": ill_request.article_title or ill_request.publication_title,
                "note": lazy(lambda: change.reader_text if shows_note else "", str)(),
            },
        )
