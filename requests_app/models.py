"""ILL requests (馆际互借申请), their fee lines and their status history.

The rules that change a request's status live in `lifecycle.py`; the rules that create and
change requests on a reader's behalf in `services.py`. Nothing here changes a status.
"""

import re
from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import DecimalField, F, OuterRef, Q, Subquery, Sum, Value
from django.db.models.functions import Coalesce, Upper
from django.urls import reverse
from django.utils import timezone
from django.utils.crypto import constant_time_compare, salted_hmac
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from core.bilingual import in_language
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


class SupplierKind(models.TextChoices):
    CALIS = "calis", "CALIS"
    NSTL = "nstl", "NSTL"
    CASHL = "cashl", "CASHL"
    PARTNER_LIBRARY = "partner_library", _("Partner library")
    PUBLISHER = "publisher", _("Publisher")
    OTHER = "other", _("Other")


class Supplier(models.Model):
    """A library or service that supplies documents to the ILL office (供应方): CALIS, NSTL,
    CASHL, a partner library, a publisher. Staff keep the list; a request names the one that
    supplied it. One that is no longer used is made inactive, never deleted: requests and
    statistics still name it.
    """

    name_zh = models.CharField(_("name (Chinese)"), max_length=200, unique=True)
    name_en = models.CharField(_("name (English)"), max_length=200, blank=True)
    kind = models.CharField(_("kind"), max_length=20, choices=SupplierKind.choices)
    active = models.BooleanField(
        _("active"), default=True, help_text=_("Only active suppliers are offered on requests.")
    )

    class Meta:
        verbose_name = _("supplier")
        verbose_name_plural = _("suppliers")
        ordering = ["name_zh"]
        constraints = [
            models.CheckConstraint(
                condition=Q(kind__in=SupplierKind.values), name="supplier_kind_valid"
            ),
        ]

    def __str__(self):
        return self.name

    @property
    def name(self) -> str:
        """The name in the viewer's language (or the other one where only that exists)."""
        return in_language(self.name_zh, self.name_en)


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
# Staff's record of who supplied the document: edited in the admin only, never by the reader.
SUPPLIER_FIELDS = ["supplier", "supplier_number", "supplier_cost"]


