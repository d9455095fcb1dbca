"""ILL requests (馆际互借申请), their fee lines and their status history.

The rules that change a request's status live in `lifecycle.py`; the rules that create and
change requests on a reader's behalf in `services.py`. Nothing here changes a status.
"""

import re
from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator
from django.db import models
from django.db.models import DecimalField, F, OuterRef, Q, Subquery, Sum, Value
from django.db.models.functions import Coalesce
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from core.validators import to_halfwidth

from .statuses import (
    CANCELLATION_ON_REQUEST,
    CLOSED_STATUSES,
    OPEN_STATUSES,
    READER_CANCELLABLE,
    Status,
)
from .validators import PAGES_MAX_LENGTH, VOLUME_ISSUE_MAX_LENGTH, normalize_title


class ServiceType(models.TextChoices):
    COPY = "copy", _("Copy (non-returnable)")
    LOAN = "loan", _("Loan (returnable)")


class DocumentType(models.TextChoices):
    JOURNAL_ARTICLE = "journal_article", _("Journal article")
    CONFERENCE_PAPER = "conference_paper", _("Conference paper")
    BOOK = "book", _("Book")
    BOOK_CHAPTER = "book_chapter", _("Book chapter")
    THESIS = "thesis", _("Thesis")
    STANDARD = "standard", _("Standard")
    PATENT = "patent", _("Patent")
    REPORT = "report", _("Report")
    OTHER = "other", _("Other")


# The article title is the document's own title for these types (the seed's 文章名称).
TYPES_WITH_ARTICLE_TITLE = frozenset(
    {DocumentType.JOURNAL_ARTICLE, DocumentType.CONFERENCE_PAPER, DocumentType.BOOK_CHAPTER}
)


class DeliveryMethod(models.TextChoices):
    EMAIL = "email", _("E-mail")
    DOWNLOAD = "download", _("Download from the portal")
    POST = "post", _("Post")
    PICKUP = "pickup", _("Pick-up at the desk")


class ContactMethod(models.TextChoices):
    EMAIL = "email", _("E-mail")
    PHONE = "phone", _("Phone")


class Urgency(models.TextChoices):
    NORMAL = "normal", _("Normal")
    URGENT = "urgent", _("Urgent")


class Origin(models.TextChoices):
    GATEWAY = "gateway", _("This gateway")
    LEGACY = "legacy", _("Old ILL system")


class FeeKind(models.TextChoices):
    SUPPLIER = "supplier", _("Supplier charge")
    COPY = "copy", _("Copy charge")
    URGENT = "urgent", _("Urgent surcharge")
    POSTAGE = "postage", _("Postage")
    OTHER = "other", _("Other")


MONEY = {"max_digits": 10, "decimal_places": 2}

# The highest request number the column holds on every database (PostgreSQL's integer).
NUMBER_MAX = 2_147_483_647
# More pages than any document has; without a limit SQLite stores any number while
# PostgreSQL refuses one above its integer range, so the two would behave differently.
FEE_PAGES_MAX = 100_000


# The fields a reader fills in, grouped as the seed's form groups them; everything else on a
# request is staff's or the system's. The form, the services and the admin all read this.
REQUEST_FIELD_GROUPS = {
    "request": ["service_type"],
    "document": [
        "document_type",
        "author",
        "publication_title",
        "volume_issue",
        "edition",
        "article_title",
        "place",
        "publisher",
        "year",
        "pages",
        "issn",
        "isbn",
        "doi",
        "calis_oid",
        "language",
    ],
    "ill": [
        "valid_until",
        "delivery_method",
        "contact_method",
        "max_cost",
        "urgency",
        "user_reference",
        "fee_pages",
        "holding_library",
    ],
    "contact": [
        "contact_name",
        "contact_address",
        "contact_postal_code",
        "contact_email",
        "contact_fax",
        "contact_phone",
    ],
    "remarks": ["remarks"],
}
REQUEST_FIELDS = [name for names in REQUEST_FIELD_GROUPS.values() for name in names]


