"""An attached old account's money moves to its reader as a transfer pair (SPEC 3, issue 11).

The old account has entries of its own: moving writes a "transfer out" on the old account and a
"transfer in" on the reader (or the other way round for a debt), the two halves naming each
other, so the money is never lost and never counted twice.
"""

from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone, translation

from accounts.ledger import (
    ledger_balance,
    ledger_check,
    ledger_legacy_balance,
    ledger_record,
    ledger_sum,
)
from accounts.legacy import LegacyAccount
from accounts.legacy_link import LegacyLinkError, legacy_attach, legacy_link, legacy_move_balance
from accounts.models import EntryKind, LedgerEntry
from accounts.statements import BOM

pytestmark = pytest.mark.django_db


def old(username, user_id, balance, **fields):
    return LegacyAccount.objects.create(
        user_id=user_id,
        username=username,
        password="",
        name="旧读者",
        id_type="library_card",
        id_number="3245",
        balance=Decimal(balance),
        status="active",
        created_at=timezone.now(),
        **fields,
    )


@pytest.fixture
def attached(reader_a, staff):
    """reader_a continues with old-x (10.00) and has old-y (20.00) attached as history."""
    legacy_link(legacy_account=old("old-x", 1, "10.00"), reader=reader_a, actor=staff)
    return legacy_attach(
        legacy_account=old("old-y", 2, "20.00"), reader=reader_a, actor=staff, same_person=False
    )


def test_moving_writes_a_pair_that_sums_to_zero(reader_a, staff, attached):
    assert ledger_legacy_balance(attached) == Decimal("20.00")
    entry_in = legacy_move_balance(legacy_account=attached, actor=staff)
    entry_out = entry_in.counterpart
    assert (entry_in.reader, entry_in.legacy_account) == (reader_a, None)
    assert (entry_out.reader, entry_out.legacy_account) == (None, attached)
    assert (entry_in.kind, entry_in.amount) == (EntryKind.TRANSFER_IN, Decimal("20.00"))
    assert (entry_out.kind, entry_out.amount) == (EntryKind.TRANSFER_OUT, Decimal("-20.00"))
    assert entry_in.amount + entry_out.amount == 0
    # Each half finds the other.
    assert entry_out.transfer_partner() == entry_in
    assert entry_in.transfer_partner() == entry_out
    assert entry_out.balance_after == Decimal("0.00")
    assert ledger_legacy_balance(attached) == Decimal("0.00")
    assert ledger_balance(reader_a) == ledger_sum(reader_a) == Decimal("30.00")
    assert entry_in.balance_after == Decimal("30.00")
    assert ledger_check() == []


def test_a_debt_moves_the_other_way(reader_a, staff):
    legacy_link(legacy_account=old("old-x", 1, "10.00"), reader=reader_a, actor=staff)
    twin = legacy_attach(
        legacy_account=old("old-y", 2, "-4.00"), reader=reader_a, actor=staff, same_person=False
    )
    entry = legacy_move_balance(legacy_account=twin, actor=staff)
    assert (entry.kind, entry.amount) == (EntryKind.TRANSFER_OUT, Decimal("-4.00"))
    assert (entry.counterpart.kind, entry.counterpart.amount) == (
        EntryKind.TRANSFER_IN,
        Decimal("4.00"),
    )
    assert ledger_legacy_balance(twin) == Decimal("0.00")
    assert ledger_balance(reader_a) == Decimal("6.00")
    assert ledger_check() == []


def test_a_second_move_is_refused_and_writes_nothing(reader_a, staff, attached):
    legacy_move_balance(legacy_account=attached, actor=staff)
    count = LedgerEntry.objects.count()
    # (The refusal is in the active language: English here, whatever ran before.)
    with translation.override("en"), pytest.raises(LegacyLinkError, match="Nothing is left"):
        legacy_move_balance(legacy_account=attached, actor=staff)
    assert LedgerEntry.objects.count() == count
    assert ledger_balance(reader_a) == Decimal("30.00")


def test_the_linked_accounts_money_stays_the_opening_balance(reader_a, staff, attached):
    linked = LegacyAccount.objects.get(username="old-x")
    with pytest.raises(LegacyLinkError):
        legacy_move_balance(legacy_account=linked, actor=staff)
    opening = LedgerEntry.objects.get(kind=EntryKind.OPENING_BALANCE)
    assert (opening.reader, opening.amount) == (reader_a, Decimal("10.00"))
    assert not LedgerEntry.objects.filter(legacy_account=linked).exists()


def test_an_entry_belongs_to_exactly_one_reader_or_old_account(reader_a, attached):
    for owner in ({"reader": reader_a, "legacy_account": attached}, {}):
        with pytest.raises(IntegrityError), transaction.atomic():
            LedgerEntry.objects.create(
                number=99, kind="transfer_in", amount=1, balance_after=1, **owner
            )


def test_an_old_account_holds_only_transfers(attached):
    with pytest.raises(IntegrityError), transaction.atomic():
        LedgerEntry.objects.create(
            number=99,
            kind="adjustment",
            amount=1,
            balance_after=21,
            legacy_account=attached,
            note="x",
        )


