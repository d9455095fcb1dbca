"""The SAML endpoints: allauth's, except that every failure ends on the gateway's failure page
(accounts/failures.py) instead of a traceback, and a replayed or unsolicited response says so."""

import base64
import time
from http import HTTPStatus

from allauth.account.adapter import get_adapter as get_account_adapter
from allauth.core.internal import httpkit
from allauth.socialaccount.adapter import get_adapter as get_social_adapter
from allauth.socialaccount.helpers import complete_social_login
from allauth.socialaccount.internal import statekit
from allauth.socialaccount.models import SocialApp
from allauth.socialaccount.providers.base.constants import AuthProcess
from allauth.socialaccount.providers.saml import views as allauth_views
from allauth.socialaccount.providers.saml.utils import decode_relay_state
from allauth.socialaccount.sessions import LoginSession
from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect
from django.utils.decorators import method_decorator
from django.utils.translation import gettext
from django.views import View
from django.views.decorators.csrf import csrf_exempt
from onelogin.saml2.errors import OneLogin_Saml2_Error
from onelogin.saml2.metadata import OneLogin_Saml2_Metadata
from onelogin.saml2.settings import OneLogin_Saml2_Settings
from onelogin.saml2.xml_utils import OneLogin_Saml2_XML

from accounts.failures import logger, render_failure, render_provider_failure
from accounts.sso_session import LOGGED_OUT_KEY, remember_saml
from core.sso_config import FEDERATION_SLUG, SP_METADATA_CACHE_SECONDS, SP_METADATA_VALID_DAYS

from .config import IdPUnavailable, build_auth, build_saml_config
from .provider import NoIdentifier

# allauth's view that keeps the POSTed response in a cookie session and redirects to
# .../acs/finish/ (so that a SameSite=Lax session cookie is sent again).
acs = allauth_views.acs


def _fail(request, provider, kind, reason):
    return render_provider_failure(request, provider, kind=kind, reason=reason)


_LEFT_FEDERATION = "the IdP has left the federation (disabled by manage.py sync_federation)"


def _federation_provider(request, acs_request_data):
    """The federation IdP that issued the stored SAML response: (provider, None), or
    (None, why not)."""
    saml = "{urn:oasis:names:tc:SAML:2.0:assertion}"
    try:
        data = httpkit.deserialize_request(acs_request_data, HttpRequest()).POST
        xml = base64.b64decode(data.get("SAMLResponse", ""), validate=False)
        root = OneLogin_Saml2_XML.to_etree(xml)
        # The Response's Issuer is optional; the (unencrypted) Assertion's is not.
        element = root.find(f"{saml}Issuer")
        if element is None:
            element = root.find(f"{saml}Assertion/{saml}Issuer")
        issuer = element.text.strip()
    except Exception as exc:  # no stored response, not base64, not XML, no Issuer
        return None, f"no readable SAML response with an Issuer: {type(exc).__name__}: {exc}"
    for app in get_social_adapter().list_apps(request, provider="saml"):
        settings_ = app.settings or {}
        if settings_.get("federation") and settings_.get("idp", {}).get("entity_id") == issuer:
            return app.get_provider(request), None
    return None, f"the Issuer {issuer[:200]!r} is no IdP of the federation"


def _unknown_federation_idp(request, reason):
    return render_failure(
        request,
        provider_id=FEDERATION_SLUG,
        provider_name=gettext("your institution"),
        kind="unreadable",
        reason=f"SAML response at the federation ACS refused: {reason}",
        login_url=None,
    )


