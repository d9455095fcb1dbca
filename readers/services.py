"""Rules that change a reader's state: registration, confirmation and rejection by staff.

Views, admin actions and commands call these; none of them re-implements a rule.
"""

import logging

from allauth.account.models import EmailAddress
from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import get_supported_language_variant, gettext_noop, override
from django.utils.translation import gettext as _

from core.mail import send_to_reader

from .models import (
    IDENTITY_FIELDS,
    PROFILE_FIELDS,
    LoginEmailChange,
    Notice,
    Reader,
    ReaderStatus,
)

logger = logging.getLogger(__name__)


class ReaderStateError(Exception):
    """A confirmation or rejection that the reader's current status does not allow."""


def _is_staff_account(user) -> bool:
    return user.is_staff or user.is_superuser


def _sync_account_email(user, email: str) -> None:
    """Make `email` the account's only address: the one password resets go to.

    allauth looks accounts up by its own e-mail records; an address the reader gave up must not
    keep reaching the account. A staff or superuser account is never touched: a reader profile
    (its own, or one pointed at it) must not decide where that account's resets go.
    """
    if _is_staff_account(user):
        logger.warning(
            "Reader e-mail of staff account %s changed; the account's own address is kept",
            user.pk,
        )
        return
    if user.email != email:
        user.email = email
        user.save(update_fields=["email"])
    EmailAddress.objects.filter(user=user).exclude(email__iexact=email).delete()
    if email and not EmailAddress.objects.filter(user=user, email__iexact=email).exists():
        EmailAddress.objects.create(user=user, email=email, primary=True, verified=False)


def _masked(email: str) -> str:
    """`n***@example.org`: enough for the owner to recognise, too little to hand over."""
    local, _at, domain = email.partition("@")
    return f"{local[:1]}***@{domain}"


@transaction.atomic
def reader_update_profile(*, form, actor) -> Reader:
    """Save the profile form (by the reader or by staff), keeping the login e-mail in step.

    A changed address is recorded (who, when, from what) and the old address is told: whoever
    can change it can have the account's password reset sent to themselves.
    """
    old_email = ""
    if form.instance.pk:
        old_email = (
            Reader.objects.select_for_update(of=("self",))
            .values_list("email", flat=True)
            .get(pk=form.instance.pk)
        )
    reader = form.save()
    if old_email and old_email.lower() != reader.email.lower():
        change = LoginEmailChange.objects.create(
            reader=reader, old_email=old_email, new_email=reader.email, changed_by=actor
        )
        send_to_reader(
            reader,
            "login_email_changed",
            {
                "change": change,
                "new_email": _masked(reader.email),
                "by_office": actor is not None and actor != reader.user,
            },
            address=old_email,
        )
    _sync_account_email(reader.user, reader.email)
    return reader


def _email_language(language: str) -> str:
    """One of settings.LANGUAGES for whatever code the browser or a form gave ("zh-cn" → "zh-hans");
    the default language for anything else."""
    try:
        return get_supported_language_variant(language or "")
    except LookupError:
        return settings.LANGUAGE_CODE


def reader_set_language(*, reader: Reader, language: str) -> Reader:
    """The language the reader's e-mails are written in: chosen at sign-up, in the profile, or
    by switching the portal's language while logged in."""
    language = _email_language(language)
    if reader.language != language:
        reader.language = language
        reader.save(update_fields=["language"])
    return reader


@transaction.atomic
def reader_register(
    *, user, reader_type, profile: dict, language: str, confirmed: bool = False
) -> Reader:
    """Create the reader profile of a newly registered user: pending, or confirmed at once for
    a reader who continues an old account the old system had confirmed (SPEC 2, 3)."""
    known = {*PROFILE_FIELDS, *IDENTITY_FIELDS}
    fields = {k: v for k, v in profile.items() if k in known and v is not None}
    reader = Reader.objects.create(
        user=user,
        reader_type=reader_type,
        status=ReaderStatus.CONFIRMED if confirmed else ReaderStatus.PENDING,
        decided_at=timezone.now() if confirmed else None,
        language=_email_language(language),
        **fields,
    )
    if reader.email and user.email != reader.email and not _is_staff_account(user):
        user.email = reader.email
        user.save(update_fields=["email"])
    return reader


def notice_send(
    *, reader, title: str, body: str, params: dict | None = None, topic: str = ""
) -> Notice:
    """A personal notice in both languages (the reader may read the board in either).

    `title` and `body` are untranslated msgids (mark them with gettext_noop); `params` fill
    their %(name)s placeholders in each language. With a `topic` ("request:4711"), the
    reader's earlier notice on that topic is replaced: it becomes this one, unread and dated
    now (the request's own history keeps every change).
    """
    params = params or {}
    texts = {}
    for code, suffix in (("zh-hans", "zh"), ("en", "en")):
        with override(code):
            texts[f"title_{suffix}"] = _(title) % params
            texts[f"body_{suffix}"] = _(body) % params
    if topic:
        with transaction.atomic():
            earlier = list(
                Notice.objects.select_for_update()
                .filter(reader=reader, topic=topic)
                .order_by("-publish_at", "-pk")
            )
            if earlier:
                notice, *stale = earlier
                for name, value in texts.items():
                    setattr(notice, name, value)
                notice.publish_at = timezone.now()
                notice.end_at = None
                notice.read_at = None
                notice.save()
                if stale:
                    Notice.objects.filter(pk__in=[old.pk for old in stale]).delete()
                return notice
    return Notice.objects.create(reader=reader, topic=topic, **texts)


@transaction.atomic
def reader_confirm(*, reader: Reader, actor) -> Reader:
    reader = Reader.objects.select_for_update().get(pk=reader.pk)
    if reader.status == ReaderStatus.CONFIRMED:
        raise ReaderStateError(_("%(reader)s is already confirmed.") % {"reader": reader})
    reader.status = ReaderStatus.CONFIRMED
    reader.decided_at = timezone.now()
    reader.decided_by = actor
    reader.rejection_reason = ""
    reader.save(update_fields=["status", "decided_at", "decided_by", "rejection_reason"])
    notice_send(
        reader=reader,
        title=gettext_noop("Account confirmation notice"),
        body=gettext_noop(
            "Your ILL account has been confirmed by the ILL office. You can now submit requests."
        ),
    )
    send_to_reader(reader, "reader_confirmed")
    return reader


@transaction.atomic
def reader_reject(*, reader: Reader, actor, reason: str) -> Reader:
    reason = (reason or "").strip()
    if not reason:
        raise ReaderStateError(_("Give the reader a reason for the rejection."))
    reader = Reader.objects.select_for_update().get(pk=reader.pk)
    if reader.status != ReaderStatus.PENDING:
        raise ReaderStateError(
            _("%(reader)s is not waiting for confirmation.") % {"reader": reader}
        )
    reader.status = ReaderStatus.REJECTED
    reader.decided_at = timezone.now()
    reader.decided_by = actor
    reader.rejection_reason = reason
    reader.save(update_fields=["status", "decided_at", "decided_by", "rejection_reason"])
    notice_send(
        reader=reader,
        title=gettext_noop("Registration not confirmed"),
        body=gettext_noop("The ILL office could not confirm your registration. Reason: %(reason)s"),
        params={"reason": reason},
    )
    send_to_reader(reader, "reader_rejected")
    return reader