class IllRequestQuerySet(models.QuerySet):
    def for_reader(self, reader):
        # Never `reader=None`: that would be "IS NULL", every old request not linked yet.
        if reader is None or reader.pk is None:
            return self.none()
        return self.filter(reader=reader)

    def open(self):
        return self.filter(status__in=OPEN_STATUSES)

    def with_total_fee(self):
        """Annotate `total_fee`, the sum of the fee lines (0 without any), in one query.

        A subquery rather than a join, so it combines with any other filter or annotation
        without multiplying rows.
        """
        fees = (
            FeeLine.objects.filter(request=OuterRef("pk"))
            .order_by()
            .values("request")
            .annotate(total=Sum("amount"))
            .values("total")
        )
        money = DecimalField(**MONEY)
        return self.annotate(
            total_fee=Coalesce(
                Subquery(fees, output_field=money), Value(Decimal("0.00")), output_field=money
            )
        )

    def search(self, text):
        """By number (digits) or by title (publication or article), case-insensitive."""
        text = (text or "").strip()
        if not text:
            return self
        condition = Q(publication_title__icontains=text) | Q(article_title__icontains=text)
        # ASCII digits only, after turning full-width ones (typed with a Chinese input method)
        # into them: str.isdigit() also accepts "²" and "①", which int() refuses.
        digits = to_halfwidth(text)
        if re.fullmatch(r"[0-9]{1,12}", digits) and 0 < int(digits) <= NUMBER_MAX:
            condition |= Q(number=int(digits))
        return self.filter(condition)


