"""How django-allauth fits the gateway: sign-up creates a pending reader; campus identities
always go through our registration form and are never matched to accounts by e-mail."""

from types import SimpleNamespace
from urllib.parse import urlsplit

from allauth.account.adapter import DefaultAccountAdapter
from allauth.core.exceptions import ImmediateHttpResponse
from allauth.socialaccount.adapter import DefaultSocialAccountAdapter
from allauth.socialaccount.providers.base.constants import AuthError
from allauth.socialaccount.providers.oauth2.client import OAuth2Error
from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _
from requests import RequestException

from core.mail import send_rendered
from readers.models import ReaderType

from . import logout, sso
from .failures import logger, render_provider_failure
from .legacy import check_legacy_password
from .legacy_link import legacy_can_log_in, legacy_find, legacy_refusal, legacy_remember_proof
from .public import client_address, guest_start, is_public_username
from .sso_session import SSO_SESSION_KEY


class AccountAdapter(DefaultAccountAdapter):
    def is_open_for_signup(self, request):
        return True

    def get_logout_redirect_url(self, request):
        # Asked before the session ends: a campus login leads on to ending it at the IdP.
        if logout.campus_login_in_session(request):
            return reverse("sso_logged_out")
        return super().get_logout_redirect_url(request)

    def _get_login_attempts_cache_key(self, request, **credentials):
        # The per-account lock of the failed-login throttle, for the shared public account, is
        # per account *and* client address: anyone may type its name, and five wrong passwords
        # from one place must not lock out every private individual for minutes. The limit
        # per address (LOGIN_FAILED_RATE) still holds.
        # allauth keys it by the site's domain, which without django.contrib.sites is the Host
        # header, port included: whoever reached the application server directly could vary it
        # (host:1, host:2, …) for five fresh tries each time. One gateway, one key per login.
        # Case folded as the database compares logins (UPPER on both sides: "ı" and "ſ" are
        # "I" and "S"), so no spelling of one login counts apart.
        login = credentials.get("username") or credentials.get("email") or ""
        key = f"login:{login.upper().lower()}"
        if is_public_username(login):
            return f"{key}:{client_address(request)}"
        return key

    def login(self, request, user):
        super().login(request, user)
        # The public account: this browser becomes a guest of its own (accounts/public.py).
        guest_start(request, user)

    def logout(self, request):
        campus_login = request.session.get(SSO_SESSION_KEY)
        super().logout(request)
        logout.after_logout(request, campus_login)

    def authenticate(self, request, **credentials):
        """A gateway login, or else (seed 2.1) the first login of an old account not linked yet:
        its proven password leads straight to 账户信息确认 (accounts/legacy_views.py)."""
        user = super().authenticate(request, **credentials)
        username, password = credentials.get("username"), credentials.get("password")
        if user is not None or request.user.is_authenticated or not (username and password):
            return user
        account = legacy_find(username)
        if account is None or account.reader_id:
            # Linked or attached accounts log in as the gateway account they belong to.
            return None
        if not account.has_usable_password:
            raise ValidationError(legacy_refusal(account))
        if not check_legacy_password(account, password):
            return None
        refusal = legacy_can_log_in(account)
        if refusal:
            raise ValidationError(refusal)
        if account.reader_type == ReaderType.CAMPUS:
            raise ValidationError(
                _(
                    "This old account is a campus reader's: log in with the campus single "
                    "sign-on and choose “Link an existing account” (关联原有帐户)."
                )
            )
        # Proven: not a failed guess.
        self._rollback_login_failed_rl_usage()
        legacy_remember_proof(request, account, via="login")
        raise ImmediateHttpResponse(redirect("legacy_link_confirm"))

    # allauth's e-mails (password reset, "no account with this address"…) go out like the
    # gateway's own: in the reader's language, signed by the office, queued and retried.

    def format_email_subject(self, subject: str) -> str:
        # Like the gateway's own subjects; never allauth's "[host name] " prefix.
        return f"{subject} · {_portal_name()}"

    def send_mail(self, template_prefix: str, email: str, context: dict) -> None:
        with translation.override(_language_for(context.get("user"))):
            message = self.render_mail(
                template_prefix,
                email,
                {
                    "email": email,
                    "library_name": settings.LIBRARY_NAME,
                    "site_url": settings.SITE_URL,
                    # What allauth's texts call the site: the portal, at its public address
                    # (not whatever host name the request that caused the e-mail came in on).
                    "current_site": SimpleNamespace(
                        name=_portal_name(), domain=urlsplit(settings.SITE_URL).netloc
                    ),
                    **context,
                },
            )
        html = next(
            (content for content, mimetype in getattr(message, "alternatives", []) if mimetype),
            "",
        )
        send_rendered(subject=message.subject, body=message.body, html=html, to=email)


