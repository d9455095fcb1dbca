"""The linking wizard's pages (SPEC 3, seed 1.3 steps 2–4 and 2.1).

Step 2, the choice between 关联原有帐户 and 注册新帐户, opens the campus registration page
(templates/socialaccount/signup.html) and the reader's 帐户管理 page; a reader who had a gateway
account before the question existed is asked it once, on their first entry (`choose`: the board
sends them there until they answer). Step 3 is `old_account`:
the old username and password, throttled with the login form's limit on the same username.
Step 4 is `confirm` (账户信息确认): 确定 links, 返回 links nothing.

Who may be here:
- "campus": a first campus login waiting for its registration (allauth's pending sign-up);
- "reader": a signed-in reader who does not continue with an old account yet;
- "login": someone who proved an old username and password on the normal login page (seed 2.1),
  at the confirmation step only.
Everyone else is sent to the login page, and a signed-in person without a reader profile (staff)
is told that the wizard is for readers.
"""

import uuid

from allauth.account.adapter import get_adapter as get_account_adapter
from allauth.socialaccount.adapter import get_adapter as get_social_adapter
from allauth.socialaccount.internal.flows.signup import (
    clear_pending_signup,
    complete_social_signup,
    get_pending_signup,
)
from django import forms
from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth import login as auth_login
from django.core.exceptions import ValidationError
from django.db import transaction
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from readers.models import ReaderType

from . import sso
from .legacy import LegacyAccount, check_legacy_password
from .legacy_link import (
    LegacyLinkError,
    legacy_attach,
    legacy_can_log_in,
    legacy_choice_answer,
    legacy_find,
    legacy_forget_proof,
    legacy_link,
    legacy_linked_account,
    legacy_proven,
    legacy_refusal,
    legacy_register_reader,
    legacy_remember_proof,
    legacy_same_person,
)

WRONG_CREDENTIALS = gettext_lazy(
    "The username or password of the old system is not correct. Usernames are not case "
    "sensitive; the password is."
)
BACKEND = "allauth.account.auth_backends.AuthenticationBackend"


class OldAccountForm(forms.Form):
    """关联账户: the old system's username and password."""

    username = forms.CharField(
        label=gettext_lazy("Username"),
        max_length=150,
        widget=forms.TextInput(attrs={"autocomplete": "off", "autocapitalize": "none"}),
    )
    password = forms.CharField(
        label=gettext_lazy("Password"),
        max_length=256,
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "off"}),
    )

    def __init__(self, *args, request, check, **kwargs):
        super().__init__(*args, **kwargs)
        self.request = request
        self.check = check  # (account) -> refusal in words, or None
        self.account = None

    def clean(self):
        cleaned = super().clean()
        username, password = cleaned.get("username"), cleaned.get("password")
        if self.errors or not username or not password:
            return cleaned
        adapter = get_account_adapter(self.request)
        # The login form's throttle, counted on the same key: a guess here is a guess there.
        adapter.pre_authenticate(self.request, username=username)
        account = legacy_find(username)
        if account is not None and not account.has_usable_password:
            raise ValidationError(legacy_refusal(account))
        if account is None or not check_legacy_password(account, password):
            raise ValidationError(WRONG_CREDENTIALS, code="invalid_login")
        refusal = self.check(account)
        if refusal:
            raise ValidationError(refusal)
        self.account = account
        return cleaned


def _mode(request) -> str:
    if request.user.is_authenticated:
        return "reader" if getattr(request.user, "reader", None) is not None else "staff"
    if get_pending_signup(request) is not None:
        return "campus"
    return ""


def _not_for_you(request, mode):
    if mode == "staff":
        return render(request, "readers/not_confirmed.html", {"profile": None}, status=403)
    messages.info(
        request, _("Log in first: the old account is linked to the account you log in with.")
    )
    return redirect("account_login")


def _check_for(mode, reader):
    def check(account):
        if mode == "reader" and account.reader_id == getattr(reader, "pk", None):
            return _("This old account is already linked to your account.")
        return legacy_can_log_in(account)

    return check


