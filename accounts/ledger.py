"""The one writer of the prepaid ledger, and the reads the pages share.

Every entry is added by `ledger_record` (staff's deposits, payments, refunds, adjustments; the
opening balance of a linked old account), `ledger_charge` (the lifecycle, when a request is
delivered or lent) or `ledger_move_legacy_balance` (an attached old account's money, as a
transfer pair). Each locks the reader's balance row first (a move the old account's row before
it), so the balance they check is the balance they change, and writes the entry, its running
reference number and the new balance in the caller's transaction. What each kind may be is said
once, in `RULES`.
"""

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from django.conf import settings
from django.db import transaction
from django.db.models import Sum
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from core.mail import send_to_reader

from .legacy import LegacyAccount
from .models import (
    CREDIT_KINDS,
    DEBIT_KINDS,
    PAYMENT_KINDS,
    TRANSFER_KINDS,
    Account,
    EntryKind,
    LedgerCounter,
    LedgerEntry,
)

CENT = Decimal("0.01")
ZERO = Decimal("0.00")
# The largest amount an entry holds (MONEY: ten digits, two after the point).
AMOUNT_MAX = Decimal("99999999.99")


class LedgerError(Exception):
    """An entry the ledger refuses, with the reason in words and the field it is about."""

    def __init__(self, message, *, field: str | None = None):
        super().__init__(message)
        self.field = field


class InsufficientBalance(LedgerError):
    """A charge larger than the balance: nothing was written."""

    def __init__(self, *, balance: Decimal, due: Decimal):
        self.balance = balance
        self.due = due
        self.shortfall = (due - balance).quantize(CENT)
        super().__init__(
            _(
                "The balance of %(balance)s yuan does not cover %(due)s yuan: "
                "%(shortfall)s yuan are missing."
            )
            % {"balance": balance, "due": due, "shortfall": self.shortfall}
        )


@dataclass(frozen=True)
class Rule:
    staff_records: bool  # offered on staff's form
    needs_request: bool = False


RULES = {
    EntryKind.DEPOSIT: Rule(staff_records=True),
    EntryKind.CHARGE: Rule(staff_records=False, needs_request=True),
    EntryKind.REFUND: Rule(staff_records=True, needs_request=True),
    EntryKind.ADJUSTMENT: Rule(staff_records=True),
    EntryKind.OPENING_BALANCE: Rule(staff_records=False),
    EntryKind.DEBT_SETTLEMENT: Rule(staff_records=True),
    EntryKind.TRANSFER_IN: Rule(staff_records=False),
    EntryKind.TRANSFER_OUT: Rule(staff_records=False),
}
STAFF_KINDS = [kind for kind, rule in RULES.items() if rule.staff_records]


def money(value) -> Decimal:
    """`value` as yuan with two places; LedgerError for anything that is not an amount."""
    try:
        amount = Decimal(str(value)).quantize(CENT)
    except (InvalidOperation, ValueError, TypeError):
        raise LedgerError(_("Give an amount in yuan, like 12.50."), field="amount") from None
    if not amount.is_finite() or abs(amount) > AMOUNT_MAX:
        raise LedgerError(_("Give an amount in yuan, like 12.50."), field="amount")
    return amount


def ledger_balance(reader) -> Decimal:
    """The reader's balance as cached on their balance row (0 before their first entry)."""
    balance = Account.objects.filter(reader=reader).values_list("balance", flat=True).first()
    return ZERO if balance is None else balance.quantize(CENT)


def ledger_sum(reader) -> Decimal:
    """The balance as the sum of the entries (what `check_ledger` compares the cache with)."""
    total = LedgerEntry.objects.for_reader(reader).aggregate(total=Sum("amount"))["total"]
    return (total or ZERO).quantize(CENT)


def ledger_legacy_balance(legacy_account) -> Decimal:
    """What is left on an old account: its imported balance plus its own entries (0 once moved)."""
    left = (
        LegacyAccount.objects.with_balance_left()
        .values_list("balance_left", flat=True)
        .get(pk=legacy_account.pk)
    )
    return Decimal(left).quantize(CENT)


def ledger_owing(reader) -> Decimal | None:
    """What the reader owes (a positive amount) when the operator blocks requests for it."""
    if not settings.BLOCK_REQUESTS_WHEN_OWING:
        return None
    balance = ledger_balance(reader)
    return -balance if balance < 0 else None


def _lock_account(reader) -> Account:
    # The row may not exist yet (a reader's first entry); creating it must not race either.
    Account.objects.bulk_create([Account(reader=reader)], ignore_conflicts=True)
    return Account.objects.select_for_update().get(reader=reader)


def _next_number() -> int:
    # Taken after the account lock, always in that order, so two writers never wait on each
    # other crosswise.
    LedgerCounter.objects.bulk_create([LedgerCounter(pk=1)], ignore_conflicts=True)
    counter = LedgerCounter.objects.select_for_update().get(pk=1)
    counter.last += 1
    counter.save(update_fields=["last"])
    return counter.last