class IllRequestQuerySet(models.QuerySet):
    def for_guest_session(self, digest: str):
        """The requests made from one guest session (`accounts.public.guest_digest`)."""
        if not digest:
            return self.none()
        return self.filter(is_guest=True, guest_session=digest)

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
        # illrequest_reader_status (reader, status) serves every lookup by reader: one index
        # fewer to keep up on each insert (the legacy import writes a million).
        db_index=False,
    )
    # The old system's account an imported request belonged to (SPEC 3, 7).
    legacy_account = models.ForeignKey(
        "accounts.LegacyAccount",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="ill_requests",
        verbose_name=_("old system account"),
        db_index=False,  # illrequest_legacy_account_date starts with it
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
    # Indexed only as the first column of illrequest_submitted (Meta.indexes), which serves
    # every order and range by date: a second would be kept up on each insert for nothing (the
    # legacy import writes a million).
    submitted_at = models.DateTimeField(_("request date"), default=timezone.now)
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
    # ISSN and DOI are indexed in Meta.indexes: db_index would add, on PostgreSQL, a second
    # `varchar_pattern_ops` copy for LIKE 'x%', a query nothing here makes.
    issn = models.CharField("ISSN", max_length=9, blank=True)
    isbn = models.CharField("ISBN", max_length=13, blank=True)
    # The one limit of a DOI: the form and OpenURL read it from here.
    doi = models.CharField("DOI", max_length=200, blank=True)
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
    # Who supplied the document, under which of their own numbers, at what cost to the office
    # (staff's record; what the reader pays is the fee lines). Never shown to the reader.
    supplier = models.ForeignKey(
        Supplier,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="ill_requests",
        verbose_name=_("supplier"),
        # Indexed with the request date instead (Meta.indexes): the changelist filtered by
        # supplier reads it in its order, and the PROTECT check uses its first column.
        db_index=False,
    )
    supplier_number = models.CharField(_("supplier's request number"), max_length=50, blank=True)
    supplier_cost = models.DecimalField(
        _("supplier's cost"),
        null=True,
        blank=True,
        # Beside the field on the admin form; the check constraint holds for every other writer.
        validators=[MinValueValidator(0, message=_("The supplier's cost is 0 or more."))],
        **MONEY,
    )

    # When the document reached the reader (delivered or lent), set by the lifecycle: the
    # statistics read the turnaround from the request's own row, without its history.
    supplied_at = models.DateTimeField(_("supplied"), null=True, blank=True, editable=False)

    # The public account's guests (accounts/public.py): a guest request has no reader. It is
    # listed for the browser session it came from (the digest of its guest token) and opened
    # anywhere by its private link, signed from `guest_link_nonce` (see `guest_link_key`).
    is_guest = models.BooleanField(_("by a guest (public account)"), default=False)
    guest_session = models.CharField(max_length=64, blank=True, editable=False)
    guest_link_nonce = models.CharField(max_length=32, blank=True, editable=False)
    # The page's language when the guest submitted: their e-mails' language.
    guest_language = models.CharField(
        _("language for e-mails"), max_length=10, choices=settings.LANGUAGES, blank=True
    )
    # What the abuse limits count (digest of the client's address, never the address).
    guest_client = models.CharField(max_length=64, blank=True, editable=False)

    # Duplicate detection compares normalised titles, which only Python can compute. Not
    # indexed: that comparison runs among one reader's open requests, which
    # illrequest_reader_status finds (services.request_duplicates).
    title_key = models.CharField(max_length=255, blank=True, editable=False)

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
            models.CheckConstraint(
                condition=Q(supplier_cost__isnull=True) | Q(supplier_cost__gte=0),
                name="illrequest_supplier_cost_not_negative",
                violation_error_message=_("The supplier's cost is 0 or more."),
            ),
            models.UniqueConstraint(
                fields=["reader", "submission_token"], name="illrequest_one_per_submission"
            ),
            models.UniqueConstraint(
                fields=["guest_session", "submission_token"],
                condition=Q(is_guest=True),
                name="illrequest_one_per_guest_submission",
            ),
            # A request belongs to a reader, or is an old one waiting for its account's link,
            # or is a guest's: no reader, a guest session and a private link.
            models.CheckConstraint(
                condition=Q(reader__isnull=False, is_guest=False)
                | Q(origin="legacy", legacy_account__isnull=False, is_guest=False)
                | (
                    Q(reader__isnull=True, is_guest=True, origin="gateway")
                    & ~Q(guest_session="")
                    & ~Q(guest_link_nonce="")
                ),
                name="illrequest_has_owner",
            ),
        ]
        indexes = [
            models.Index(fields=["reader", "status"], name="illrequest_reader_status"),
            models.Index(
                fields=["guest_session"],
                name="illrequest_guest_session",
                condition=Q(is_guest=True),
            ),
            models.Index(
                fields=["contact_email", "submitted_at"],
                name="illrequest_guest_email",
                condition=Q(is_guest=True),
            ),
            models.Index(
                fields=["contact_name", "submitted_at"],
                name="illrequest_guest_name",
                condition=Q(is_guest=True),
            ),
            models.Index(
                fields=["guest_client", "submitted_at"],
                name="illrequest_guest_client",
                condition=Q(is_guest=True),
            ),
            # 旧版系统数据查询 (views.legacy_requests): a reader's old requests, newest first.
            # EXPLAIN ANALYZE of its third page, 1,000,000 old requests, 2,000 of them one
            # account's: with this index, an index scan in page order that stops after 60 rows
            # (66 buffers, 3 ms); with only a single-column legacy_account index, the planner
            # walks the submitted_at index backwards filtering out 24,558 rows (25,000 buffers,
            # 200 ms), later pages worse. Its count and title search are a bitmap scan of the
            # account's 2,000 entries (<1 ms). It also serves the legacy_account foreign key
            # (which has no index of its own). tests/requests_app/test_legacy_requests.py.
            models.Index(
                fields=["legacy_account", "-submitted_at", "-number"],
                name="illrequest_legacy_account_date",
            ),
            # The reader's list, newest first, a page at a time: read off the index in order,
            # whatever the page and however many requests the reader has; with the id in the
            # index (PostgreSQL), the rows a deep page skips are never read from the table.
            models.Index(
                fields=["reader", "submitted_at", "number"],
                include=["id"],
                name="illrequest_reader_submitted",
            ),
            # The admin's change list: its order, and each of its filters in that order. The
            # first also carries what the statistics (statistics.py) read of a date range, so
            # they read it on this index alone (an index-only scan on PostgreSQL; other
            # databases ignore `include`): one index where there were two.
            models.Index(
                fields=["submitted_at", "number"],
                include=["status", "service_type", "supplier", "reader", "supplied_at"],
                name="illrequest_submitted",
            ),
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
            # The admin's search by an exact ISSN, ISBN or DOI (admin.IllRequestAdmin); a DOI
            # in any case, as PostgreSQL's iexact compares it: UPPER(doi) = UPPER(%s).
            models.Index(fields=["isbn"], name="illrequest_isbn"),
            models.Index(fields=["issn"], name="illrequest_issn"),
            models.Index(Upper("doi"), name="illrequest_doi"),
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
            models.Index(fields=["supplier", "-submitted_at"], name="illrequest_supplier"),
        ]

    def __str__(self):
        return f"{self.number} {self.publication_title}"

    def save(self, *args, **kwargs):
        self.title_key = normalize_title(self.article_title or self.publication_title)[:255]
        if kwargs.get("update_fields") is not None:
            kwargs["update_fields"] = {*kwargs["update_fields"], "title_key"}
        super().save(*args, **kwargs)

    def get_absolute_url(self):
        if self.is_guest:
            return self.guest_link_path()
        return reverse("request_detail", args=[self.number])

    def guest_link_key(self) -> str:
        """The secret part of a guest request's private link: an HMAC (SECRET_KEY) of the
        request and its random nonce, so neither the number nor the database alone gives it."""
        if not self.is_guest or not self.guest_link_nonce:
            return ""
        return salted_hmac(
            "requests_app.guest_link", f"{self.pk}:{self.guest_link_nonce}", algorithm="sha256"
        ).hexdigest()[:40]

    def guest_link_matches(self, key: str) -> bool:
        expected = self.guest_link_key()
        return bool(expected) and constant_time_compare(expected, key or "")

    def guest_link_path(self) -> str:
        return reverse("guest_request", args=[self.number, self.guest_link_key()])

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
    # The first entry of a request imported from the old system (`manage.py import_legacy`).
    IMPORTED = "imported", _("Imported from the old ILL system with this status.")


