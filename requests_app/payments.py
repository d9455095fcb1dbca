"""What the prepaid ledger asks of requests: the amounts awaiting payment, and going on once paid.

Registered with `accounts.dues` when the app starts (apps.py): the ledger sits below requests and
cannot look them up itself. The charge at delivery is the lifecycle's (`lifecycle.py`).
"""

from decimal import Decimal

from django.db import transaction
from django.urls import reverse
from django.utils.translation import gettext as _

from accounts.dues import Due

from .lifecycle import Details, TransitionError, request_lock, request_transition_locked
from .models import IllRequest, ServiceType, Status


class RequestDues:
    def dues(self, reader) -> list[Due]:
        awaiting = (
            IllRequest.objects.for_reader(reader)
            .filter(status=Status.AWAITING_PAYMENT)
            .with_total_fee()
            .order_by("number")
        )
        return [
            Due(
                request_number=r.number,
                title=r.article_title or r.publication_title,
                # SQLite's sum drops the scale (12, not 12.00).
                amount=r.total_fee.quantize(Decimal("0.01")),
                url=reverse("request_detail", args=[r.number]),
            )
            for r in awaiting
        ]

    def proceed(self, *, reader, request_number: int, actor) -> tuple[bool, str]:
        """Deliver (copy) or lend (loan, by the return date staff gave) a request now paid for.

        The lifecycle charges it in the same transaction; short of balance, or with the loan's
        return date passed, it stays awaiting payment and staff are told why.
        """
        try:
            with transaction.atomic():
                ill_request = IllRequest.objects.get(reader=reader, number=request_number)
                locked = request_lock(ill_request)
                if locked.status != Status.AWAITING_PAYMENT:
                    return False, ""
                target = Status.DELIVERED
                if locked.service_type == ServiceType.LOAN:
                    target = Status.ON_LOAN
                request_transition_locked(
                    locked,
                    to=target,
                    actor=actor,
                    note="",
                    visible=True,
                    details=Details(return_date=locked.return_date),
                )
        except TransitionError as exc:
            return False, _(
                "Request %(number)s is still awaiting payment: %(reason)s Move it on from the "
                "request's page."
            ) % {"number": request_number, "reason": exc}
        return True, _("Request %(number)s is paid for, charged and now “%(status)s”.") % {
            "number": request_number,
            "status": Status(target).label,
        }
