"""Two links or moves of one old account at the same moment happen once (PostgreSQL only)."""

from decimal import Decimal

import pytest
from django.db import connection
from django.utils import timezone

from accounts.hashers import wrap_legacy_password
from accounts.ledger import ledger_balance, ledger_check, ledger_legacy_balance
from accounts.legacy import LegacyAccount
from accounts.legacy_link import LegacyLinkError, legacy_link, legacy_move_balance
from accounts.models import LedgerEntry
from tests.factories import ReaderFactory, StaffFactory
from tests.requests_app.test_concurrency import race

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="SQLite serialises all writes, so it cannot show a race; run with DATABASE_URL "
        "pointing at PostgreSQL",
    ),
]


def old(user_id, **fields):
    return LegacyAccount.objects.create(
        user_id=user_id,
        username=f"old-{user_id}",
        password=wrap_legacy_password("PLAIN:pw"),
        id_type="library_card",
        id_number="3245",
        balance=Decimal("40.00"),
        status="active",
        created_at=timezone.now(),
        **fields,
    )


def test_two_readers_confirming_one_old_account_at_once_link_it_once():
    account = old(1)
    readers = [ReaderFactory(), ReaderFactory()]
    results = race(
        *[
            (lambda r=r: legacy_link(legacy_account=account, reader=r, actor=r.user))
            for r in readers
        ]
    )
    linked = [r for r in results if isinstance(r, LegacyAccount)]
    refused = [r for r in results if isinstance(r, LegacyLinkError)]
    assert (len(linked), len(refused)) == (1, 1), results
    assert LedgerEntry.objects.filter(kind="opening_balance").count() == 1
    assert ledger_check() == []


def test_staff_moving_an_attached_balance_twice_at_once_move_it_once():
    reader = ReaderFactory()
    staff = StaffFactory()
    legacy_link(legacy_account=old(1), reader=reader, actor=staff)
    twin = old(2)
    LegacyAccount.objects.filter(pk=twin.pk).update(
        reader=reader, link_kind="attached", linked_at=timezone.now()
    )
    results = race(
        *[(lambda: legacy_move_balance(legacy_account=twin, actor=staff)) for _ in range(2)]
    )
    assert sum(isinstance(r, LegacyLinkError) for r in results) == 1, results
    # One pair: out of the old account, into the reader's; the old account is left at 0.
    assert LedgerEntry.objects.filter(reader=reader, kind="transfer_in").count() == 1
    assert LedgerEntry.objects.filter(legacy_account=twin, kind="transfer_out").count() == 1
    assert ledger_legacy_balance(twin) == Decimal("0.00")
    assert ledger_balance(reader) == Decimal("80.00")
    assert ledger_check() == []
