"""Balances moved before the transfer pair get their missing half (issue 11).

Until now moving an attached old account's money wrote one entry on the reader and marked the
old account `balance_moved_at`. Each such account now gets the old account's half: the opposite
amount, on the old account, naming the reader's entry, dated as it, numbered after every entry
so far (the numbers stay without gaps). Afterwards what is left on an old account is derived from
its entries, and `balance_moved_at` goes (0010).
"""

from datetime import timedelta

from django.db import migrations

TRANSFER_KINDS = ("transfer_in", "transfer_out")
OPPOSITE = {"transfer_in": "transfer_out", "transfer_out": "transfer_in"}


def _reader_half(LedgerEntry, account):
    # Written in the same transaction as the mark, just after it: the reader's unpaired transfer
    # of the account's balance nearest to that moment.
    candidates = LedgerEntry.objects.filter(
        reader_id=account.reader_id,
        kind__in=TRANSFER_KINDS,
        amount=account.balance,
        counterpart__isnull=True,
        counterpart_of__isnull=True,
    )
    near = candidates.filter(
        at__gte=account.balance_moved_at - timedelta(minutes=1),
        at__lte=account.balance_moved_at + timedelta(minutes=1),
    )
    entry = near.order_by("at", "number").first() or candidates.order_by("number").first()
    if entry is None:
        raise RuntimeError(
            f"Old account {account.username} (user ID {account.user_id}) is marked as moved, "
            "but its reader has no transfer of its balance: check the ledger before migrating."
        )
    return entry


def add_missing_halves(apps, schema_editor):
    LegacyAccount = apps.get_model("accounts", "LegacyAccount")
    LedgerEntry = apps.get_model("accounts", "LedgerEntry")
    LedgerCounter = apps.get_model("accounts", "LedgerCounter")
    moved = LegacyAccount.objects.filter(balance_moved_at__isnull=False).order_by(
        "balance_moved_at", "pk"
    )
    for account in moved:
        reader_half = _reader_half(LedgerEntry, account)
        LedgerCounter.objects.bulk_create([LedgerCounter(pk=1)], ignore_conflicts=True)
        counter = LedgerCounter.objects.select_for_update().get(pk=1)
        counter.last += 1
        counter.save(update_fields=["last"])
        LedgerEntry.objects.create(
            number=counter.last,
            at=reader_half.at,
            legacy_account=account,
            kind=OPPOSITE[reader_half.kind],
            amount=-reader_half.amount,
            balance_after=account.balance - reader_half.amount,
            actor_id=reader_half.actor_id,
            counterpart=reader_half,
            note=f"Moved to the reader's account (entry {reader_half.number})",
        )


def mark_moved_again(apps, schema_editor):
    # Back to the mark: the entries stay (a ledger entry is never deleted).
    LegacyAccount = apps.get_model("accounts", "LegacyAccount")
    LedgerEntry = apps.get_model("accounts", "LedgerEntry")
    for entry in LedgerEntry.objects.filter(legacy_account__isnull=False).order_by("number"):
        LegacyAccount.objects.filter(pk=entry.legacy_account_id).update(balance_moved_at=entry.at)


class Migration(migrations.Migration):
    dependencies = [("accounts", "0008_ledger_entries_of_old_accounts")]

    operations = [migrations.RunPython(add_missing_halves, mark_moved_again)]
