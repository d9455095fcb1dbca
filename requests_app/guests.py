"""Requests of the public account's guests (SPEC 1, 4.3; seed 2.3).

A guest (`accounts.public`) has no reader profile and no prepaid account. Their request
carries the digest of their browser session's guest token (the list of "my requests" in that
browser) and a random nonce from which its private link is signed (`IllRequest.guest_link_key`):
the link e-mailed to the address they gave opens, follows and cancels that one request from
any browser. They pay per request: staff record the payment here, and the request goes on.
"""

import secrets
from datetime import timedelta
from decimal import Decimal

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.public import guest_digest
from core.mail import send_email

from .lifecycle import (
    Details,
    TransitionError,
    guest_paid,
    request_lock,
    request_transition_locked,
)
from .models import (
    REQUEST_FIELDS,
    FeeKind,
    FeeLine,
    GuestPayment,
    IllRequest,
    ServiceType,
    Status,
    StatusChange,
    Urgency,
)
from .services import request_next_number


class GuestLimitReached(Exception):
    """A guest submission over one of the abuse limits, with the reason in words."""


def _check_limits(*, session: str, email: str, client: str) -> None:
    since = timezone.now() - timedelta(hours=settings.GUEST_LIMIT_HOURS)
    recent = IllRequest.objects.filter(is_guest=True, submitted_at__gte=since)
    limits = [
        (
            recent.filter(guest_session=session),
            settings.GUEST_REQUESTS_PER_SESSION,
            _("You have submitted %(limit)s requests from this browser in %(hours)s hours"),
        ),
        (
            recent.filter(contact_email__iexact=email),
            settings.GUEST_REQUESTS_PER_EMAIL,
            _("%(limit)s requests with this e-mail address were submitted in %(hours)s hours"),
        ),
    ]
    if client:
        limits.append(
            (
                recent.filter(guest_client=client),
                settings.GUEST_REQUESTS_PER_ADDRESS,
                _("%(limit)s requests came from your network address in %(hours)s hours"),
            )
        )
    for queryset, limit, reason in limits:
        if queryset.count() >= limit:
            values = {"limit": limit, "hours": settings.GUEST_LIMIT_HOURS}
            raise GuestLimitReached(
                _(
                    "%(reason)s, the most the public account allows. Please try again later, "
                    "or contact the ILL office."
                )
                % {"reason": reason % values}
            )


def guest_request_submit(
    *, session_token: str, data: dict, token: str, language: str, client_address: str = ""
) -> tuple[IllRequest, bool]:
    """Create a guest's request; return it and whether it is new (idempotent on `token`).

    Raises GuestLimitReached over a limit (checked under the request-number lock, so two
    submissions at once cannot both slip under it).
    """
    session = guest_digest(session_token)
    client = guest_digest(client_address) if client_address else ""

    def existing():
        return IllRequest.objects.filter(
            is_guest=True, guest_session=session, submission_token=token
        ).first()

    found = existing()
    if found:
        return found, False
    try:
        with transaction.atomic():
            number = request_next_number()
            found = existing()
            if found:
                return found, False
            _check_limits(session=session, email=data["contact_email"], client=client)
            fields = {key: data[key] for key in REQUEST_FIELDS if key in data}
            # Individuals ask for copies of this library's holdings (seed 2.3).
            fields["service_type"] = ServiceType.COPY
            ill_request = IllRequest.objects.create(
                reader=None,
                is_guest=True,
                guest_session=session,
                guest_link_nonce=secrets.token_hex(16),
                guest_language=language if language in dict(settings.LANGUAGES) else "",
                guest_client=client,
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
                request=ill_request, actor=None, from_status="", to_status=Status.SUBMITTED
            )
            send_email(
                "guest_request_submitted",
                to=ill_request.contact_email,
                context={"ill_request": ill_request, "surcharge": settings.URGENT_SURCHARGE},
                language=ill_request.guest_language or None,
            )
            return ill_request, True
    except IntegrityError:
        found = existing()
        if found:
            return found, False
        raise


def guest_request_by_link(number: int, key: str) -> IllRequest | None:
    """The guest request this private link opens, or None (any other number, any other key)."""
    ill_request = (
        IllRequest.objects.with_total_fee()
        .select_related("delivery")
        .filter(is_guest=True, number=number)
        .first()
    )
    if ill_request is None or not ill_request.guest_link_matches(key):
        return None
    return ill_request


def guest_links_send(*, email: str, language: str) -> None:
    """E-mail the private links of every guest request made with `email` (nothing if none).

    The page says the same either way: it must not tell who asked for what.
    """
    email = email.strip().lower()
    requests = list(
        IllRequest.objects.filter(is_guest=True, contact_email__iexact=email).order_by("-number")[
            :50
        ]
    )
    if requests:
        send_email("guest_links", to=email, context={"requests": requests}, language=language)


def guest_payment_record(
    *, ill_request: IllRequest, amount: Decimal, method: str, note: str, actor
) -> tuple[GuestPayment, str]:
    """Record a guest's payment for their request; once it covers the total, supply the request.

    The payment is saved first, the request moved on in a second transaction: money received
    is recorded whatever becomes of the request. Returns the payment and what happened, in words.
    """
    if not ill_request.is_guest:
        raise TransitionError(_("Only a guest's request is paid for here."))
    with transaction.atomic():
        locked = request_lock(ill_request)
        payment = GuestPayment.objects.create(
            request=locked, amount=amount, method=method, note=note.strip(), recorded_by=actor
        )
    try:
        with transaction.atomic():
            locked = request_lock(ill_request)
            if locked.status != Status.AWAITING_PAYMENT:
                return payment, _("Payment recorded for request %(number)s.") % {
                    "number": locked.number
                }
            request_transition_locked(
                locked, to=Status.DELIVERED, actor=actor, note="", visible=True, details=Details()
            )
    except TransitionError as exc:
        message = _("Payment recorded; request %(number)s is still awaiting payment: %(reason)s")
        return payment, message % {"number": ill_request.number, "reason": exc}
    return payment, _("Payment recorded; request %(number)s is paid for and now “%(status)s”.") % {
        "number": ill_request.number,
        "status": Status.DELIVERED.label,
    }


__all__ = [
    "GuestLimitReached",
    "guest_links_send",
    "guest_paid",
    "guest_payment_record",
    "guest_request_by_link",
    "guest_request_submit",
]