def _check_sign(kind: str, amount: Decimal) -> None:
    if amount == 0:
        raise LedgerError(_("An entry of 0 yuan changes nothing."), field="amount")
    if kind in CREDIT_KINDS and amount < 0:
        raise LedgerError(
            _("A %(kind)s is an amount above 0.") % {"kind": EntryKind(kind).label.lower()},
            field="amount",
        )
    if kind in DEBIT_KINDS and amount > 0:
        raise LedgerError(
            _("A %(kind)s is an amount below 0.") % {"kind": EntryKind(kind).label.lower()},
            field="amount",
        )


def _write(account: Account, **fields) -> LedgerEntry:
    balance = (account.balance + fields["amount"]).quantize(CENT)
    if abs(balance) > AMOUNT_MAX:
        # Each amount fits the money columns; their sum must too, or the balance is unreadable.
        raise LedgerError(
            _("This entry would take the balance beyond %(max)s yuan either way.")
            % {"max": AMOUNT_MAX},
            field="amount",
        )
    account.balance = balance
    account.save(update_fields=["balance", "updated_at"])
    return LedgerEntry.objects.create(
        number=_next_number(),
        reader=account.reader,
        balance_after=account.balance,
        **fields,
    )


def ledger_record(
    *,
    reader,
    kind: str,
    amount,
    actor,
    method: str = "",
    note: str = "",
    note_params: dict | None = None,
    request_number: int | None = None,
    request_title: str = "",
    token: str | None = None,
) -> LedgerEntry:
    """Add one entry of `kind` with the signed `amount` to the reader's ledger, or refuse.

    Idempotent on `token` (one per entry form shown): the same form sent twice returns the
    entry the first one wrote.

    A refund gives back (part of) what a request was charged, never more; a debt settlement
    pays off a negative balance, never more than the debt. A payment (deposit, settlement)
    says how the reader paid, and the reader is e-mailed a receipt.
    """
    if kind not in EntryKind.values:
        raise LedgerError(_("“%(kind)s” is not a kind of entry.") % {"kind": kind}, field="kind")
    kind = EntryKind(kind)
    amount = money(amount)
    _check_sign(kind, amount)
    if kind in PAYMENT_KINDS and not method:
        raise LedgerError(_("Say how the reader paid."), field="method")
    if kind not in PAYMENT_KINDS:
        method = ""
    if RULES[kind].needs_request and not request_number:
        raise LedgerError(_("Give the number of the request this concerns."), field="request")
    with transaction.atomic():
        account = _lock_account(reader)
        # Under the reader's lock a twin sent at the same moment has committed or not started.
        if token and (twin := LedgerEntry.objects.filter(submission_token=token).first()):
            if twin.reader_id != account.reader_id:
                raise LedgerError(
                    _("This form was used for another reader's entry: open the form again.")
                )
            return twin
        if kind == EntryKind.REFUND:
            charged = -(
                LedgerEntry.objects.for_reader(reader)
                .filter(
                    request_number=request_number,
                    kind__in=[EntryKind.CHARGE, EntryKind.REFUND],
                )
                .aggregate(total=Sum("amount"))["total"]
                or ZERO
            )
            if amount > charged:
                raise LedgerError(
                    _(
                        "Request %(number)s was charged %(charged)s yuan (after earlier "
                        "refunds): a refund cannot be more."
                    )
                    % {"number": request_number, "charged": charged.quantize(CENT)},
                    field="amount",
                )
        if kind == EntryKind.DEBT_SETTLEMENT:
            if account.balance >= 0:
                raise LedgerError(
                    _("The reader owes nothing: record a deposit instead."), field="kind"
                )
            if amount > -account.balance:
                raise LedgerError(
                    _("The reader owes %(debt)s yuan: a settlement cannot be more.")
                    % {"debt": (-account.balance).quantize(CENT)},
                    field="amount",
                )
        entry = _write(
            account,
            kind=kind,
            amount=amount,
            actor=actor,
            method=method,
            note=note.strip(),
            note_params=note_params,
            request_number=request_number,
            request_title=request_title[:255],
            submission_token=token or None,
        )
        if kind in PAYMENT_KINDS:
            send_to_reader(reader, "ledger_receipt", {"entry": entry})
        return entry


def ledger_charge(
    *, reader, amount, actor, request_number: int, request_title: str = ""
) -> LedgerEntry | None:
    """Charge a request's total against the balance, or raise InsufficientBalance.

    Called by the lifecycle inside the transaction that delivers the request. Nothing is
    written for a request that costs nothing. The balance never goes below 0 through a charge.
    """
    amount = money(amount)
    if amount < 0:
        raise LedgerError(_("A request's total cannot be below 0."), field="amount")
    if amount == 0:
        return None
    with transaction.atomic():
        account = _lock_account(reader)
        if account.balance < amount:
            raise InsufficientBalance(balance=account.balance.quantize(CENT), due=amount)
        return _write(
            account,
            kind=EntryKind.CHARGE,
            amount=-amount,
            actor=actor,
            request_number=request_number,
            request_title=request_title[:255],
        )


