"""Linking old accounts to gateway readers (SPEC 3): the wizard's and staff's services.

- `legacy_link`: the reader continues with this old account. Once per old account and once per
  reader; its balance becomes the reader's opening-balance ledger entry, in the same transaction.
- `legacy_attach`: another old account of the same person (same ID type and number) is attached
  as history. Its balance is shown, not counted, until staff move it (`legacy_move_balance`, a
  transfer pair of ledger entries: out of the old account, into the reader's).
- `legacy_choice_answer`: a reader from before the first-entry question answered it (SPEC 3:
  link or not); linking answers it too.
- `legacy_register_reader`: a first login that links (campus SSO or the old off-campus username)
  creates the reader from the old account's details, confirmed as the old account was.

Every function locks the old account's row, so two tabs (or a reader and staff) confirming at
once link it once.
"""

from allauth.socialaccount.internal.flows.signup import get_pending_signup
from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, gettext_noop

from readers.forms import ReaderProfileForm
from readers.models import PROFILE_FIELDS, Reader
from readers.services import notice_send, reader_register

from .ledger import LedgerError, ledger_move_legacy_balance, ledger_record
from .legacy import LegacyAccount, LegacyStatus, LinkKind
from .models import EntryKind

# Whom a reader asks when the wizard cannot link an account for them (SPEC 3).
ASK_THE_OFFICE = gettext_lazy(
    "Please ask the ILL office (at its desk or by e-mail) to link it for you: staff can link it "
    "after checking your ID."
)


class LegacyLinkError(Exception):
    """A link the rules refuse, with the reason in words for the reader or staff."""


def legacy_find(username: str) -> LegacyAccount | None:
    """The old account of `username`, compared without case as the old system did."""
    username = (username or "").strip()
    if not username:
        return None
    return LegacyAccount.objects.filter(username__iexact=username).first()


def legacy_refusal(legacy_account: LegacyAccount) -> str | None:
    """Why the reader cannot link this account themselves (None when they can)."""
    if legacy_account.status == LegacyStatus.DISABLED:
        return _("This old account was disabled (停用) in the old system.") + " " + ASK_THE_OFFICE
    if not legacy_account.has_usable_password:
        return _("This old account has no password the gateway can check.") + " " + ASK_THE_OFFICE
    return None


def legacy_same_person(legacy_account: LegacyAccount):
    """The other old accounts with the same ID type and number (several accounts, one person)."""
    if not (legacy_account.id_type and legacy_account.id_number):
        return LegacyAccount.objects.none()
    return LegacyAccount.objects.filter(
        id_type=legacy_account.id_type, id_number__iexact=legacy_account.id_number
    ).exclude(pk=legacy_account.pk)


def legacy_linked_account(reader) -> LegacyAccount | None:
    """The old account the reader continues with, if any."""
    if reader is None:
        return None
    return LegacyAccount.objects.filter(reader=reader, link_kind=LinkKind.LINKED).first()


def legacy_can_log_in(legacy_account: LegacyAccount) -> str | None:
    """Why an old username may not start a first login (None when it may).

    Linked and attached accounts, and the other accounts of a person who already continues
    with one of them, no longer log in (SPEC 3).
    """
    if legacy_account.reader_id:
        return _(
            "This old account is already linked to a gateway account: log in with that account."
        )
    if legacy_same_person(legacy_account).filter(link_kind=LinkKind.LINKED).exists():
        return _(
            "You already continue with another old account of yours: log in with it, and attach "
            "this one as history under Account."
        )
    return legacy_refusal(legacy_account)


def _locked(legacy_account: LegacyAccount) -> LegacyAccount:
    return LegacyAccount.objects.select_for_update().get(pk=legacy_account.pk)


@transaction.atomic
def legacy_link(*, legacy_account: LegacyAccount, reader, actor) -> LegacyAccount:
    """The reader continues with this old account: its balance becomes their opening balance."""
    account = _locked(legacy_account)
    if account.reader_id:
        raise LegacyLinkError(_("This old account is already linked to a gateway account."))
    current = legacy_linked_account(reader)
    if current is not None:
        raise LegacyLinkError(
            _(
                "This reader already continues with the old account “%(username)s”: attach "
                "other old accounts as history instead."
            )
            % {"username": current.username}
        )
    other = legacy_same_person(account).filter(link_kind=LinkKind.LINKED).exclude(reader=reader)
    if other.exists():
        raise LegacyLinkError(
            _(
                "Another old account with the same ID is linked to another gateway account: "
                "attach this one there as history."
            )
        )
    account.reader = reader
    account.link_kind = LinkKind.LINKED
    account.linked_at = timezone.now()
    account.linked_by = actor
    account.save(update_fields=["reader", "link_kind", "linked_at", "linked_by"])
    legacy_choice_answer(reader=reader)
    if account.balance:
        try:
            ledger_record(
                reader=reader,
                kind=EntryKind.OPENING_BALANCE,
                amount=account.balance,
                actor=actor,
                note=gettext_noop("Balance of old account “%(username)s”"),
                note_params={"username": account.username},
            )
        except LedgerError as refusal:  # a balance beyond what the ledger holds
            raise LegacyLinkError(str(refusal)) from None
    if account.balance < 0:
        notice_send(
            reader=reader,
            title=gettext_noop("Debt from the old system (欠款)"),
            body=gettext_noop(
                "Your old account %(username)s owed %(amount)s yuan. Please settle it at the "
                "ILL office's desk or by bank transfer (Account shows how to pay). Until it is "
                "settled new requests may be refused."
            ),
            params={"username": account.username, "amount": -account.balance},
        )
    return account


