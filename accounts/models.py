"""The reader's prepaid account (帐户管理): an append-only ledger and its cached balance.

A reader's balance is the sum of their ledger entries. An old system account (accounts/legacy.py)
holds entries too, once its money is moved: what is left on it is its imported balance plus its
own entries, and a move is a transfer pair, one half on the old account and one on the reader.

Entries are only ever added, through `accounts.ledger` (the one writer); an entry is never changed
or deleted — not by `save()`, not by a queryset's `update()`/`delete()`, not in the admin, and on
PostgreSQL not by any SQL either (a trigger, migration 0003). A mistake is corrected with a
reversing adjustment.

The ledger sits below ILL requests (README, "Architecture"): an entry names the request it
concerns by its number and title as they were when it was written, not by a foreign key.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

MONEY = {"max_digits": 10, "decimal_places": 2}


class EntryKind(models.TextChoices):
    DEPOSIT = "deposit", _("Deposit")
    CHARGE = "charge", _("Charge")
    REFUND = "refund", _("Refund")
    ADJUSTMENT = "adjustment", _("Adjustment")
    OPENING_BALANCE = "opening_balance", _("Opening balance")
    DEBT_SETTLEMENT = "debt_settlement", _("Debt settlement")
    TRANSFER_IN = "transfer_in", _("Transfer in")
    TRANSFER_OUT = "transfer_out", _("Transfer out")


# The sign of each kind's amount: money in, money out, or either (never zero).
CREDIT_KINDS = frozenset(
    {EntryKind.DEPOSIT, EntryKind.REFUND, EntryKind.DEBT_SETTLEMENT, EntryKind.TRANSFER_IN}
)
DEBIT_KINDS = frozenset({EntryKind.CHARGE, EntryKind.TRANSFER_OUT})
EITHER_SIGN_KINDS = frozenset({EntryKind.ADJUSTMENT, EntryKind.OPENING_BALANCE})
# Money moved between two accounts: always a pair of entries, one in and one out.
TRANSFER_KINDS = frozenset({EntryKind.TRANSFER_IN, EntryKind.TRANSFER_OUT})
# Money the reader handed over: these say how it was paid, and the reader gets a receipt.
PAYMENT_KINDS = frozenset({EntryKind.DEPOSIT, EntryKind.DEBT_SETTLEMENT})


class PaymentMethod(models.TextChoices):
    CASH = "cash", _("Cash at the desk")
    CARD = "card", _("Card at the desk")
    BANK_TRANSFER = "bank_transfer", _("Bank transfer")
    OTHER = "other", _("Other")


class AppendOnlyError(Exception):
    """Someone tried to change or delete a ledger entry."""


APPEND_ONLY_MESSAGE = (
    "Ledger entries are never changed or deleted; correct a mistake with a reversing adjustment."
)


class LedgerEntryQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise AppendOnlyError(APPEND_ONLY_MESSAGE)

    def delete(self):
        raise AppendOnlyError(APPEND_ONLY_MESSAGE)

    def for_reader(self, reader):
        return self.filter(reader=reader)

    def for_legacy_account(self, legacy_account):
        return self.filter(legacy_account=legacy_account)

    def between(self, start=None, end=None):
        """Entries on the days from `start` to `end` (dates, both included, local time)."""
        entries = self
        if start:
            entries = entries.filter(at__date__gte=start)
        if end:
            entries = entries.filter(at__date__lte=end)
        return entries


class LedgerEntry(models.Model):
    """One movement of money on one reader's prepaid account, or on one old system account."""

    number = models.PositiveIntegerField(_("reference number"), unique=True, editable=False)
    # Exactly one of the two (a constraint): a reader's entry, or an old account's.
    reader = models.ForeignKey(
        "readers.Reader",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="ledger_entries",
        verbose_name=_("reader"),
    )
    legacy_account = models.ForeignKey(
        "accounts.LegacyAccount",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="ledger_entries",
        verbose_name=_("old system account"),
    )
    # A transfer's second half names the first (entries are never changed, so the first cannot
    # name the second): `transfer_partner` finds either from the other.
    counterpart = models.OneToOneField(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="counterpart_of",
        verbose_name=_("other half of the transfer"),
    )
    at = models.DateTimeField(_("time"), default=timezone.now, db_index=True)
    kind = models.CharField(_("kind"), max_length=20, choices=EntryKind.choices)
    # Signed: money in is positive, money out negative (see the kinds' signs above).
    amount = models.DecimalField(_("amount (yuan)"), **MONEY)
    balance_after = models.DecimalField(_("balance after"), **MONEY)
    method = models.CharField(
        _("payment method"), max_length=20, choices=PaymentMethod.choices, blank=True
    )
    request_number = models.PositiveIntegerField(_("request number"), null=True, blank=True)
    request_title = models.CharField(_("request title"), max_length=255, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        # Whoever wrote an entry stays on record: deactivate a staff account instead.
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("by"),
    )
    note = models.CharField(_("note"), max_length=500, blank=True)
    # A note the gateway writes (an old account's balance, a transfer) is kept as its English
    # message with these values, and read in the language of whoever reads it (`note_text`);
    # a note staff type is kept as typed, with none.
    note_params = models.JSONField(null=True, blank=True, editable=False)
    # One per entry form shown: a double click or a resent form records the money once.
    submission_token = models.CharField(
        max_length=64, null=True, blank=True, unique=True, editable=False
    )

    objects = LedgerEntryQuerySet.as_manager()

    class Meta:
        verbose_name = _("ledger entry")
        verbose_name_plural = _("ledger entries")
        ordering = ["-at", "-number"]
        indexes = [
            models.Index(fields=["reader", "at"], name="ledgerentry_reader_at"),
            # The admin's change list, newest first, and its filters in that order.
            models.Index(fields=["at", "number"], name="ledgerentry_at_number"),
            models.Index(fields=["kind", "at", "number"], name="ledgerentry_kind_at"),
            models.Index(fields=["method", "at", "number"], name="ledgerentry_method_at"),
            models.Index(fields=["request_number"], name="ledgerentry_request_number"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(kind__in=EntryKind.values), name="ledgerentry_kind_valid"
            ),
            models.CheckConstraint(
                condition=Q(method="") | Q(method__in=PaymentMethod.values),
                name="ledgerentry_method_valid",
            ),
            models.CheckConstraint(
                condition=(
                    Q(kind__in=CREDIT_KINDS, amount__gt=0)
                    | Q(kind__in=DEBIT_KINDS, amount__lt=0)
                    | (Q(kind__in=EITHER_SIGN_KINDS) & ~Q(amount=0))
                ),
                name="ledgerentry_amount_sign",
                violation_error_message=_(
                    "Deposits, refunds, settlements and transfers in are above 0; charges and "
                    "transfers out below 0; adjustments and opening balances are not 0."
                ),
            ),
            models.CheckConstraint(
                condition=~Q(kind__in=PAYMENT_KINDS) | ~Q(method=""),
                name="ledgerentry_payment_has_method",
                violation_error_message=_("Say how the reader paid."),
            ),
            models.CheckConstraint(
                condition=~Q(kind=EntryKind.CHARGE) | Q(request_number__isnull=False),
                name="ledgerentry_charge_has_request",
            ),
            models.CheckConstraint(
                condition=Q(reader__isnull=False, legacy_account__isnull=True)
                | Q(reader__isnull=True, legacy_account__isnull=False),
                name="ledgerentry_one_owner",
                violation_error_message=_(
                    "An entry belongs to a reader or to an old system account, never both."
                ),
            ),
            # Money only ever leaves an old account (or clears its debt) by a move.
            models.CheckConstraint(
                condition=Q(legacy_account__isnull=True) | Q(kind__in=TRANSFER_KINDS),
                name="ledgerentry_legacy_only_transfers",
            ),
            models.CheckConstraint(
                condition=Q(counterpart__isnull=True) | Q(kind__in=TRANSFER_KINDS),
                name="ledgerentry_counterpart_only_transfers",
            ),
        ]

    def __str__(self):
        return f"{self.number} {self.get_kind_display()} {self.amount}"

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise AppendOnlyError(APPEND_ONLY_MESSAGE)
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise AppendOnlyError(APPEND_ONLY_MESSAGE)

    @property
    def note_text(self) -> str:
        """The note in the active language (see `note_params`)."""
        if self.note_params is None:
            return self.note
        try:
            return gettext(self.note) % self.note_params
        except (KeyError, TypeError, ValueError):  # a message changed since: its English
            return self.note

    @property
    def holder(self):
        """Whose entry this is: the reader, or the old system account."""
        return self.reader if self.reader_id else self.legacy_account

    def transfer_partner(self):
        """The other half of a transfer (None for any other entry)."""
        if self.counterpart_id:
            return self.counterpart
        try:
            return self.counterpart_of
        except LedgerEntry.DoesNotExist:
            return None