@require_http_methods(["GET", "POST"])
def old_account(request):
    """Step 3: the old username and password."""
    mode = _mode(request)
    if mode not in ("campus", "reader"):
        return _not_for_you(request, mode)
    reader = request.user.reader if mode == "reader" else None
    if mode == "reader" and legacy_linked_account(reader) is not None:
        return redirect("legacy_attach")
    form = OldAccountForm(request.POST or None, request=request, check=_check_for(mode, reader))
    if request.method == "POST" and form.is_valid():
        legacy_remember_proof(request, form.account, via="wizard")
        return redirect("legacy_link_confirm")
    return render(
        request,
        "accounts/legacy_old_account.html",
        {"form": form, "back_url": _back_url(request, mode)},
        status=200 if request.method == "GET" or form.is_valid() else 400,
    )


def _back_url(request, mode) -> str:
    if mode == "reader" and _asked_now(request.user.reader):
        return reverse("legacy_choice")
    return {
        "campus": reverse("socialaccount_signup"),
        "reader": reverse("account_legacy"),
    }.get(mode, reverse("account_login"))


def _asked_now(reader) -> bool:
    """Whether the reader is in the middle of the first-entry question (not answered yet)."""
    return reader.legacy_choice_at is None


@require_http_methods(["GET", "POST"])
def confirm(request):
    """Step 4, 账户信息确认: 确定 links the proven old account, 返回 links nothing."""
    mode = _mode(request)
    account, via = legacy_proven(request)
    if mode == "" and via == "login":
        mode = "login"
    if account is None or mode not in ("campus", "reader", "login"):
        if mode in ("campus", "reader"):
            return redirect("legacy_link_old_account")
        return _not_for_you(request, mode)
    if request.method == "POST" and "back" in request.POST:
        legacy_forget_proof(request)
        messages.info(request, _("Nothing was linked."))
        return redirect(_back_url(request, mode))
    if request.method == "POST":
        try:
            return _link(request, mode, account)
        except LegacyLinkError as error:
            legacy_forget_proof(request)
            messages.error(request, str(error))
            return redirect(_back_url(request, mode))
    return render(request, "accounts/legacy_confirm.html", {"legacy": account, "mode": mode})


def _link(request, mode, account):
    legacy_forget_proof(request)
    if mode == "reader":
        reader = request.user.reader
        # Asked on the first entry: linking answers it, and the reader goes on to the board.
        then = "home" if _asked_now(reader) else "account_legacy"
        legacy_link(legacy_account=account, reader=reader, actor=request.user)
        messages.success(request, _("Your old account has been linked."))
        return redirect(then)
    if mode == "campus":
        return _first_campus_login(request, account)
    return _first_old_login(request, account)


def _first_campus_login(request, account):
    """Seed 1.3 step 4: the campus login's account, made from the old account's details."""
    sociallogin = get_pending_signup(request)
    provided = sso.profile_from_sociallogin(sociallogin)
    user = sociallogin.user
    user.username = sso.username_for(sociallogin)
    with transaction.atomic():
        get_social_adapter(request).save_user(request, sociallogin, form=None)
        reader, missing = legacy_register_reader(
            user=user,
            legacy_account=account,
            reader_type=ReaderType.CAMPUS,
            language=get_language(),
            extra={
                **provided,
                "campus_id": provided.get("campus_id", "")[:50],
                "affiliation": provided.get("affiliation", ""),
            },
        )
    clear_pending_signup(request)
    response = complete_social_signup(request, sociallogin)
    return _welcome(request, reader, missing, response)


def _free_username(adapter, account) -> str:
    """The old username where the gateway takes it; else "old-<old user ID>", then that with a
    number: anyone may have registered the first two before the owner came."""
    fallback = f"old-{account.user_id}"
    candidates = [account.username, fallback, *(f"{fallback}-{n}" for n in range(2, 100))]
    for candidate in candidates:
        try:
            return adapter.clean_username(candidate)
        except ValidationError:
            continue
    return adapter.clean_username(f"{fallback}-{uuid.uuid4().hex[:8]}")