def legacy_choice_answer(*, reader) -> None:
    """The reader answered the first-entry question (SPEC 3): linked, or chose not to.

    Either way they are not asked again; an old account can still be linked under 帐户管理.
    """
    Reader.objects.filter(pk=reader.pk, legacy_choice_at__isnull=True).update(
        legacy_choice_at=timezone.now()
    )


@transaction.atomic
def legacy_attach(*, legacy_account: LegacyAccount, reader, actor, same_person=True):
    """Attach another old account to the reader as history (its money is not counted)."""
    account = _locked(legacy_account)
    if account.reader_id:
        raise LegacyLinkError(_("This old account is already linked to a gateway account."))
    if same_person:
        linked = legacy_linked_account(reader)
        if linked is None or not legacy_same_person(linked).filter(pk=account.pk).exists():
            raise LegacyLinkError(
                _(
                    "Only old accounts with the same ID as the one you continue with can be "
                    "attached."
                )
            )
    account.reader = reader
    account.link_kind = LinkKind.ATTACHED
    account.linked_at = timezone.now()
    account.linked_by = actor
    account.save(update_fields=["reader", "link_kind", "linked_at", "linked_by"])
    return account


@transaction.atomic
def legacy_move_balance(*, legacy_account: LegacyAccount, actor):
    """Staff move what is left on an attached account to its reader, once (SPEC 3).

    A transfer pair (`ledger_move_legacy_balance`): out of the old account, into the reader's
    (the other way for a debt). The old account is left at 0, so a second move is refused and
    the money is never counted twice. Returns the reader's entry.
    """
    account = _locked(legacy_account)
    if account.link_kind != LinkKind.ATTACHED:
        raise LegacyLinkError(
            _("Only an attached account's balance is moved: a linked one's is the opening balance.")
        )
    try:
        return ledger_move_legacy_balance(legacy_account=account, actor=actor)
    except LedgerError as refusal:
        raise LegacyLinkError(str(refusal)) from None


def legacy_profile(legacy_account: LegacyAccount, fallback: dict | None = None):
    """The reader profile the old account's details make, and the required fields missing.

    Each detail is checked as the profile form checks it; where the old value is missing or
    refused (too long, not an e-mail…) the `fallback` value (what the campus login released) is
    tried, else the field is left for the reader to complete in their profile.
    """
    fallback = {k: v for k, v in (fallback or {}).items() if k in PROFILE_FIELDS and v}
    data = {
        name: getattr(legacy_account, name) or fallback.get(name, "") for name in PROFILE_FIELDS
    }
    form = ReaderProfileForm(data={**data, "language": settings.LANGUAGE_CODE})
    if not form.is_valid():
        for name in list(form.errors):
            if name in fallback:
                data[name] = fallback[name]
        form = ReaderProfileForm(data={**data, "language": settings.LANGUAGE_CODE})
        form.is_valid()
    profile = {name: form.cleaned_data.get(name) or "" for name in PROFILE_FIELDS}
    missing = [name for name in PROFILE_FIELDS if form.fields[name].required and not profile[name]]
    return profile, missing


@transaction.atomic
def legacy_register_reader(
    *, user, legacy_account: LegacyAccount, reader_type, language: str, extra: dict | None = None
):
    """A first login that links: the reader made from the old account's details, then linked.

    Confirmed at once when the old account was active, unless the operator asks staff to confirm
    readers who link (LEGACY_LINK_NEEDS_CONFIRMATION). Returns (reader, missing profile fields).
    """
    locked = _locked(legacy_account)
    reason = legacy_can_log_in(locked)
    if reason:
        raise LegacyLinkError(reason)
    profile, missing = legacy_profile(locked, fallback=extra)
    profile.update({k: v for k, v in (extra or {}).items() if k not in PROFILE_FIELDS})
    confirmed = locked.status == LegacyStatus.ACTIVE and not settings.LEGACY_LINK_NEEDS_CONFIRMATION
    reader = reader_register(
        user=user,
        reader_type=reader_type,
        profile=profile,
        language=language,
        confirmed=confirmed,
    )
    legacy_link(legacy_account=locked, reader=reader, actor=user)
    return reader, missing


# --- The proven password, kept in the session until 账户信息确认 -------------------------------

PROOF_SESSION_KEY = "legacy_link_proof"


def _proof_owner(request) -> str:
    """Who is proving: the signed-in user, the campus login waiting for its registration, or
    an anonymous visitor of the login form. A proof serves only its owner: a browser left at
    账户信息确认 must not link the old account to whoever logs in next in it."""
    user = request.user
    if user.is_authenticated:
        return f"user:{user.pk}"
    pending = get_pending_signup(request)
    if pending is not None:
        return f"sso:{pending.account.provider}:{pending.account.uid}"
    return "anonymous"


def legacy_remember_proof(request, legacy_account: LegacyAccount, *, via: str) -> None:
    """The old password was proven in this session (`via`: "wizard" or "login")."""
    request.session[PROOF_SESSION_KEY] = {
        "pk": legacy_account.pk,
        "at": timezone.now().timestamp(),
        "via": via,
        "owner": _proof_owner(request),
    }


def legacy_proven(request) -> tuple[LegacyAccount | None, str]:
    """The old account whose password this session's present visitor proved lately, and how;
    else (None, "")."""
    proof = request.session.get(PROOF_SESSION_KEY)
    if not isinstance(proof, dict):
        return None, ""
    age = timezone.now().timestamp() - float(proof.get("at") or 0)
    if age > settings.LEGACY_LINK_PROOF_SECONDS or proof.get("owner") != _proof_owner(request):
        legacy_forget_proof(request)
        return None, ""
    account = LegacyAccount.objects.filter(pk=proof.get("pk")).first()
    return account, str(proof.get("via") or "")


def legacy_forget_proof(request) -> None:
    request.session.pop(PROOF_SESSION_KEY, None)