class IllRequest(models.Model):
    """One request of one reader for one document, from submission to its end."""

    number = models.PositiveIntegerField(_("request number"), unique=True, editable=False)
    reader = models.ForeignKey(
        "readers.Reader",
        on_delete=models.PROTECT,
        related_name="ill_requests",
        verbose_name=_("reader"),
        # Empty only for an old system's request whose old account is not linked yet.
        null=True,
        blank=True,
    )
    # The old system's account an imported request belonged to (SPEC 3, 7).
    legacy_account = models.ForeignKey(
        "accounts.LegacyAccount",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="ill_requests",
        verbose_name=_("old system account"),
    )
    # The legacy import's digest of the exported row: a rerun rewrites only rows that changed.
    legacy_fingerprint = models.CharField(max_length=64, blank=True, editable=False)
    status = models.CharField(
        _("status"), max_length=30, choices=Status.choices, default=Status.SUBMITTED
    )
    origin = models.CharField(
        _("origin"), max_length=10, choices=Origin.choices, default=Origin.GATEWAY
    )
    submission_token = models.CharField(
        _("submission token"), max_length=64, null=True, blank=True, editable=False
    )
    submitted_at = models.DateTimeField(_("request date"), default=timezone.now, db_index=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    # 申请信息
    service_type = models.CharField(_("service type"), max_length=10, choices=ServiceType.choices)

    # 文献信息
    document_type = models.CharField(
        _("document type"), max_length=20, choices=DocumentType.choices
    )
    author = models.CharField(_("author"), max_length=255, blank=True)
    publication_title = models.CharField(_("publication title"), max_length=255)
    volume_issue = models.CharField(
        _("volume/issue"), max_length=VOLUME_ISSUE_MAX_LENGTH, blank=True
    )
    edition = models.CharField(_("edition"), max_length=255, blank=True)
    article_title = models.CharField(_("article title"), max_length=255, blank=True)
    place = models.CharField(_("place of publication"), max_length=255, blank=True)
    publisher = models.CharField(_("publisher"), max_length=255, blank=True)
    year = models.CharField(_("year"), max_length=4, blank=True)
    # Its own msgid: the readers' Page model owns "pages" (web pages, 页面); this is 页码信息.
    pages = models.CharField(
        pgettext_lazy("document", "pages"), max_length=PAGES_MAX_LENGTH, blank=True
    )
    issn = models.CharField("ISSN", max_length=9, blank=True, db_index=True)
    isbn = models.CharField("ISBN", max_length=13, blank=True)
    # The one limit of a DOI: the form and OpenURL read it from here.
    doi = models.CharField("DOI", max_length=200, blank=True, db_index=True)
    calis_oid = models.CharField("CALIS-OID", max_length=50, blank=True)
    language = models.CharField(_("language"), max_length=50, blank=True)

    # 馆际互借信息
    valid_until = models.DateField(_("valid until"), null=True, blank=True)
    delivery_method = models.CharField(
        _("delivery method"),
        max_length=10,
        choices=DeliveryMethod.choices,
        default=DeliveryMethod.EMAIL,
    )
    contact_method = models.CharField(
        _("contact method"),
        max_length=10,
        choices=ContactMethod.choices,
        default=ContactMethod.EMAIL,
    )
    max_cost = models.DecimalField(_("maximum cost"), default=Decimal("0.00"), **MONEY)
    urgency = models.CharField(
        _("urgency"), max_length=10, choices=Urgency.choices, default=Urgency.NORMAL
    )
    user_reference = models.CharField(_("user reference"), max_length=50, blank=True)
    fee_pages = models.PositiveIntegerField(
        _("number of pages for the fee"),
        null=True,
        blank=True,
        validators=[MaxValueValidator(FEE_PAGES_MAX)],
    )
    holding_library = models.CharField(_("holding library"), max_length=255, blank=True)

    # 用户信息
    contact_name = models.CharField(_("name"), max_length=100, blank=True)
    contact_address = models.CharField(_("postal address"), max_length=100, blank=True)
    contact_postal_code = models.CharField(_("postal code"), max_length=10, blank=True)
    contact_email = models.EmailField(_("e-mail"))
    contact_fax = models.CharField(_("fax"), max_length=30, blank=True)
    contact_phone = models.CharField(_("phone"), max_length=30)

    # 备注
    remarks = models.TextField(_("remarks"), max_length=2000, blank=True)

    # Set by staff along the lifecycle.
    quote = models.DecimalField(_("quoted cost"), null=True, blank=True, **MONEY)
    return_date = models.DateField(_("return date"), null=True, blank=True)
    cancellation_requested = models.BooleanField(_("cancellation requested"), default=False)

    # Duplicate detection compares normalised titles, which only Python can compute.
    title_key = models.CharField(max_length=255, blank=True, db_index=True, editable=False)

    objects = IllRequestQuerySet.as_manager()

    class Meta:
        verbose_name = _("ILL request")
        verbose_name_plural = _("ILL requests")
        ordering = ["-submitted_at", "-number"]
        constraints = [
            models.CheckConstraint(condition=Q(number__gt=0), name="illrequest_number_positive"),
            models.CheckConstraint(
                condition=Q(status__in=Status.values), name="illrequest_status_valid"
            ),
            models.CheckConstraint(
                condition=Q(service_type__in=ServiceType.values),
                name="illrequest_service_type_valid",
            ),
            models.CheckConstraint(
                condition=Q(origin__in=Origin.values), name="illrequest_origin_valid"
            ),
            # The messages are what staff read in the admin when a form breaks the rule.
            models.CheckConstraint(
                condition=Q(max_cost__gte=0),
                name="illrequest_max_cost_not_negative",
                violation_error_message=_("The maximum cost is 0 or more."),
            ),
            models.CheckConstraint(
                condition=Q(quote__isnull=True) | Q(quote__gte=0),
                name="illrequest_quote_not_negative",
                violation_error_message=_("The quoted cost is 0 or more."),
            ),
            models.UniqueConstraint(
                fields=["reader", "submission_token"], name="illrequest_one_per_submission"
            ),
            # A request belongs to a reader, or is an old one waiting for its account's link.
            models.CheckConstraint(
                condition=Q(reader__isnull=False)
                | Q(origin="legacy", legacy_account__isnull=False),
                name="illrequest_has_owner",
            ),
        ]
        indexes = [
            models.Index(fields=["reader", "status"], name="illrequest_reader_status"),
            # The reader's list, newest first, a page at a time: read off the index in order,
            # whatever the page and however many requests the reader has; with the id in the
            # index (PostgreSQL), the rows a deep page skips are never read from the table.
            models.Index(
                fields=["reader", "submitted_at", "number"],
                include=["id"],
                name="illrequest_reader_submitted",
            ),
            # The admin's change list: its order, and each of its filters in that order.
            models.Index(fields=["submitted_at", "number"], name="illrequest_submitted"),
            models.Index(
                fields=["status", "submitted_at", "number"], name="illrequest_status_submitted"
            ),
            models.Index(
                fields=["service_type", "submitted_at", "number"],
                name="illrequest_service_submitted",
            ),
            models.Index(
                fields=["document_type", "submitted_at", "number"],
                name="illrequest_doctype_submitted",
            ),
            models.Index(
                fields=["urgency", "submitted_at", "number"], name="illrequest_urgency_submitted"
            ),
            models.Index(
                fields=["origin", "submitted_at", "number"], name="illrequest_origin_submitted"
            ),
            models.Index(
                fields=["submitted_at", "number"],
                name="illrequest_cancel_submitted",
                condition=Q(cancellation_requested=True),
            ),
            models.Index(fields=["isbn"], name="illrequest_isbn"),
            # The admin dashboard's counts read open requests only (requests_app/dashboard.py):
            # partial indexes stay as small as the open queues whatever the closed ones weigh.
            models.Index(
                fields=["status"],
                name="illrequest_open_status",
                condition=Q(status__in=sorted(OPEN_STATUSES)),
            ),
            models.Index(
                fields=["valid_until"],
                name="illrequest_open_valid_until",
                condition=Q(status__in=sorted(OPEN_STATUSES)),
            ),
            models.Index(
                fields=["status"],
                name="illrequest_cancel_asked",
                condition=Q(cancellation_requested=True),
            ),
        ]

    def __str__(self):
        return f"{self.number} {self.publication_title}"

    def save(self, *args, **kwargs):
        self.title_key = normalize_title(self.article_title or self.publication_title)[:255]
        if kwargs.get("update_fields") is not None:
            kwargs["update_fields"] = {*kwargs["update_fields"], "title_key"}
        super().save(*args, **kwargs)

    def get_absolute_url(self):
        return reverse("request_detail", args=[self.number])

    # What the templates and views ask, instead of comparing status strings.

    @property
    def is_closed(self):
        return self.status in CLOSED_STATUSES

    @property
    def can_cancel(self):
        """The reader may cancel the request themselves."""
        return self.status in READER_CANCELLABLE

    @property
    def can_ask_cancellation(self):
        """The reader may ask staff to cancel (once: not while a request to is pending)."""
        return self.status in CANCELLATION_ON_REQUEST and not self.cancellation_requested

    @property
    def awaits_cost_approval(self):
        return self.status == Status.AWAITING_COST_APPROVAL

    @property
    def awaits_payment(self):
        return self.status == Status.AWAITING_PAYMENT

    @property
    def is_on_loan(self):
        return self.status == Status.ON_LOAN


class RequestNumberCounter(models.Model):
    """One row whose lock serialises the allocation of request numbers.

    The next number is one above both the highest number in use and the highest ever handed
    out, so numbers continue above imported legacy ones and are never reused.
    """

    last = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = _("request number counter")

    def __str__(self):
        return str(self.last)


class FeeLine(models.Model):
    """One charge on a request; the request's total fee is their sum."""

    request = models.ForeignKey(
        IllRequest, on_delete=models.CASCADE, related_name="fee_lines", verbose_name=_("request")
    )
    kind = models.CharField(_("kind"), max_length=10, choices=FeeKind.choices)
    amount = models.DecimalField(_("amount"), **MONEY)
    note = models.CharField(_("note"), max_length=255, blank=True)
    created_at = models.DateTimeField(_("entered"), default=timezone.now)

    class Meta:
        verbose_name = _("fee line")
        verbose_name_plural = _("fee lines")
        ordering = ["created_at", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(amount__gte=0),
                name="feeline_amount_not_negative",
                violation_error_message=_(
                    "A fee line's amount is 0 or more; to lower a fee, change or delete its line."
                ),
            ),
            models.CheckConstraint(condition=Q(kind__in=FeeKind.values), name="feeline_kind_valid"),
        ]

    def __str__(self):
        return f"{self.get_kind_display()} {self.amount}"

    def get_additional_data(self):
        # Read by django-auditlog into each entry: the request's page lists its fee lines'
        # changes, deleted lines too.
        return {"request_id": self.request_id}


