"""Logging out on a shared computer: the campus login ends too, where the IdP allows it.

At a campus login the gateway keeps in the reader's session what the IdP needs to end its own
session later (the ID token for OpenID Connect RP-initiated logout; the NameID and session
index for SAML single logout). Logging out of the gateway leads to /accounts/logged-out/,
which sends the browser to the IdP's logout where it has one, and otherwise says plainly
that the campus login is still open and how to end it.
"""

import logging
import secrets
import urllib.parse

from allauth.socialaccount.adapter import get_adapter as get_social_adapter
from allauth.socialaccount.models import SocialApp
from django.shortcuts import redirect, render
from django.urls import reverse
from onelogin.saml2.errors import OneLogin_Saml2_Error
from requests import RequestException

from accounts.oidc.provider import CampusOIDCAdapter
from accounts.saml.config import IdPUnavailable, build_auth
from accounts.saml.provider import display_name

from .sso_session import LOGGED_OUT_KEY, SSO_SESSION_KEY

logger = logging.getLogger("accounts.sso")


def campus_login_in_session(request) -> bool:
    return SSO_SESSION_KEY in request.session


def after_logout(request, info: dict | None) -> None:
    """Called once the gateway's session is gone: keep what the logged-out page needs."""
    if info:
        request.session[LOGGED_OUT_KEY] = {**info, "status": "pending"}


def _logged_out_url(request) -> str:
    return request.build_absolute_uri(reverse("sso_logged_out"))


def _oidc_logout_url(request, info) -> str | None:
    try:
        config = CampusOIDCAdapter(request, info["provider_id"]).openid_config
    except (RequestException, ValueError) as exc:
        logger.warning(
            "SSO logout at identity provider %r not possible: %s: %s",
            info["provider_id"],
            type(exc).__name__,
            exc,
        )
        return None
    endpoint = config.get("end_session_endpoint")
    if not endpoint:
        return None
    info["state"] = secrets.token_urlsafe(16)
    app = get_social_adapter().get_app(request, info["provider_id"])
    query = urllib.parse.urlencode(
        {
            "id_token_hint": info["id_token"],
            "post_logout_redirect_uri": _logged_out_url(request),
            "client_id": app.client_id,
            "state": info["state"],
        }
    )
    return f"{endpoint}{'&' if '?' in endpoint else '?'}{query}"


def _saml_logout_url(request, info) -> str | None:
    provider = get_social_adapter().get_provider(request, info["provider_id"])
    try:
        auth = build_auth(request, provider)
        if not auth.get_slo_url():
            return None
        url = auth.logout(
            return_to=_logged_out_url(request),
            name_id=info["name_id"],
            session_index=info["session_index"],
            nq=info["nq"],
            name_id_format=info["name_id_format"],
            spnq=info["spnq"],
        )
    except (IdPUnavailable, OneLogin_Saml2_Error) as exc:
        logger.warning(
            "SSO logout at identity provider %r not possible: %s", info["provider_id"], exc
        )
        return None
    info["request_id"] = auth.get_last_request_id()
    return url


def logged_out(request):
    """After logging out: on to the IdP's logout, or say whether the campus login is open."""
    info = request.session.get(LOGGED_OUT_KEY)
    status = info["status"] if info else "none"
    if status == "pending":
        try:
            build = _oidc_logout_url if info["protocol"] == "oidc" else _saml_logout_url
            url = build(request, info)
        except SocialApp.DoesNotExist:
            url = None  # the provider was removed from the configuration since
        info["status"] = "at_idp" if url else "open"
        # What identified the reader at the IdP is not kept once it has been used.
        for key in ("id_token", "name_id", "session_index", "nq", "spnq"):
            info.pop(key, None)
        request.session[LOGGED_OUT_KEY] = info
        if url:
            return redirect(url)
        status = info["status"]
    elif status == "at_idp" and info["protocol"] == "oidc":
        state = request.GET.get("state")
        if state and secrets.compare_digest(state, info.get("state", "")):
            status = info["status"] = "ended"
            request.session[LOGGED_OUT_KEY] = info
    idp_name = ""
    if info:
        idp_name = display_name(info.get("names") or {}) or info["name"]
    return render(
        request, "account/logged_out.html", {"campus_login": status, "idp_name": idp_name}
    )
