"""A request's statuses, the transition table of SPEC 4.4, and the groups of statuses the rest of
the code asks about, derived from the table where the table says it.

Imported by `models.py` (the field's choices, the request's `is_closed`, `can_cancel`…) and by
`lifecycle.py` (which checks and makes the changes); it imports neither.
"""

from django.db import models
from django.utils.translation import gettext_lazy as _


class Status(models.TextChoices):
    SUBMITTED = "submitted", _("Submitted")
    IN_PROCESS = "in_process", _("In process")
    AWAITING_COST_APPROVAL = "awaiting_cost_approval", _("Awaiting cost approval")
    AWAITING_PAYMENT = "awaiting_payment", _("Awaiting payment")
    DELIVERED = "delivered", _("Delivered")
    ON_LOAN = "on_loan", _("On loan")
    RETURNED = "returned", _("Returned")
    UNFILLED = "unfilled", _("Unfilled")
    CANCELLED = "cancelled", _("Cancelled")
    EXPIRED = "expired", _("Expired")


S = Status

# Which status may follow which (SPEC 4.4). Only `lifecycle.py` changes a status.
TRANSITIONS: dict[str, frozenset[str]] = {
    S.SUBMITTED: frozenset(
        {
            S.IN_PROCESS,
            S.AWAITING_COST_APPROVAL,
            S.AWAITING_PAYMENT,
            S.DELIVERED,
            S.ON_LOAN,
            S.UNFILLED,
            S.CANCELLED,
            S.EXPIRED,
        }
    ),
    S.IN_PROCESS: frozenset(
        {
            S.AWAITING_COST_APPROVAL,
            S.AWAITING_PAYMENT,
            S.DELIVERED,
            S.ON_LOAN,
            S.UNFILLED,
            S.CANCELLED,
        }
    ),
    # Accepting the quote puts the request back in process; declining cancels it.
    S.AWAITING_COST_APPROVAL: frozenset(
        {S.IN_PROCESS, S.AWAITING_PAYMENT, S.UNFILLED, S.CANCELLED}
    ),
    S.AWAITING_PAYMENT: frozenset({S.IN_PROCESS, S.DELIVERED, S.ON_LOAN, S.UNFILLED, S.CANCELLED}),
    S.ON_LOAN: frozenset({S.RETURNED}),
    S.DELIVERED: frozenset(),
    S.RETURNED: frozenset(),
    S.UNFILLED: frozenset(),
    S.CANCELLED: frozenset(),
    S.EXPIRED: frozenset(),
}

# --- Derived from the table ------------------------------------------------------------------

# A closed request can change no more: its row of the table is empty.
CLOSED_STATUSES = frozenset(status for status, targets in TRANSITIONS.items() if not targets)
# An open request can still be cancelled: it is not served yet. A loan on the reader's desk is
# not closed, but it is no longer a request to duplicate.
OPEN_STATUSES = frozenset(
    status for status, targets in TRANSITIONS.items() if S.CANCELLED in targets
)

# --- Chosen by the SPEC ----------------------------------------------------------------------

# Only the expiry job ends a request as expired: staff would say unfilled or cancelled.
SYSTEM_ONLY = frozenset({S.EXPIRED})
# Where the reader cancels by themselves; in the other open statuses they can only ask staff to.
READER_CANCELLABLE = frozenset({S.SUBMITTED, S.AWAITING_COST_APPROVAL})
CANCELLATION_ON_REQUEST = OPEN_STATUSES - READER_CANCELLABLE
# Statuses that need the reader to do or know something: these also get a personal notice.
NOTIFY_ON_BOARD = frozenset(
    {S.AWAITING_COST_APPROVAL, S.AWAITING_PAYMENT, S.DELIVERED, S.ON_LOAN, S.UNFILLED, S.EXPIRED}
)
# A request that ends from these statuses was never worked on: the urgent surcharge (charged
# for faster work) is not due, and its fee line goes when the request is cancelled or expires.
NOTHING_DONE_YET = frozenset({S.SUBMITTED, S.AWAITING_COST_APPROVAL})
ENDS_UNSERVED = frozenset({S.CANCELLED, S.EXPIRED})
# The statuses a request takes when the document reaches the reader (the statistics'
# turnaround ends there); supplied, it stays so when a loan is returned (their fill rate).
HANDED_OVER = frozenset({S.DELIVERED, S.ON_LOAN})
SUPPLIED_STATUSES = HANDED_OVER | {S.RETURNED}
# A request with an outcome: closed, or lent (a loan on the reader's desk is filled already).
OUTCOME_STATUSES = CLOSED_STATUSES | {S.ON_LOAN}
# Statuses that end a request with a reason the reader reads (SPEC 4.4: unfilled, with reason).
NEEDS_REASON = frozenset({S.UNFILLED})