# Said after the event of a change that waived the urgent surcharge (params["surcharge_waived"]).
SURCHARGE_WAIVED = _("The urgent surcharge of %(surcharge_waived)s yuan is not charged.")
# Said when a guest's request awaits payment (params["guest_payment_due"]): no prepaid account.
GUEST_PAYMENT_DUE = _(
    "Amount due: %(guest_payment_due)s yuan. The fee schedule says how to pay; quote the "
    "request number."
)
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
        if "guest_payment_due" in self.params:
            parts.append(str(GUEST_PAYMENT_DUE) % self.params)
        if self.note and with_note:
            parts.append(self.note)
        return parts


class PaymentMethod(models.TextChoices):
    CASH = "cash", _("Cash")
    CARD = "card", _("Card")
    TRANSFER = "transfer", _("Bank transfer")
    OTHER = "other", _("Other")


class GuestPayment(models.Model):
    """A payment staff recorded for a guest's request (a guest has no prepaid account).

    Recorded through `requests_app.guests.guest_payment_record`, never edited: it is the
    record of money received, whatever becomes of the request.
    """

    request = models.ForeignKey(
        IllRequest,
        on_delete=models.PROTECT,
        related_name="guest_payments",
        verbose_name=_("request"),
    )
    amount = models.DecimalField(_("amount"), **MONEY)
    method = models.CharField(_("payment method"), max_length=10, choices=PaymentMethod.choices)
    note = models.CharField(_("note"), max_length=255, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("recorded by"),
    )
    recorded_at = models.DateTimeField(_("recorded"), default=timezone.now)

    class Meta:
        verbose_name = _("guest payment")
        verbose_name_plural = _("guest payments")
        ordering = ["recorded_at", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(amount__gt=0),
                name="guestpayment_amount_positive",
                violation_error_message=_("A payment is more than 0."),
            ),
            models.CheckConstraint(
                condition=Q(method__in=PaymentMethod.values), name="guestpayment_method_valid"
            ),
        ]

    def __str__(self):
        return f"{self.request.number}: {self.amount}"

    def get_additional_data(self):
        # Read by django-auditlog: the request's History page lists its payments.
        return {"request_id": self.request_id}


class DeliveryQuerySet(models.QuerySet):
    def due_for_purge(self, now):
        """Deliveries whose file is still kept but may no longer be downloaded."""
        return self.filter(purged_at__isnull=True).filter(
            Q(expires_at__lte=now) | Q(downloads__gte=F("max_downloads"))
        )


