"""Accounts of the old ILL system, as the legacy import brought them across (SPEC 3, 7).

An old account is not a gateway login: the linking wizard lets its owner link it to their gateway
reader once (`reader`, `linked_at`). Its password is never kept as the old system stored it: it is
wrapped in a strong hasher (`accounts.hashers`) and checked with `check_legacy_password`.
"""

from django.conf import settings
from django.contrib.auth.hashers import check_password, make_password
from django.db import models
from django.db.models import ExpressionWrapper, F, Q, Sum, Value
from django.db.models.functions import Coalesce, Lower
from django.utils.translation import gettext_lazy as _

from readers.models import IdType, ReaderType

MONEY = {"max_digits": 12, "decimal_places": 2}


class LegacyStatus(models.TextChoices):
    ACTIVE = "active", _("Active (正常)")
    DISABLED = "disabled", _("Disabled (停用)")


class LinkKind(models.TextChoices):
    # The account the reader continues with: its identity and money became the reader's.
    LINKED = "linked", _("Linked (continued with)")
    # Another old account of the same person: its history is shown, its money moved by staff.
    ATTACHED = "attached", _("Attached as history")


class LegacyAccountQuerySet(models.QuerySet):
    def with_balance_left(self):
        """Each account with `balance_left`: as imported plus its own entries (0 once moved)."""
        money = models.DecimalField(**MONEY)
        moved = Coalesce(Sum("ledger_entries__amount"), Value(0), output_field=money)
        left = ExpressionWrapper(F("balance") + moved, output_field=money)
        return self.annotate(balance_left=left)


class LegacyAccount(models.Model):
    """One row of the old system's accounts.csv, cleaned."""

    user_id = models.PositiveIntegerField(_("old user ID"), unique=True)
    username = models.CharField(_("old username"), max_length=150)
    # A hash of one of `accounts.hashers`' formats, or "" (no usable password: staff link it).
    password = models.CharField(_("password"), max_length=256, blank=True)
    name = models.CharField(_("name"), max_length=100, blank=True)
    email = models.CharField(_("e-mail"), max_length=254, blank=True)
    id_type = models.CharField(_("ID type"), max_length=20, choices=IdType.choices, blank=True)
    id_number = models.CharField(_("ID number"), max_length=50, blank=True, db_index=True)
    reader_type = models.CharField(
        _("reader type"), max_length=20, choices=ReaderType.choices, blank=True
    )
    institution = models.CharField(_("department or institution"), max_length=255, blank=True)
    phone = models.CharField(_("phone"), max_length=50, blank=True)
    address = models.TextField(_("postal address"), blank=True)
    postal_code = models.CharField(_("postal code"), max_length=20, blank=True)
    # As imported; negative = debt (欠款). Linking the account writes it to the reader's ledger as
    # the opening balance, once (`legacy_link`). An attached account's is moved by staff with a
    # transfer pair (`ledger_move_legacy_balance`): what is left on the account is this plus its
    # own ledger entries (`ledger_legacy_balance`), 0 once moved.
    balance = models.DecimalField(_("balance as imported"), **MONEY)
    status = models.CharField(_("status"), max_length=10, choices=LegacyStatus.choices)
    created_at = models.DateTimeField(_("created in the old system"))
    last_login = models.DateTimeField(_("last login in the old system"), null=True, blank=True)
    reader = models.ForeignKey(
        "readers.Reader",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="legacy_accounts",
        verbose_name=_("linked gateway reader"),
    )
    linked_at = models.DateTimeField(_("linked"), null=True, blank=True)
    link_kind = models.CharField(
        _("linked as"), max_length=10, choices=LinkKind.choices, blank=True, default=""
    )
    linked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("linked by"),
    )
    imported_at = models.DateTimeField(_("imported"), auto_now_add=True)
    # A keyed digest (HMAC with SECRET_KEY) of the row as exported, so a rerun of the import can
    # tell an unchanged row without hashing its password again.
    fingerprint = models.CharField(max_length=64, editable=False)

    objects = LegacyAccountQuerySet.as_manager()

    class Meta:
        verbose_name = _("old system account")
        verbose_name_plural = _("old system accounts")
        ordering = ["user_id"]
        constraints = [
            # The old system compared usernames case-insensitively.
            models.UniqueConstraint(Lower("username"), name="legacyaccount_username_ci_unique"),
            models.CheckConstraint(
                condition=Q(status__in=LegacyStatus.values), name="legacyaccount_status_valid"
            ),
            models.CheckConstraint(
                condition=Q(reader__isnull=True) | Q(linked_at__isnull=False),
                name="legacyaccount_linked_has_time",
            ),
            models.CheckConstraint(
                condition=Q(reader__isnull=True, link_kind="")
                | Q(reader__isnull=False, link_kind__in=LinkKind.values),
                name="legacyaccount_link_kind_valid",
            ),
            # A reader continues with one old account; the others are attached.
            models.UniqueConstraint(
                fields=["reader"],
                condition=Q(link_kind="linked"),
                name="legacyaccount_one_linked_per_reader",
            ),
        ]
        permissions = [("link_legacyaccount", _("Can link old accounts to readers"))]

    def __str__(self):
        return f"{self.username} ({self.name})"

    @property
    def has_usable_password(self) -> bool:
        return bool(self.password)


def check_legacy_password(legacy_account: LegacyAccount, raw_password: str) -> bool:
    """Whether `raw_password` is the old account's password, in whichever old format it was.

    On success a weaker stored hash (an imported wrapper) is upgraded to the default hasher.
    An account without a usable password never matches.
    """
    if not legacy_account.password or not raw_password:
        return False

    def upgrade(raw):
        legacy_account.password = make_password(raw)
        legacy_account.save(update_fields=["password"])

    return check_password(raw_password, legacy_account.password, setter=upgrade)
