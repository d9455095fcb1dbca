"""Readers (the people the ILL office serves), the notice board and the staff-edited pages."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.bilingual import BilingualText


class ReaderType(models.TextChoices):
    CAMPUS = "campus", _("Campus reader")
    OFF_CAMPUS = "off_campus", _("Off-campus reader")
    INDIVIDUAL = "individual", _("Individual")


class ReaderStatus(models.TextChoices):
    PENDING = "pending", _("Waiting for confirmation")
    CONFIRMED = "confirmed", _("Confirmed")
    REJECTED = "rejected", _("Rejected")


class IdType(models.TextChoices):
    LIBRARY_CARD = "library_card", _("Library card")
    RESIDENT_ID = "resident_id", _("Resident ID")
    PASSPORT = "passport", _("Passport")
    STAFF_CARD = "staff_card", _("Staff card")
    STUDENT_CARD = "student_card", _("Student card")
    OTHER = "other", _("Other")


# What a reader tells the ILL office about themselves: the profile page, both registrations and
# the admin show these, in this order.
PROFILE_FIELDS = [
    "name",
    "email",
    "id_type",
    "id_number",
    "phone",
    "address",
    "postal_code",
    "institution",
]
# What a campus login says about the reader besides (kept at registration; staff see them).
IDENTITY_FIELDS = ["campus_id", "affiliation"]


class Reader(models.Model):
    """A reader's profile: who they are to the ILL office, and whether staff confirmed them."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="reader",
        verbose_name=_("user account"),
    )
    reader_type = models.CharField(_("reader type"), max_length=20, choices=ReaderType.choices)
    status = models.CharField(
        _("status"), max_length=20, choices=ReaderStatus.choices, default=ReaderStatus.PENDING
    )
    name = models.CharField(_("name"), max_length=100)
    email = models.EmailField(_("e-mail"))
    id_type = models.CharField(_("ID type"), max_length=20, choices=IdType.choices, blank=True)
    id_number = models.CharField(_("ID number"), max_length=50, blank=True)
    phone = models.CharField(_("phone"), max_length=30, blank=True)
    address = models.CharField(_("postal address"), max_length=100, blank=True)
    postal_code = models.CharField(_("postal code"), max_length=10, blank=True)
    institution = models.CharField(_("department or institution"), max_length=200, blank=True)
    campus_id = models.CharField(_("campus ID"), max_length=50, blank=True)
    affiliation = models.CharField(
        _("affiliation"),
        max_length=100,
        blank=True,
        help_text=_("As the campus login released it: student, faculty, staff, member…"),
    )
    language = models.CharField(
        _("language for e-mails"), max_length=10, choices=settings.LANGUAGES, default="zh-hans"
    )
    created_at = models.DateTimeField(_("registered"), default=timezone.now)
    decided_at = models.DateTimeField(_("confirmed or rejected"), null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("confirmed or rejected by"),
    )
    rejection_reason = models.TextField(_("reason for rejection"), max_length=2000, blank=True)
    # When the reader answered SPEC 3's first-entry question: link an old system account
    # (关联原有帐户) or not (注册新帐户). Every registration page puts that choice, so a new
    # reader has answered it by registering; readers from before the question (migration 0012)
    # have not, and the board asks them at their next entry, once.
    legacy_choice_at = models.DateTimeField(
        _("answered the old-account question"), null=True, blank=True, default=timezone.now
    )

    class Meta:
        verbose_name = _("reader")
        verbose_name_plural = _("readers")
        ordering = ["-created_at"]
        # The admin's change lists (newest first, the queue oldest first; by status and type)
        # and its search by the identifiers staff type exactly.
        indexes = [
            models.Index(fields=["created_at", "id"], name="reader_created"),
            models.Index(fields=["status", "created_at", "id"], name="reader_status_created"),
            models.Index(fields=["reader_type", "created_at", "id"], name="reader_type_created"),
            models.Index(fields=["id_number"], name="reader_id_number"),
            models.Index(fields=["campus_id"], name="reader_campus_id"),
            models.Index(fields=["phone"], name="reader_phone"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=ReaderStatus.values), name="reader_status_valid"
            ),
            models.CheckConstraint(
                condition=Q(reader_type__in=ReaderType.values), name="reader_type_valid"
            ),
        ]

    def __str__(self):
        return f"{self.name} ({self.user.get_username()})"

    @property
    def is_confirmed(self):
        return self.status == ReaderStatus.CONFIRMED

    @property
    def is_pending(self):
        return self.status == ReaderStatus.PENDING


