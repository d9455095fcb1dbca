"""Balances moved before the transfer pair existed get their old account's half (migration 0009)."""

from decimal import Decimal

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from accounts.ledger import ledger_balance, ledger_check, ledger_legacy_balance
from accounts.legacy import LegacyAccount
from accounts.legacy_link import legacy_link
from accounts.models import LedgerEntry
from tests.factories import ReaderFactory, StaffFactory

pytestmark = pytest.mark.django_db(transaction=True)

BEFORE = [("accounts", "0008_ledger_entries_of_old_accounts")]


def migrate(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


def latest():
    return MigrationExecutor(connection).loader.graph.leaf_nodes()


def old(user_id, balance):
    return LegacyAccount.objects.create(
        user_id=user_id,
        username=f"old-{user_id}",
        id_type="library_card",
        id_number="3245",
        balance=Decimal(balance),
        status="active",
        created_at=timezone.now(),
    )


def record_the_old_way(apps, reader, kind, amount, actor):
    """What `ledger_record` wrote then, in the schema of then (later migrations add columns
    today's model would write)."""
    Account = apps.get_model("accounts", "Account")
    Counter = apps.get_model("accounts", "LedgerCounter")
    Entry = apps.get_model("accounts", "LedgerEntry")
    account, _created = Account.objects.get_or_create(reader_id=reader.pk)
    account.balance += amount
    account.save()
    counter, _created = Counter.objects.get_or_create(pk=1)
    counter.last += 1
    counter.save()
    Entry.objects.create(
        number=counter.last,
        reader_id=reader.pk,
        kind=kind,
        amount=amount,
        balance_after=account.balance,
        actor_id=actor.pk,
    )


def test_a_balance_moved_the_old_way_gets_its_other_half():
    reader = ReaderFactory()
    staff = StaffFactory()
    legacy_link(legacy_account=old(1, "10.00"), reader=reader, actor=staff)
    credit, debt, untouched = old(2, "20.00"), old(3, "-4.00"), old(4, "7.00")
    try:
        apps = migrate(BEFORE)
        OldAccount = apps.get_model("accounts", "LegacyAccount")
        # What legacy_move_balance wrote until now: the mark, then one entry on the reader.
        for account, kind in ((credit, "transfer_in"), (debt, "transfer_out")):
            OldAccount.objects.filter(pk=account.pk).update(
                reader_id=reader.pk,
                link_kind="attached",
                linked_at=timezone.now(),
                balance_moved_at=timezone.now(),
            )
            record_the_old_way(apps, reader, kind, account.balance, staff)
        OldAccount.objects.filter(pk=untouched.pk).update(
            reader_id=reader.pk, link_kind="attached", linked_at=timezone.now()
        )
    finally:
        migrate(latest())
    for account in (credit, debt):
        half = LedgerEntry.objects.get(legacy_account=account)
        assert half.amount == -account.balance
        assert half.counterpart.reader == reader
        assert half.counterpart.amount == account.balance
        assert half.actor == staff
        assert ledger_legacy_balance(account) == Decimal("0.00")
    assert not LedgerEntry.objects.filter(legacy_account=untouched).exists()
    assert ledger_legacy_balance(untouched) == Decimal("7.00")
    assert ledger_balance(reader) == Decimal("26.00")
    assert ledger_check() == []
