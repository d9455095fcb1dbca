"""allauth's OpenID Connect provider, with the issuer taken as the issuer."""

from allauth.socialaccount.providers.openid_connect.provider import OpenIDConnectProvider
from allauth.socialaccount.providers.openid_connect.views import OpenIDConnectOAuth2Adapter


class CampusOIDCAdapter(OpenIDConnectOAuth2Adapter):
    pass


class CampusOIDCProvider(OpenIDConnectProvider):
    # URLs (and so the views) come from accounts/oidc/urls.py.
    package = "accounts.oidc"
    oauth2_adapter_class = CampusOIDCAdapter

    def wk_server_url(self, url):
        # `server_url` is the issuer: "https://idp/" must not become "https://idp//.well-known".
        if "/.well-known/" not in url:
            url = url.rstrip("/")
        return super().wk_server_url(url)