class LoginEmailChange(models.Model):
    """A change of the address a reader's password resets and e-mails go to: who, when, from what.

    Written by `readers.services.reader_update_profile`, never edited: it is the record the
    old address's owner and the office look at when a change was not wanted.
    """

    reader = models.ForeignKey(Reader, on_delete=models.CASCADE, verbose_name=_("reader"))
    old_email = models.EmailField(_("old e-mail"))
    new_email = models.EmailField(_("new e-mail"))
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        related_name="+",
        verbose_name=_("changed by"),
    )
    changed_at = models.DateTimeField(_("changed"), default=timezone.now)

    class Meta:
        verbose_name = _("login e-mail change")
        verbose_name_plural = _("login e-mail changes")
        ordering = ["-changed_at", "-pk"]

    def __str__(self):
        return f"{self.old_email} → {self.new_email}"


class NoticeQuerySet(models.QuerySet):
    def published(self, now=None):
        now = now or timezone.now()
        return self.filter(publish_at__lte=now).filter(Q(end_at__isnull=True) | Q(end_at__gt=now))

    def public(self):
        return self.filter(reader__isnull=True)

    def visible_to(self, user):
        """Public notices, plus the personal ones addressed to this user's reader profile."""
        published = self.published()
        if user.is_authenticated and hasattr(user, "reader"):
            return published.filter(Q(reader__isnull=True) | Q(reader=user.reader))
        return published.public()

    def board_order(self):
        return self.order_by("-pinned", "-publish_at", "-pk")

    def personal_to(self, reader):
        """The reader's own published notices, newest first."""
        return self.published().filter(reader=reader).order_by("-publish_at", "-pk")


class Notice(BilingualText):
    """A notice on the board (留言板): from the ILL office to all, or personal to one reader."""

    publish_at = models.DateTimeField(_("published"), default=timezone.now, db_index=True)
    end_at = models.DateTimeField(
        _("shown until"), null=True, blank=True, help_text=_("Leave empty to show it for good.")
    )
    pinned = models.BooleanField(_("pinned"), default=False)
    reader = models.ForeignKey(
        Reader,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="notices",
        verbose_name=_("personal to"),
        help_text=_("Leave empty for a notice to everyone."),
    )
    read_at = models.DateTimeField(_("read"), null=True, blank=True)
    # What a personal notice is about ("request:4711"): a newer notice on the same topic
    # replaces the older one, so the board has one line per request with its latest change.
    topic = models.CharField(_("topic"), max_length=40, blank=True, default="", editable=False)

    objects = NoticeQuerySet.as_manager()

    class Meta:
        verbose_name = _("notice")
        verbose_name_plural = _("notices")
        ordering = ["-pinned", "-publish_at", "-pk"]
        indexes = [
            models.Index(
                fields=["reader", "topic"],
                name="notice_reader_topic",
                condition=~Q(topic=""),
            ),
            # The admin's change list, in that order.
            models.Index(fields=["pinned", "publish_at", "id"], name="notice_board_order"),
            # The unread count every page of a reader shows, from the index alone (PostgreSQL)
            # however many notices the reader has.
            models.Index(
                fields=["reader", "publish_at"],
                include=["end_at"],
                condition=Q(read_at__isnull=True),
                name="notice_unread",
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=~Q(title_zh="") | ~Q(title_en=""),
                name="notice_has_a_title",
                violation_error_message=_("Give the notice a title in Chinese or in English."),
            ),
            models.CheckConstraint(
                condition=Q(end_at__isnull=True) | Q(end_at__gt=models.F("publish_at")),
                name="notice_ends_after_publishing",
                violation_error_message=_("A notice must end after it is published."),
            ),
        ]

    def __str__(self):
        return self.title

    @property
    def is_personal(self):
        return self.reader_id is not None

    @property
    def is_unread(self):
        return self.is_personal and self.read_at is None


class PageSlug(models.TextChoices):
    HELP = "help", _("Help")
    ABOUT = "about", _("About")
    FEES = "fees", _("Fee schedule")
    # Readers acknowledge it before their first download of a delivered PDF (SPEC 4.6).
    COPYRIGHT = "copyright", _("Copyright statement")


# What the copyright statement says until the ILL office writes its own page.
DEFAULT_COPYRIGHT_STATEMENT = _(
    "This copy is supplied to you for your own private study or non-commercial research only. "
    "You may not pass it on, copy it again or make it available to others, in print or "
    "electronically, beyond what copyright law allows."
)


class Page(BilingualText):
    """A page staff edit in the admin: help (帮助), about (关于), fee schedule (收费标准), the
    copyright statement readers accept before downloading a delivered document (版权声明)."""

    slug = models.CharField(_("page"), max_length=20, choices=PageSlug.choices, unique=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("page")
        verbose_name_plural = _("pages")
        ordering = ["slug"]

    def __str__(self):
        return self.get_slug_display()

    @property
    def title(self):
        return super().title or self.get_slug_display()


class RegistrationToConfirm(Reader):
    """The staff queue of registrations waiting for confirmation (a view of Reader)."""

    class Meta:
        proxy = True
        verbose_name = _("registration to confirm")
        verbose_name_plural = _("registrations to confirm")
