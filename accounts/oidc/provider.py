"""allauth's OpenID Connect provider, with the issuer taken as the issuer."""

from allauth.socialaccount.providers.openid_connect.provider import OpenIDConnectProvider
from allauth.socialaccount.providers.openid_connect.views import OpenIDConnectOAuth2Adapter
from requests import RequestException

from accounts.sso_session import remember_oidc


class DiscoveryError(RequestException):
    """The provider's discovery document is not one (an endpoint missing, not an object)."""


REQUIRED_ENDPOINTS = ("issuer", "authorization_endpoint", "token_endpoint", "jwks_uri")


class CampusOIDCAdapter(OpenIDConnectOAuth2Adapter):
    @property
    def openid_config(self):
        config = super().openid_config
        if not isinstance(config, dict):
            raise DiscoveryError(f"{self.get_provider().server_url} is not a JSON object")
        missing = [key for key in REQUIRED_ENDPOINTS if not config.get(key)]
        if missing:
            raise DiscoveryError(f"{self.get_provider().server_url} lacks {', '.join(missing)}")
        return config

    def complete_login(self, request, app, token, **kwargs):
        login = super().complete_login(request, app, token, **kwargs)
        # The ID token is the id_token_hint of the logout at the IdP (tokens are not stored).
        remember_oidc(request, app, kwargs["response"].get("id_token"))
        return login


class CampusOIDCProvider(OpenIDConnectProvider):
    # URLs (and so the views) come from accounts/oidc/urls.py.
    package = "accounts.oidc"
    oauth2_adapter_class = CampusOIDCAdapter

    def wk_server_url(self, url):
        # `server_url` is the issuer: "https://idp/" must not become "https://idp//.well-known".
        if "/.well-known/" not in url:
            url = url.rstrip("/")
        return super().wk_server_url(url)
