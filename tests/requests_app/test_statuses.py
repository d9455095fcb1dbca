"""The status groups, written out literally from SPEC 4.4: the code derives some of them from
the transition table, so a change to the table that moves a group shows here."""

import pytest

from requests_app.models import IllRequest
from requests_app.statuses import (
    CANCELLATION_ON_REQUEST,
    CLOSED_STATUSES,
    OPEN_STATUSES,
    READER_CANCELLABLE,
    Status,
)

S = Status


def test_closed_statuses():
    assert {S.DELIVERED, S.RETURNED, S.UNFILLED, S.CANCELLED, S.EXPIRED} == CLOSED_STATUSES


def test_open_statuses_leave_out_the_loan_and_the_closed():
    assert {
        S.SUBMITTED,
        S.IN_PROCESS,
        S.AWAITING_COST_APPROVAL,
        S.AWAITING_PAYMENT,
    } == OPEN_STATUSES


def test_cancellation_on_request_is_where_staff_already_work():
    assert {S.SUBMITTED, S.AWAITING_COST_APPROVAL} == READER_CANCELLABLE
    assert {S.IN_PROCESS, S.AWAITING_PAYMENT} == CANCELLATION_ON_REQUEST


# status: (is_closed, can_cancel, can_ask_cancellation, awaits_cost_approval, awaits_payment,
#          is_on_loan)
EXPECTED = {
    "submitted": (False, True, False, False, False, False),
    "in_process": (False, False, True, False, False, False),
    "awaiting_cost_approval": (False, True, False, True, False, False),
    "awaiting_payment": (False, False, True, False, True, False),
    "on_loan": (False, False, False, False, False, True),
    "delivered": (True, False, False, False, False, False),
    "returned": (True, False, False, False, False, False),
    "unfilled": (True, False, False, False, False, False),
    "cancelled": (True, False, False, False, False, False),
    "expired": (True, False, False, False, False, False),
}


@pytest.mark.parametrize(("status", "expected"), EXPECTED.items())
def test_what_the_request_answers(status, expected):
    ill_request = IllRequest(status=status)
    assert (
        ill_request.is_closed,
        ill_request.can_cancel,
        ill_request.can_ask_cancellation,
        ill_request.awaits_cost_approval,
        ill_request.awaits_payment,
        ill_request.is_on_loan,
    ) == expected


def test_a_pending_cancellation_is_not_asked_again():
    assert not IllRequest(status="in_process", cancellation_requested=True).can_ask_cancellation


def test_every_status_is_in_the_table():
    assert set(EXPECTED) == set(Status.values)