def ledger_move_legacy_balance(*, legacy_account, actor) -> LedgerEntry:
    """Move what is left on an old account to the reader it is linked to, as a transfer pair.

    One transaction, under the old account's row lock and then the reader's balance row (the
    order every writer keeps): a transfer out of the old account (a transfer in, for a debt it
    clears) and the opposite entry on the reader, which names the first. The two sum to 0 and
    leave the old account at 0, so a second move, pressed twice or by two people at once, finds
    nothing left and is refused. Returns the reader's half.
    """
    with transaction.atomic():
        old = LegacyAccount.objects.select_for_update().get(pk=legacy_account.pk)
        if old.reader_id is None:
            raise LedgerError(_("This old account is not linked to a reader."))
        remaining = money(ledger_legacy_balance(old))
        if not remaining:
            raise LedgerError(
                _("Nothing is left on this old account: its balance was 0 or has been moved.")
            )
        reader = old.reader
        account = _lock_account(reader)
        leaving, arriving = (
            (EntryKind.TRANSFER_OUT, EntryKind.TRANSFER_IN)
            if remaining > 0
            else (EntryKind.TRANSFER_IN, EntryKind.TRANSFER_OUT)
        )
        first_half = LedgerEntry.objects.create(
            number=_next_number(),
            legacy_account=old,
            kind=leaving,
            amount=-remaining,
            balance_after=ZERO,
            actor=actor,
            note=gettext_noop("Moved to the account of %(reader)s"),
            note_params={"reader": str(reader)},
        )
        return _write(
            account,
            kind=arriving,
            amount=remaining,
            actor=actor,
            counterpart=first_half,
            note=gettext_noop("Balance of attached old account “%(username)s”"),
            note_params={"username": old.username},
        )


def ledger_check() -> list[str]:
    """Every disagreement between the balance rows and the entries, in words (none: [])."""
    problems = []
    sums = {
        row["reader"]: row["total"]
        for row in LedgerEntry.objects.filter(reader__isnull=False)
        .order_by()
        .values("reader")
        .annotate(total=Sum("amount"))
    }
    cached = dict(Account.objects.values_list("reader", "balance"))
    for reader_id in sorted(set(sums) | set(cached)):
        total = (sums.get(reader_id) or ZERO).quantize(CENT)
        balance = (cached.get(reader_id) or ZERO).quantize(CENT)
        if total != balance:
            problems.append(
                f"reader {reader_id}: balance row says {balance}, the entries sum to {total}"
            )
    problems += _check_running_balances()
    problems += _check_transfer_pairs()
    numbers = list(LedgerEntry.objects.order_by("number").values_list("number", flat=True))
    if numbers and numbers != list(range(1, len(numbers) + 1)):
        problems.append("the reference numbers are not 1, 2, 3… without gaps")
    return problems


def _check_running_balances() -> list[str]:
    # Each holder's running balance: a reader's from 0, an old account's from its import.
    problems = []
    imported = dict(
        LegacyAccount.objects.filter(ledger_entries__isnull=False).values_list("pk", "balance")
    )
    running: dict[tuple, Decimal] = {}
    for entry in LedgerEntry.objects.order_by("number").values(
        "number", "reader", "legacy_account", "amount", "balance_after"
    ):
        if entry["reader"]:
            holder, start = ("reader", entry["reader"]), ZERO
        else:
            holder, start = ("old", entry["legacy_account"]), imported[entry["legacy_account"]]
        after = (running.get(holder, start) + entry["amount"]).quantize(CENT)
        running[holder] = after
        if after != entry["balance_after"].quantize(CENT):
            problems.append(
                f"entry {entry['number']}: balance after says {entry['balance_after']}, "
                f"the entries up to it sum to {after}"
            )
    return problems


def _check_transfer_pairs() -> list[str]:
    # Every transfer has its other half, of the opposite amount: the pair sums to 0.
    problems = []
    transfers = {
        row["pk"]: row
        for row in LedgerEntry.objects.filter(kind__in=TRANSFER_KINDS).values(
            "pk", "number", "amount", "counterpart"
        )
    }
    partner = {}
    for row in transfers.values():
        if row["counterpart"]:
            partner[row["pk"]] = row["counterpart"]
            partner[row["counterpart"]] = row["pk"]
    for pk, row in sorted(transfers.items(), key=lambda item: item[1]["number"]):
        other = transfers.get(partner.get(pk))
        if other is None:
            problems.append(f"entry {row['number']}: a transfer without its other half")
        elif other["amount"] != -row["amount"]:
            problems.append(
                f"entry {row['number']}: {row['amount']}, its other half {other['number']} "
                f"{other['amount']}: a transfer pair must sum to 0"
            )
    return problems


def ledger_require_not_owing(*, reader) -> None:
    """Raise LedgerError when BLOCK_REQUESTS_WHEN_OWING stops this reader's new requests."""
    owing = ledger_owing(reader)
    if owing is not None:
        raise LedgerError(
            _(
                "You owe the ILL office %(amount)s yuan. Until it is settled you cannot submit "
                "new requests."
            )
            % {"amount": owing}
        )
