"""Two deliveries for one reader at the same moment never overdraw (PostgreSQL only)."""

from decimal import Decimal

import pytest
from django.db import connection

from accounts.ledger import ledger_balance, ledger_check, ledger_record
from accounts.models import LedgerEntry
from requests_app.lifecycle import request_transition
from requests_app.models import IllRequest, Status
from tests.factories import FeeLineFactory, IllRequestFactory, ReaderFactory, StaffFactory
from tests.requests_app.test_concurrency import race

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="SQLite serialises all writes, so it cannot show a race; run with DATABASE_URL "
        "pointing at PostgreSQL",
    ),
]


def test_two_deliveries_racing_for_one_balance_charge_once_and_never_overdraw():
    reader = ReaderFactory()
    staff = StaffFactory()
    requests = []
    for _ in range(2):
        ill_request = IllRequestFactory(reader=reader, status=Status.IN_PROCESS)
        FeeLineFactory(request=ill_request, amount=Decimal("30.00"))
        requests.append(ill_request)
    ledger_record(reader=reader, kind="deposit", amount="50.00", actor=staff, method="cash")

    results = race(
        *[
            (lambda r=r: request_transition(ill_request=r, to="delivered", actor=staff))
            for r in requests
        ]
    )

    assert all(isinstance(result, IllRequest) for result in results), results
    statuses = sorted(IllRequest.objects.values_list("status", flat=True))
    assert statuses == [Status.AWAITING_PAYMENT, Status.DELIVERED]
    assert LedgerEntry.objects.filter(kind="charge").count() == 1
    assert ledger_balance(reader) == Decimal("20.00")
    assert ledger_check() == []


def test_many_charges_and_deposits_at_once_keep_the_cache_equal_to_the_sum():
    reader = ReaderFactory()
    staff = StaffFactory()
    ledger_record(reader=reader, kind="deposit", amount="100.00", actor=staff, method="cash")
    requests = []
    for _ in range(4):
        ill_request = IllRequestFactory(reader=reader, status=Status.IN_PROCESS)
        FeeLineFactory(request=ill_request, amount=Decimal("30.00"))
        requests.append(ill_request)
    actions = [
        (lambda r=r: request_transition(ill_request=r, to="delivered", actor=staff))
        for r in requests
    ] + [
        lambda: ledger_record(
            reader=reader, kind="deposit", amount="1.00", actor=staff, method="cash"
        )
        for _ in range(3)
    ]
    race(*actions)
    assert ledger_balance(reader) >= 0
    assert ledger_check() == []
    delivered = IllRequest.objects.filter(status=Status.DELIVERED).count()
    assert ledger_balance(reader) == Decimal("103.00") - 30 * delivered
    assert delivered == 3


def test_one_entry_form_sent_twice_at_once_records_the_money_once():
    reader = ReaderFactory()
    staff = StaffFactory()

    def send():
        return ledger_record(
            reader=reader,
            kind="deposit",
            amount="50.00",
            actor=staff,
            method="cash",
            token="a" * 32,
        )

    results = race(send, send)
    assert results[0].pk == results[1].pk
    assert LedgerEntry.objects.count() == 1
    assert ledger_balance(reader) == Decimal("50.00")