def test_the_check_finds_a_transfer_without_its_other_half(reader_a, attached):
    LedgerEntry.objects.create(
        number=2, kind="transfer_out", amount=-20, balance_after=0, legacy_account=attached
    )
    problems = ledger_check()
    assert any("entry 2" in p and "other half" in p for p in problems), problems


def test_the_readers_statement_shows_the_transfer_in_only(client_a, reader_a, staff, attached):
    legacy_move_balance(legacy_account=attached, actor=staff)
    statement = client_a.get(reverse("account_statement"), HTTP_ACCEPT_LANGUAGE="en")
    text = statement.content.decode()
    assert "Transfer in" in text and "Transfer out" not in text
    csv_text = client_a.get(reverse("account_statement_csv")).content.decode("utf-8")
    assert "20.00" in csv_text and "-20.00" not in csv_text


def test_the_readers_page_says_the_money_was_moved(client_a, staff, attached):
    page = client_a.get(reverse("account_legacy"), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Not moved yet" in page
    legacy_move_balance(legacy_account=attached, actor=staff)
    page = client_a.get(reverse("account_legacy"), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Moved to your account" in page and "Not moved yet" not in page


def test_the_finance_export_lists_both_halves(admin_client, staff, attached):
    legacy_move_balance(legacy_account=attached, actor=staff)
    today = timezone.localdate().isoformat()
    response = admin_client.get(
        reverse("admin:accounts_ledgerentry_export"),
        {"start": today, "end": today},
        HTTP_ACCEPT_LANGUAGE="en",
    )
    text = response.content.decode("utf-8").removeprefix(BOM)
    out_row = next(line for line in text.splitlines() if ",-20.00," in line)
    assert "old-y" in out_row
    per_kind = text.split("Total per kind")[1]
    assert "Transfer in,1,20.00" in per_kind and "Transfer out,1,-20.00" in per_kind


def test_the_old_accounts_admin_page_shows_its_entries_and_history(admin_client, staff, attached):
    change = reverse("admin:accounts_legacyaccount_change", args=[attached.pk])
    page = admin_client.get(change, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert reverse("admin:accounts_legacyaccount_move", args=[attached.pk]) in page
    entry_in = legacy_move_balance(legacy_account=attached, actor=staff)
    page = admin_client.get(change, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert reverse("admin:accounts_legacyaccount_move", args=[attached.pk]) not in page
    out_url = reverse("admin:accounts_ledgerentry_change", args=[entry_in.counterpart.pk])
    in_url = reverse("admin:accounts_ledgerentry_change", args=[entry_in.pk])
    assert out_url in page and in_url in page and "-20.00" in page
    history = admin_client.get(
        reverse("admin:accounts_legacyaccount_history", args=[attached.pk]),
        HTTP_ACCEPT_LANGUAGE="en",
    ).content.decode()
    assert "ledger entry" in history and "-20.00" in history


def test_the_entries_list_names_the_old_account(admin_client, staff, attached):
    legacy_move_balance(legacy_account=attached, actor=staff)
    listing = admin_client.get(reverse("admin:accounts_ledgerentry_changelist")).content.decode()
    assert "old-y" in listing


def test_staff_entries_on_the_reader_still_follow_the_transfer(reader_a, staff, attached):
    legacy_move_balance(legacy_account=attached, actor=staff)
    entry = ledger_record(reader=reader_a, kind="adjustment", amount="-1.00", actor=staff, note="x")
    assert entry.balance_after == Decimal("29.00")
    assert ledger_check() == []


def test_the_old_systems_notes_read_in_the_language_of_whoever_reads_them(
    client_a, reader_a, admin_client, staff, attached
):
    # Linked and moved while the staff member's (or the reader's) language was Chinese: the
    # entries' notes are still the reader's language on the statement, and the finance
    # office's in its export.
    with translation.override("zh-hans"):
        legacy_move_balance(legacy_account=attached, actor=staff)
    statement = client_a.get(reverse("account_statement"), HTTP_ACCEPT_LANGUAGE="en")
    text = statement.content.decode()
    assert "Balance of old account “old-x”" in text
    assert "Balance of attached old account “old-y”" in text
    assert "旧帐户" not in text
    chinese = client_a.get(reverse("account_statement"), HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert "旧帐户“old-x”的余额" in chinese.content.decode()
    csv_text = client_a.get(
        reverse("account_statement_csv"), HTTP_ACCEPT_LANGUAGE="en"
    ).content.decode("utf-8")
    assert "Balance of attached old account “old-y”" in csv_text
    today = timezone.localdate().isoformat()
    export = admin_client.get(
        reverse("admin:accounts_ledgerentry_export"),
        {"start": today, "end": today},
        HTTP_ACCEPT_LANGUAGE="en",
    ).content.decode("utf-8")
    assert "Moved to the account of" in export and "已转入" not in export
    entry = LedgerEntry.objects.get(reader=reader_a, kind=EntryKind.OPENING_BALANCE)
    page = admin_client.get(
        reverse("admin:accounts_ledgerentry_change", args=[entry.pk]), HTTP_ACCEPT_LANGUAGE="en"
    ).content.decode()
    assert "Balance of old account “old-x”" in page
