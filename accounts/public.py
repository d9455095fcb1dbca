"""The public account (公用账号) and the guest sessions it starts (SPEC 1, 4.3; seed 2.3).

Private individuals share one login (by default `passing` / `passing`). Each login with it
starts a guest session of its own: a random token in that browser's session, which the requests
made from it carry (hashed). Nothing else identifies a guest: another browser logged in with
the same account is another guest, and a request is reached from elsewhere only through the
private link e-mailed for it (`requests_app.guests`).
"""

import hashlib
import secrets

from allauth.account.adapter import get_adapter
from django.contrib.auth import get_user_model
from django.core.exceptions import ImproperlyConfigured, PermissionDenied
from django.db import transaction
from django.utils import timezone

from .models import PublicAccount

GUEST_SESSION_KEY = "accounts.guest"
DEFAULT_USERNAME = "passing"
DEFAULT_PASSWORD = "passing"


class PublicAccountError(Exception):
    """What `manage.py public_account` refuses, in words."""


def is_public_account(user) -> bool:
    """Whether `user` is the public account (one query; the session answers it after login)."""
    if user is None or not user.is_authenticated:
        return False
    return PublicAccount.objects.filter(user_id=user.pk).exists()


def is_public_username(login: str) -> bool:
    return bool(login) and PublicAccount.objects.filter(user__username__iexact=login).exists()


def guest_start(request, user) -> None:
    """After a login: a login with the public account becomes a fresh guest of its own."""
    if is_public_account(user):
        request.session[GUEST_SESSION_KEY] = secrets.token_urlsafe(32)


def guest_token(request) -> str:
    """The guest session's token; empty for anyone who is not a guest."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return ""
    return request.session.get(GUEST_SESSION_KEY, "")


def is_guest(request) -> bool:
    return bool(guest_token(request))


def guest_digest(token: str) -> str:
    """What a request stores of its guest session: never the session's token itself."""
    return hashlib.sha256(token.encode()).hexdigest()


def client_address(request) -> str:
    """The client's address by the login throttle's rule (TRUSTED_PROXY_COUNT…); empty if none."""
    try:
        return get_adapter(request).get_client_ip(request) or ""
    except (PermissionDenied, ImproperlyConfigured):
        return ""


def public_account() -> PublicAccount | None:
    return PublicAccount.objects.select_related("user").filter(user__is_active=True).first()


# --- What manage.py public_account does -------------------------------------------------------


def _check_username_free(username: str, *, keep=None) -> None:
    User = get_user_model()
    taken = User.objects.filter(username__iexact=username)
    if keep is not None:
        taken = taken.exclude(pk=keep.pk)
    if taken.exists():
        raise PublicAccountError(
            f"The username {username!r} belongs to another account; choose another one."
        )


def public_account_create(
    *, username: str = DEFAULT_USERNAME, password: str = DEFAULT_PASSWORD, publish: bool = True
) -> PublicAccount:
    """Create the public account (there is one); refuse if it exists or the name is taken."""
    with transaction.atomic():
        if PublicAccount.objects.select_for_update().exists():
            raise PublicAccountError(
                "The public account exists already; use --rename, --password or --enable."
            )
        _check_username_free(username)
        user = get_user_model().objects.create_user(username=username, password=password)
        return PublicAccount.objects.create(
            user=user, published_password=password if publish else ""
        )


def _the_account() -> PublicAccount:
    account = PublicAccount.objects.select_for_update().select_related("user").first()
    if account is None:
        raise PublicAccountError("There is no public account yet; create it first.")
    return account


def public_account_change(
    *,
    username: str | None = None,
    password: str | None = None,
    publish: bool | None = None,
    active: bool | None = None,
) -> PublicAccount:
    """Rename it, give it a new password (which ends every guest session), disable or enable it.

    Disabling ends every guest session too (Django refuses inactive users' sessions); the
    private links of the requests made keep working.
    """
    with transaction.atomic():
        account = _the_account()
        user = account.user
        if username is not None and username != user.username:
            _check_username_free(username, keep=user)
            user.username = username
        if password is not None:
            user.set_password(password)
            if publish is None:
                publish = bool(account.published_password)
        if publish is not None:
            account.published_password = (password or account.published_password) if publish else ""
            if publish and not account.published_password:
                raise PublicAccountError(
                    "The password is not known here (it is stored hashed): give it with "
                    "--password to show it on the login page."
                )
        if active is not None:
            user.is_active = active
        user.save()
        account.changed_at = timezone.now()
        account.save()
        return account