def _first_old_login(request, account):
    """Seed 2.1: the old username becomes the gateway login where it is free."""
    account = LegacyAccount.objects.get(pk=account.pk)
    User = get_user_model()
    adapter = get_account_adapter(request)
    username = _free_username(adapter, account)
    reader_type = (
        account.reader_type
        if account.reader_type in (ReaderType.OFF_CAMPUS, ReaderType.INDIVIDUAL)
        else ReaderType.OFF_CAMPUS
    )
    with transaction.atomic():
        # The old password, already re-hashed with the default hasher when it was proven.
        user = User.objects.create(username=username, password=account.password)
        reader, missing = legacy_register_reader(
            user=user, legacy_account=account, reader_type=reader_type, language=get_language()
        )
    auth_login(request, user, backend=BACKEND)
    if username.lower() != account.username.lower():
        messages.info(
            request,
            _(
                "The username “%(old)s” is taken in the gateway: from now on you log in as "
                "“%(new)s”, with the same password."
            )
            % {"old": account.username, "new": username},
        )
    return _welcome(request, reader, missing, redirect("home"))


def _welcome(request, reader, missing, response):
    messages.success(request, _("Your old account has been linked."))
    if missing:
        messages.warning(
            request,
            _("The old system did not have all your details: please complete your profile."),
        )
        return redirect("profile")
    return response


@require_http_methods(["GET", "POST"])
def choose(request):
    """Seed 1.3 step 2 for a reader who had a gateway account before the question existed.

    (1) 关联原有帐户 leads into the wizard (linking answers the question); (2) the reader had
    no old account, or does not want to link one now: answered, never asked again. Readers who
    answered it go on to the board.
    """
    mode = _mode(request)
    if mode != "reader":
        return _not_for_you(request, mode)
    reader = request.user.reader
    if not _asked_now(reader):
        return redirect("home")
    if request.method == "POST":
        legacy_choice_answer(reader=reader)
        messages.info(
            request,
            _(
                "You will not be asked again. Should you find an old account later, link it "
                "under Account → Old system accounts."
            ),
        )
        return redirect("home")
    return render(request, "accounts/legacy_choose.html")


@require_http_methods(["GET"])
def account_legacy(request):
    """The reader's old accounts: which one they continue with, attached ones, others to attach."""
    mode = _mode(request)
    if mode != "reader":
        return _not_for_you(request, mode)
    reader = request.user.reader
    mine = list(
        LegacyAccount.objects.filter(reader=reader)
        .with_balance_left()
        .order_by("-link_kind", "user_id")
    )
    linked = next((a for a in mine if a.link_kind == "linked"), None)
    others = []
    if linked is not None:
        others = list(legacy_same_person(linked).filter(reader__isnull=True).only("username"))
    return render(
        request,
        "accounts/legacy_accounts.html",
        {"linked": linked, "accounts": mine, "others": others},
    )


@require_http_methods(["GET", "POST"])
def attach(request):
    """Attach another old account of the reader's (same ID) as history, by its password."""
    mode = _mode(request)
    if mode != "reader":
        return _not_for_you(request, mode)
    reader = request.user.reader
    linked = legacy_linked_account(reader)
    if linked is None:
        return redirect("legacy_link_old_account")

    def check(account):
        if account.reader_id == reader.pk:
            return _("This old account is already linked to your account.")
        if account.reader_id:
            return _("This old account is already linked to a gateway account.")
        if not legacy_same_person(linked).filter(pk=account.pk).exists():
            return _(
                "Only old accounts with the same ID as the one you continue with can be attached."
            )
        return None

    form = OldAccountForm(request.POST or None, request=request, check=check)
    if request.method == "POST" and form.is_valid():
        try:
            legacy_attach(legacy_account=form.account, reader=reader, actor=request.user)
        except LegacyLinkError as error:
            messages.error(request, str(error))
        else:
            messages.success(
                request,
                _("The old account “%(username)s” is attached to yours as history.")
                % {"username": form.account.username},
            )
        return redirect("account_legacy")
    return render(
        request,
        "accounts/legacy_attach.html",
        {"form": form, "linked": linked},
        status=200 if request.method == "GET" else 400,
    )