@method_decorator(allauth_views.login_not_required, name="dispatch")
class FinishACSView(allauth_views.SAMLViewMixin, View):
    def dispatch(self, request, organization_slug):
        acs_session = LoginSession(request, "saml_acs_session", "saml-acs-session")
        acs_request_data = acs_session.store.get("request")
        acs_session.delete()
        if organization_slug == FEDERATION_SLUG:
            # One ACS for every IdP of the federation: the response's Issuer says which IdP's
            # settings (certificate...) must verify it. A forged Issuer only picks the wrong
            # certificate, against which the signature then fails.
            provider, reason = _federation_provider(request, acs_request_data)
            if provider is None:
                return _unknown_federation_idp(request, reason)
        else:
            provider = self.get_provider(organization_slug)
        if provider.app.settings.get("disabled"):
            return _fail(request, provider, "left", _LEFT_FEDERATION)
        if not acs_request_data:
            return _fail(
                request,
                provider,
                "replayed",
                "no SAML response is waiting for this browser at acs/finish/ "
                "(opened directly or reloaded, or the browser refused the cookie)",
            )
        acs_request = httpkit.deserialize_request(acs_request_data, HttpRequest())
        try:
            auth = build_auth(acs_request, provider)
        except IdPUnavailable as exc:
            return _fail(request, provider, "unavailable", str(exc))
        except OneLogin_Saml2_Error as exc:
            return _fail(request, provider, "unavailable", f"SAML settings refused: {exc}")
        try:
            # InResponseTo is checked below, against the logins started in this session.
            auth.process_response(request_id=None)
        except Exception as exc:  # not base64, not XML, no SAMLResponse at all...
            return _fail(
                request,
                provider,
                "unreadable",
                f"SAML response not readable: {type(exc).__name__}: {exc}",
            )
        errors = auth.get_errors()
        if errors:
            reason = auth.get_last_error_reason() or ", ".join(errors)
            if "status code of the Response was not Success" in reason:
                kind = "refused"
            elif "expired" in reason.lower():
                kind = "replayed"
            else:
                kind = "unreadable"
            return _fail(request, provider, kind, f"SAML response refused: {reason}")
        if not auth.is_authenticated():
            return _fail(request, provider, "refused", "SAML response authenticates nobody")

        state_id = auth.get_last_response_in_response_to()
        if state_id:
            state = statekit.unstash_state(request, provider_id=provider.sub_id, state_id=state_id)
            if state is None:
                return _fail(
                    request,
                    provider,
                    "replayed",
                    f"SAML response InResponseTo={state_id!r} answers no login waiting in this "
                    "browser session (a response used twice, or the login was started too long "
                    "ago or in another browser)",
                )
        elif provider.app.settings.get("advanced", {}).get("reject_idp_initiated_sso", True):
            return _fail(
                request,
                provider,
                "unsolicited",
                "unsolicited SAML response (no InResponseTo, IdP-initiated login) refused; "
                "logins must start at the gateway (reject_idp_initiated_sso)",
            )
        else:
            state = {"process": AuthProcess.LOGIN}
            next_url = decode_relay_state(acs_request.POST.get("RelayState"))
            if next_url:
                state["next"] = next_url
        try:
            login = provider.sociallogin_from_response(request, auth)
        except NoIdentifier as exc:
            return _fail(request, provider, "no_identifier", str(exc))
        login.state = state
        remember_saml(request, provider, auth)
        return complete_social_login(request, login)


finish_acs = FinishACSView.as_view()


@method_decorator(allauth_views.login_not_required, name="dispatch")
class LoginView(allauth_views.LoginView):
    def dispatch(self, request, *args, **kwargs):
        provider = self.get_provider()
        if provider.app.settings.get("disabled"):
            return _fail(request, provider, "left", _LEFT_FEDERATION)
        try:
            return super().dispatch(request, *args, **kwargs)
        except IdPUnavailable as exc:
            reason = str(exc)
        except OneLogin_Saml2_Error as exc:
            reason = f"SAML settings refused: {exc}"
        return _fail(request, self.get_provider(), "unavailable", reason)


login = LoginView.as_view()