class Account(models.Model):
    """A reader's balance as a row: the cache of their entries' sum, and the lock on them.

    Every writer locks this row (`select_for_update`) before it reads the balance and adds an
    entry, so two charges for one reader are served one after the other and never overdraw.
    `manage.py check_ledger` proves that the cache and the sum agree.
    """

    reader = models.OneToOneField(
        "readers.Reader",
        on_delete=models.PROTECT,
        related_name="ledger_account",
        verbose_name=_("reader"),
    )
    balance = models.DecimalField(_("balance (yuan)"), default=0, **MONEY)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("balance")
        verbose_name_plural = _("balances")
        ordering = ["balance", "reader__name"]
        # The balances' list in the admin, lowest first (those owing money on top).
        indexes = [models.Index(fields=["balance", "reader"], name="account_balance")]

    def __str__(self):
        return f"{self.reader}: {self.balance}"


class LedgerCounter(models.Model):
    """One row whose lock hands out the entries' reference numbers in order, without gaps."""

    last = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = _("ledger reference counter")

    def __str__(self):
        return str(self.last)


# The old system's accounts (accounts/legacy.py), here so that Django finds the model.
from .legacy import LegacyAccount  # noqa: E402, F401


class PublicAccount(models.Model):
    """The public account (公用账号, SPEC 1): one shared login for private individuals.

    Kept by `manage.py public_account`. Logging in with it starts a guest session of its own
    (`accounts.public`): each browser sees only the requests made from it. The account has no
    reader profile, so no reader page (profile, prepaid account, old system's data) opens for it.
    `published_password` is the password as the login page shows it (the seed printed it for
    everyone); empty when the operator keeps it off the page.
    """

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="public_account",
        verbose_name=_("user account"),
    )
    published_password = models.CharField(_("password shown on the login page"), max_length=128)
    changed_at = models.DateTimeField(_("changed"), default=timezone.now)

    class Meta:
        verbose_name = _("public account")
        verbose_name_plural = _("public account")

    def __str__(self):
        return self.user.get_username()
