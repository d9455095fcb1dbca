"""The ledger: balances are sums of entries, and entries are never changed or deleted."""

from decimal import Decimal

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import DatabaseError, connection, transaction

from accounts.ledger import (
    InsufficientBalance,
    LedgerError,
    ledger_balance,
    ledger_charge,
    ledger_check,
    ledger_record,
    ledger_sum,
)
from accounts.models import Account, AppendOnlyError, LedgerEntry

pytestmark = pytest.mark.django_db


def deposit(reader, amount, actor=None, **kwargs):
    return ledger_record(
        reader=reader, kind="deposit", amount=amount, actor=actor, method="cash", **kwargs
    )


def test_the_balance_is_the_sum_of_the_entries(reader_a, staff):
    deposit(reader_a, "100.00", staff)
    ledger_charge(reader=reader_a, amount="35.50", actor=staff, request_number=7, request_title="T")
    ledger_record(reader=reader_a, kind="refund", amount="5.50", actor=staff, request_number=7)
    ledger_record(reader=reader_a, kind="adjustment", amount="-0.10", actor=staff, note="fix")
    assert ledger_balance(reader_a) == Decimal("69.90")
    assert ledger_sum(reader_a) == Decimal("69.90")
    entries = list(LedgerEntry.objects.order_by("number"))
    assert [e.number for e in entries] == [1, 2, 3, 4]
    assert [e.balance_after for e in entries] == [
        Decimal("100.00"),
        Decimal("64.50"),
        Decimal("70.00"),
        Decimal("69.90"),
    ]
    assert [e.amount for e in entries] == [
        Decimal("100.00"),
        Decimal("-35.50"),
        Decimal("5.50"),
        Decimal("-0.10"),
    ]
    assert ledger_check() == []


def test_each_readers_balance_is_their_own(reader_a, reader_b, staff):
    deposit(reader_a, "10", staff)
    deposit(reader_b, "3", staff)
    assert ledger_balance(reader_a) == Decimal("10.00")
    assert ledger_balance(reader_b) == Decimal("3.00")


def test_a_charge_above_the_balance_is_refused_and_writes_nothing(reader_a, staff):
    deposit(reader_a, "10.00", staff)
    with pytest.raises(InsufficientBalance) as refused:
        ledger_charge(reader=reader_a, amount="12.50", actor=staff, request_number=1)
    assert refused.value.shortfall == Decimal("2.50")
    assert LedgerEntry.objects.count() == 1
    assert ledger_balance(reader_a) == Decimal("10.00")


def test_a_charge_of_nothing_writes_nothing(reader_a, staff):
    assert ledger_charge(reader=reader_a, amount="0", actor=staff, request_number=1) is None
    assert not LedgerEntry.objects.exists()


@pytest.mark.parametrize(
    ("kind", "amount", "extra", "field"),
    [
        ("deposit", "-5", {"method": "cash"}, "amount"),
        ("deposit", "5", {}, "method"),
        ("deposit", "0", {"method": "cash"}, "amount"),
        ("deposit", "abc", {"method": "cash"}, "amount"),
        ("deposit", "1e20", {"method": "cash"}, "amount"),
        ("refund", "5", {}, "request"),
        ("refund", "5", {"request_number": 99}, "amount"),
        ("debt_settlement", "5", {"method": "cash"}, "kind"),
        ("nonsense", "5", {}, "kind"),
    ],
)
def test_entries_that_break_a_rule_are_refused_with_the_field(
    reader_a, staff, kind, amount, extra, field
):
    with pytest.raises(LedgerError) as refused:
        ledger_record(reader=reader_a, kind=kind, amount=amount, actor=staff, **extra)
    assert refused.value.field == field
    assert not LedgerEntry.objects.exists()


def test_a_debt_is_settled_up_to_its_amount(reader_a, staff):
    ledger_record(reader=reader_a, kind="opening_balance", amount="-20", actor=None)
    with pytest.raises(LedgerError):
        ledger_record(
            reader=reader_a, kind="debt_settlement", amount="25", actor=staff, method="cash"
        )
    ledger_record(reader=reader_a, kind="debt_settlement", amount="20", actor=staff, method="cash")
    assert ledger_balance(reader_a) == Decimal("0.00")


def test_an_entry_cannot_be_changed_or_deleted_through_the_orm(reader_a, staff):
    entry = deposit(reader_a, "10", staff)
    entry.amount = Decimal("1000")
    with pytest.raises(AppendOnlyError):
        entry.save()
    with pytest.raises(AppendOnlyError):
        entry.delete()
    with pytest.raises(AppendOnlyError):
        LedgerEntry.objects.filter(pk=entry.pk).update(amount=1000)
    with pytest.raises(AppendOnlyError):
        LedgerEntry.objects.all().delete()
    entry.refresh_from_db()
    assert entry.amount == Decimal("10.00")


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the trigger is PostgreSQL's")
@pytest.mark.parametrize(
    "sql",
    [
        "UPDATE accounts_ledgerentry SET amount = 1000",
        "DELETE FROM accounts_ledgerentry",
    ],
)
def test_postgresql_refuses_a_stray_update_or_delete(reader_a, staff, sql):
    entry = deposit(reader_a, "10", staff)
    with (
        pytest.raises(DatabaseError, match="append-only"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(sql)
    entry.refresh_from_db()
    assert entry.amount == Decimal("10.00")


def test_check_ledger_passes_on_a_sound_ledger(reader_a, staff, capsys):
    deposit(reader_a, "10", staff)
    call_command("check_ledger")
    assert "Ledger OK: 1 entries" in capsys.readouterr().out


def test_check_ledger_finds_a_cache_that_disagrees(reader_a, staff):
    deposit(reader_a, "10", staff)
    Account.objects.filter(reader=reader_a).update(balance=Decimal("11.00"))
    with pytest.raises(CommandError, match="1 problem"):
        call_command("check_ledger")
    assert ledger_check() == [
        f"reader {reader_a.pk}: balance row says 11.00, the entries sum to 10.00"
    ]


def test_a_balance_beyond_what_the_ledger_holds_is_refused_and_writes_nothing(
    reader_a, reader_b, staff
):
    # Found by a probe: each amount fits (at most 99,999,999.99) but their sum did not, and
    # every page showing the reader's balance answered 500 from then on.
    deposit(reader_a, "87.30", staff)
    with pytest.raises(LedgerError, match="99999999.99") as refused:
        deposit(reader_a, "99999999.99", staff)
    assert refused.value.field == "amount"
    assert LedgerEntry.objects.count() == 1
    assert ledger_balance(reader_a) == Decimal("87.30") == ledger_sum(reader_a)
    # The same below 0.
    adjust = {"kind": "adjustment", "amount": "-99999999.99", "actor": staff, "note": "x"}
    ledger_record(reader=reader_b, **adjust)
    with pytest.raises(LedgerError, match="99999999.99"):
        ledger_record(reader=reader_b, **adjust)
    assert ledger_balance(reader_b) == Decimal("-99999999.99") == ledger_sum(reader_b)


def test_a_form_token_of_another_readers_entry_records_nothing_and_says_so(
    reader_a, reader_b, staff
):
    deposit(reader_a, "5.00", staff, token="t" * 32)
    with pytest.raises(LedgerError):
        deposit(reader_b, "5.00", staff, token="t" * 32)
    assert ledger_balance(reader_b) == Decimal("0.00")
    assert ledger_balance(reader_a) == Decimal("5.00")