def _portal_name() -> str:
    return settings.LIBRARY_NAME or translation.gettext("ILL Reader Gateway")


def _language_for(user) -> str:
    """A reader's chosen e-mail language; else the language the page was asked in."""
    reader = getattr(user, "reader", None)
    return reader.language if reader else translation.get_language() or settings.LANGUAGE_CODE


def user_display(user) -> str:
    """How messages name a person: the reader's name, not an internal campus username."""
    reader = getattr(user, "reader", None)
    return reader.name if reader else user.get_username()


class SocialAccountAdapter(DefaultSocialAccountAdapter):
    def list_apps(self, request, provider=None, client_id=None):
        # Federation IdPs (manage.py sync_federation) keep only the IdP's side in the database;
        # the gateway's side (SP entity, keys, attributes) comes from SAML_FEDERATION.
        apps = super().list_apps(request, provider=provider, client_id=client_id)
        for app in apps:
            if app.provider == "saml" and (app.settings or {}).get("federation"):
                app.settings = {**settings.SAML_FEDERATION, **app.settings}
        return apps

    def is_auto_signup_allowed(self, request, sociallogin):
        # The registration form asks for what the ILL office needs (ID, phone, address), which
        # no identity provider releases: every campus reader fills it in once.
        return False

    def get_signup_form_initial_data(self, sociallogin):
        return sso.profile_from_sociallogin(sociallogin)

    def save_user(self, request, sociallogin, form=None):
        # Keep only the e-mail the reader confirmed on the registration form: the addresses the
        # identity provider released would otherwise be stored as verified, and e-mail must
        # never lead to a campus account (password reset, login by e-mail).
        sociallogin.email_addresses = []
        return super().save_user(request, sociallogin, form)

    def on_authentication_error(
        self, request, provider, error=None, exception=None, extra_context=None
    ):
        """Every failure allauth detects ends on the gateway's failure page, its reason logged."""
        if error == AuthError.CANCELLED:
            logger.info("SSO login cancelled at identity provider %r", provider.sub_id)
            return
        kind, reason = _classify(request, error, exception, extra_context or {})
        raise ImmediateHttpResponse(
            render_provider_failure(request, provider, kind=kind, reason=reason)
        )


def _classify(request, error, exception, extra_context) -> tuple[str, str]:
    """The failure's kind (accounts/failures.py) and its technical reason, for the log."""
    if isinstance(exception, RequestException):
        return "unavailable", f"{type(exception).__name__}: {exception}"
    if isinstance(exception, OAuth2Error):
        # e.g. the token endpoint's {"error": "invalid_client"} (wrong secret, wrong method).
        return "refused", f"OAuth2Error: {exception}"
    if isinstance(exception, PermissionDenied):
        return "unreadable", f"PermissionDenied: {exception or 'ID token or state not valid'}"
    if exception is not None:
        return "unreadable", f"{type(exception).__name__}: {exception}"
    if "saml_errors" in extra_context:
        return "unreadable", f"SAML: {extra_context.get('saml_last_error_reason')}"
    if "error" in request.GET:
        description = request.GET.get("error_description", "")
        if request.GET["error"] in ("temporarily_unavailable", "server_error"):
            return (
                "unavailable",
                f"the provider answered error={request.GET['error']!r} {description}",
            )
        return "refused", f"the provider answered error={request.GET['error']!r} {description}"
    if "state_id" in extra_context and extra_context.get("state") is None:
        return (
            "replayed",
            f"callback state {extra_context['state_id']!r} matches no login waiting in this "
            "browser session (reloaded, used twice, or started in another browser)",
        )
    return "unreadable", f"authentication error {error!r}"