class Delivery(models.Model):
    """The PDF staff attached to a copy request, and how its reader may download it (SPEC 4.6).

    The days and the number of downloads are fixed when the file is attached (from
    DELIVERY_DAYS and DELIVERY_MAX_DOWNLOADS). Whether someone may download it now is decided in
    one place, `delivery.delivery_can_download`.
    """

    request = models.OneToOneField(
        IllRequest,
        on_delete=models.PROTECT,
        related_name="delivery",
        verbose_name=_("request"),
    )
    # The file's name in the "deliveries" storage (settings.STORAGES), a random one; the reader
    # gets `file_name`, the name staff uploaded it under. Read and written by delivery.py only.
    stored_name = models.CharField(_("stored as"), max_length=255, editable=False)
    file_name = models.CharField(_("file name"), max_length=255)
    size = models.PositiveBigIntegerField(_("size (bytes)"))
    delivered_at = models.DateTimeField(_("attached"), default=timezone.now)
    delivered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("attached by"),
    )
    expires_at = models.DateTimeField(_("downloadable until"))
    max_downloads = models.PositiveIntegerField(_("downloads allowed"))
    downloads = models.PositiveIntegerField(_("downloads"), default=0)
    last_downloaded_at = models.DateTimeField(_("last downloaded"), null=True, blank=True)
    # When the reader accepted the copyright statement for this document.
    acknowledged_at = models.DateTimeField(_("copyright statement accepted"), null=True, blank=True)
    purged_at = models.DateTimeField(_("file removed"), null=True, blank=True)

    objects = DeliveryQuerySet.as_manager()

    class Meta:
        verbose_name = _("electronic delivery")
        verbose_name_plural = _("electronic deliveries")
        ordering = ["-delivered_at", "-pk"]
        constraints = [
            # The counter never passes the limit, whatever runs at once (see delivery.py).
            models.CheckConstraint(
                condition=Q(downloads__lte=F("max_downloads")),
                name="delivery_downloads_within_limit",
            ),
        ]
        indexes = [
            # purge_deliveries reads the files still kept.
            models.Index(
                fields=["expires_at"],
                name="delivery_kept",
                condition=Q(purged_at__isnull=True),
            ),
        ]

    def __str__(self):
        return f"{self.request.number}: {self.file_name}"

    def get_additional_data(self):
        # Read by django-auditlog: the request's History page lists its delivery's changes.
        return {"request_id": self.request_id}

    @property
    def downloads_left(self) -> int:
        return max(self.max_downloads - self.downloads, 0)

    @property
    def is_removed(self) -> bool:
        return self.purged_at is not None

    @property
    def is_expired(self) -> bool:
        return timezone.now() >= self.expires_at

    @property
    def is_used_up(self) -> bool:
        return self.downloads >= self.max_downloads


class KeptCitation(models.Model):
    """A citation from an OpenURL that reached a reader not yet confirmed (issue 14).

    Kept until the office confirms them: then each fills a new request form once, oldest first,
    and is deleted. Only the parsed form data is kept (plain strings, never U+FFFD).
    """

    reader = models.ForeignKey(
        "readers.Reader",
        on_delete=models.CASCADE,
        related_name="kept_citations",
        verbose_name=_("reader"),
    )
    data = models.JSONField(_("citation"))
    created_at = models.DateTimeField(_("kept at"), default=timezone.now)

    class Meta:
        ordering = ["created_at", "pk"]
        verbose_name = _("kept citation")
        verbose_name_plural = _("kept citations")

    def __str__(self):
        return self.data.get("article_title") or self.data.get("publication_title") or "-"


class StatisticsVersion(models.Model):
    """How often the requests submitted in one calendar month (UTC) changed in ways the
    statistics count: bumped by PostgreSQL triggers (migration 0017) on every insert, delete or
    update of a request's status, service type, supplier, reader, dates, whatever the code path
    (the lifecycle, the admin, a bulk update, raw SQL). The row for 1900-01 stands for the
    readers: their type or institution changed. The statistics cache (`StatisticsMonth`) is
    valid only while these counters are what they were when it was computed.

    A counter's row stays locked until the changing transaction commits: transactions changing
    requests of the same month take turns from the change to their commit (submissions already
    do, on `RequestNumberCounter`). One statement locks its months in order; a transaction that
    changes requests of several months in several statements could, against another doing the
    opposite, be stopped by PostgreSQL's deadlock detection: the lifecycle and expiry change one
    request per transaction; `import_legacy` writes in batches, so run one import at a time."""

    month = models.DateField(primary_key=True)
    version = models.BigIntegerField(default=0)

    def __str__(self):
        return f"{self.month:%Y-%m}: {self.version}"


class StatisticsMonth(models.Model):
    """The statistics of one calendar month (the portal's time zone), kept so that the
    statistics page reads a year of requests without reading the requests (statistics.py): the
    counts of each group and, for the turnaround percentiles, every supplied request's
    turnaround (sorted, microseconds), so that percentiles over any range stay exact."""

    month = models.DateField(primary_key=True)
    # Its bounds and the `StatisticsVersion` counters it was computed under.
    versions = models.TextField()
    # [[breakdown, group, requests, outcomes, supplied, first duration, durations], ...]
    counts = models.JSONField()
    # The durations: 64-bit little-endian integers, each group's run sorted.
    durations = models.BinaryField()

    def __str__(self):
        return f"{self.month:%Y-%m}"