@method_decorator(allauth_views.login_not_required, name="dispatch")
class MetadataView(allauth_views.SAMLViewMixin, View):
    """The gateway's own SP metadata: never depends on the IdP being reachable.

    Unlike python3-saml's default it is valid for a year (an IdP that loaded it by hand keeps
    trusting it), asks to be fetched again daily, and publishes the SP certificate for
    encryption as well as signing, so that an IdP can encrypt assertions to the gateway.
    """

    def dispatch(self, request, organization_slug):
        if organization_slug == FEDERATION_SLUG:
            # The SP metadata registered once at the federation, for all its IdPs.
            app = SocialApp(
                provider="saml", client_id=FEDERATION_SLUG, settings=settings.SAML_FEDERATION
            )
            sub_id = FEDERATION_SLUG
        else:
            provider = self.get_provider(organization_slug)
            app, sub_id = provider.app, provider.sub_id
        advanced = app.settings.get("advanced", {})
        config = build_saml_config(request, app, need_idp=False)
        valid_days = advanced.get("metadata_valid_days", SP_METADATA_VALID_DAYS)
        try:
            saml_settings = OneLogin_Saml2_Settings(settings=config, sp_validation_only=True)
            security = saml_settings.get_security_data()
            metadata = OneLogin_Saml2_Metadata.builder(
                saml_settings.get_sp_data(),
                security["authnRequestsSigned"],
                security["wantAssertionsSigned"],
                int(time.time()) + int(valid_days) * 24 * 60 * 60,
                security.get("metadataCacheDuration") or SP_METADATA_CACHE_SECONDS,
                saml_settings.get_contacts(),
                saml_settings.get_organization(),
            )
            certificate = saml_settings.get_sp_cert()
            if certificate:
                metadata = OneLogin_Saml2_Metadata.add_x509_key_descriptors(
                    metadata, certificate, True
                )
            errors = saml_settings.validate_metadata(metadata)
        except OneLogin_Saml2_Error as exc:
            errors = [str(exc)]
        if errors:
            reason = f"SP metadata of {sub_id!r} not valid: {', '.join(errors)}"
            logger.warning(reason)
            return HttpResponse(
                reason, content_type="text/plain", status=HTTPStatus.SERVICE_UNAVAILABLE
            )
        return HttpResponse(content=metadata, content_type="application/samlmetadata+xml")


metadata = MetadataView.as_view()


@method_decorator(csrf_exempt, name="dispatch")
@method_decorator(allauth_views.login_not_required, name="dispatch")
class SLSView(allauth_views.SAMLViewMixin, View):
    """Single logout: the IdP's answer to our LogoutRequest, or its own LogoutRequest."""

    def dispatch(self, request, organization_slug):
        if organization_slug == FEDERATION_SLUG:
            # The shared endpoint answers only our own LogoutRequests: the IdP is the one the
            # reader logged out of.
            info = request.session.get(LOGGED_OUT_KEY) or {}
            if "SAMLResponse" not in request.GET or not info.get("provider_id"):
                return HttpResponse(
                    gettext("No logout is waiting for an answer in this browser."),
                    content_type="text/plain; charset=utf-8",
                    status=HTTPStatus.BAD_REQUEST,
                )
            provider = get_social_adapter().get_provider(request, info["provider_id"])
        else:
            provider = self.get_provider(organization_slug)
        try:
            auth = build_auth(request, provider)
        except (IdPUnavailable, OneLogin_Saml2_Error) as exc:
            return _fail(request, provider, "unavailable", str(exc))
        if "SAMLResponse" in request.GET:
            info = request.session.get(LOGGED_OUT_KEY) or {}
            try:
                auth.process_slo(request_id=info.get("request_id"), keep_local_session=True)
                errors = auth.get_errors()
            except Exception as exc:  # not base64, not XML...
                errors = [f"{type(exc).__name__}: {exc}"]
            if errors:
                logger.warning(
                    "SSO logout at identity provider %r not confirmed: %s",
                    provider.sub_id,
                    auth.get_last_error_reason() or ", ".join(errors),
                )
            elif info:
                info["status"] = "ended"
                request.session[LOGGED_OUT_KEY] = info
            return redirect("sso_logged_out")
        # The IdP asks to end the reader's session here (logged out at another service).
        account_adapter = get_account_adapter(request)
        try:
            redirect_to = auth.process_slo(
                delete_session_cb=lambda: account_adapter.logout(request),
                keep_local_session=not request.user.is_authenticated,
            )
            errors = auth.get_errors()
        except Exception as exc:
            errors = [f"{type(exc).__name__}: {exc}"]
        if errors:
            reason = auth.get_last_error_reason() or ", ".join(errors)
            logger.warning(
                "SSO logout request of identity provider %r refused: %s", provider.sub_id, reason
            )
            # The reason is for the log: the reader can do nothing with a SAML error.
            return HttpResponse(
                gettext("The identity provider's logout request was refused."),
                content_type="text/plain; charset=utf-8",
                status=HTTPStatus.BAD_REQUEST,
            )
        return HttpResponseRedirect(redirect_to) if redirect_to else redirect("sso_logged_out")


sls = SLSView.as_view()