class Event(models.TextChoices):
    """What the gateway itself writes in a request's history.

    Stored as the code, with its `params`; the label is the message, translated only when it is
    shown, so that every viewer reads it in their own language (the reader on the page and in
    the e-mail, staff in the admin). Staff's own notes are stored and shown as typed.
    """

    READER_CANCELLED = "reader_cancelled", _("Cancelled by the reader.")
    CANCELLATION_ASKED = "cancellation_asked", _("The reader asked the ILL office to cancel.")
    CANCELLATION_REFUSED = (
        "cancellation_refused",
        _("The ILL office goes on with the request; it was too late to cancel."),
    )
    QUOTE_ACCEPTED = "quote_accepted", _("The reader accepted the quoted cost of %(quote)s yuan.")
    QUOTE_DECLINED = "quote_declined", _("The reader declined the quoted cost.")
    EXPIRED = "expired", _("Not processed by the valid-until date %(date)s.")


# Said after the event of a change that waived the urgent surcharge (params["surcharge_waived"]).
SURCHARGE_WAIVED = _("The urgent surcharge of %(surcharge_waived)s yuan is not charged.")
# Said when a request awaits payment (params["payment_due"], "balance", "shortfall").
PAYMENT_DUE = _(
    "Amount due: %(payment_due)s yuan. Your balance: %(balance)s yuan. Still to pay: "
    "%(shortfall)s yuan. The fee schedule says how to pay."
)


class StatusChangeQuerySet(models.QuerySet):
    def for_reader(self):
        """The entries the reader's history shows: every change of status (the reader is
        e-mailed about each), and the other entries staff let them see.

        Staff's internal note is left out of what is shown (`reader_text`), not the change.
        """
        return self.filter(Q(visible_to_reader=True) | ~Q(from_status=F("to_status")))


class StatusChange(models.Model):
    """One step in a request's history: who moved it from which status to which, and why."""

    request = models.ForeignKey(
        IllRequest, on_delete=models.CASCADE, related_name="history", verbose_name=_("request")
    )
    at = models.DateTimeField(_("time"), default=timezone.now)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("by"),
    )
    # Empty for the submission itself.
    from_status = models.CharField(
        _("from status"), max_length=30, choices=Status.choices, blank=True
    )
    to_status = models.CharField(_("to status"), max_length=30, choices=Status.choices)
    # Staff's note, as typed; what the system says is in `event` (see `text`).
    note = models.TextField(_("note"), max_length=2000, blank=True)
    event = models.CharField(_("event"), max_length=30, blank=True, editable=False)
    params = models.JSONField(_("event details"), default=dict, blank=True, editable=False)
    visible_to_reader = models.BooleanField(_("visible to the reader"), default=True)

    objects = StatusChangeQuerySet.as_manager()

    class Meta:
        verbose_name = _("status change")
        verbose_name_plural = _("status history")
        ordering = ["at", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(to_status__in=Status.values), name="statuschange_to_status_valid"
            ),
            models.CheckConstraint(
                condition=Q(from_status="") | Q(from_status__in=Status.values),
                name="statuschange_from_status_valid",
            ),
            models.CheckConstraint(
                condition=Q(event="") | Q(event__in=Event.values),
                name="statuschange_event_valid",
            ),
        ]
        # The dashboard's requests finished today and this week.
        indexes = [
            models.Index(
                fields=["at"],
                name="statuschange_closed_at",
                condition=Q(to_status__in=sorted(CLOSED_STATUSES)),
            ),
        ]

    def __str__(self):
        # The admin shows this as the heading of each history row: labels, not codes.
        to = self.get_to_status_display()
        if self.from_status and self.from_status != self.to_status:
            return f"{self.request.number}: {self.get_from_status_display()} → {to}"
        return f"{self.request.number}: {to}"

    @property
    def text(self) -> str:
        """The note as the viewer reads it: the system's words in the active language, then
        staff's note as typed."""
        return "\n".join(self._text_parts(with_note=True))

    @property
    def reader_text(self) -> str:
        """`text` as the reader may read it: without staff's note if it is internal."""
        return "\n".join(self._text_parts(with_note=self.visible_to_reader))

    def _text_parts(self, *, with_note: bool) -> list[str]:
        parts = []
        if self.event:
            parts.append(str(Event(self.event).label) % self.params)
        if "surcharge_waived" in self.params:
            parts.append(str(SURCHARGE_WAIVED) % self.params)
        if "payment_due" in self.params:
            parts.append(str(PAYMENT_DUE) % self.params)
        if self.note and with_note:
            parts.append(self.note)
        return parts
