"""Shared pieces of the single sign-on tests: a running development IdP and the flows."""

import json
import urllib.parse

import requests

from core.sso_config import providers_from_env
from tests.dev_oidc_idp import DevOIDCProvider, choose_identity, sign_in_page

CLIENT_ID = "ill-gateway-test"
CLIENT_SECRET = "test-secret"
CARSI_SUB = "8d4f2a61c0e94b7ab3d9e5f1a7c2e6d0"
RICH_SUB = "dev-student-li-wen"
LOOKALIKE_SUB = "dev-demo-reader-lookalike"

# The test client's host, and "localhost" for the logout tests: the IdP accepts only a valid URL
# as the address to return to after logging out, and "testserver" has no dot.
CALLBACKS = [
    "http://testserver/accounts/oidc/campus/login/callback/",
    "http://localhost/accounts/oidc/campus/login/callback/",
]


def running_dev_idp(tmp_path_factory, name="dev_idp", **options):
    """The development IdP, serving the test client's callbacks, until the fixture ends."""
    directory = tmp_path_factory.mktemp(name)
    kwargs = {"client_id": CLIENT_ID, "secret": CLIENT_SECRET, "redirect_uris": CALLBACKS}
    with DevOIDCProvider(directory, **kwargs, **options) as idp:
        yield idp


def oidc_providers(server_url: str, secret: str = CLIENT_SECRET, **extra) -> dict:
    """SOCIALACCOUNT_PROVIDERS with one OpenID Connect provider, `campus`."""
    entry = {
        "id": "campus",
        "label": "统一认证 Campus login",
        "server_url": server_url,
        "client_id": CLIENT_ID,
        "secret": secret,
        **extra,
    }
    return providers_from_env(json.dumps([entry]), "")


def idp_choose(authorize_url: str, sub: str) -> str:
    """A person in a fresh browser signs in at the IdP as `sub`; returns where the IdP sends
    them back to (the gateway's callback)."""
    browser = requests.Session()
    page = sign_in_page(browser, authorize_url)
    assert page is not None  # a fresh browser has no session at the IdP
    return choose_identity(browser, page, sub)


def oidc_login(client, sub: str, next_url: str | None = None):
    """Campus login through the development IdP, up to the gateway's answer to the callback."""
    login_url = "/accounts/oidc/campus/login/"
    if next_url:
        login_url += "?" + urllib.parse.urlencode({"next": next_url})
    response = client.post(login_url)
    assert response.status_code == 302, response.content[:500]
    callback = idp_choose(response["Location"], sub)
    parts = urllib.parse.urlsplit(callback)
    return client.get(f"{parts.path}?{parts.query}")


def saml_entry(slug: str, idp, **extra) -> dict:
    """A SAML_PROVIDERS entry trusting a TestSamlIdP."""
    return {
        "id": slug,
        "label": slug.upper(),
        "idp_entity_id": idp.entity_id,
        "idp_sso_url": idp.sso_url,
        "idp_x509cert": idp.certificate_pem,
        # The test client's host, "testserver", has no dot.
        "allow_single_label_domains": True,
        **extra,
    }


def saml_start(client, slug: str, sso_url: str | None = None):
    """Press the IdP's button; returns the AuthnRequest the gateway sent."""
    from tools.dev_idp.saml import parse_authn_request

    response = client.post(f"/accounts/saml/{slug}/login/")
    assert response.status_code == 302, response.content[:500]
    if sso_url:
        assert response["Location"].startswith(sso_url)
    return parse_authn_request(response["Location"])


def saml_post(client, slug: str, idp, authn, **kwargs):
    """The IdP answers the AuthnRequest; returns the gateway's answer after /acs/finish/."""
    saml_response = idp.response(
        acs_url=authn.acs_url, audience=authn.issuer, in_response_to=authn.id, **kwargs
    )
    response = client.post(
        f"/accounts/saml/{slug}/acs/",
        {"SAMLResponse": saml_response, "RelayState": authn.relay_state or ""},
    )
    while response.status_code == 302 and "/acs/finish/" in response["Location"]:
        response = client.get(urllib.parse.urlsplit(response["Location"]).path)
    return response


def closed_port_url() -> str:
    """An http:// address on loopback where nothing listens (a provider that is down)."""
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"


class StaticServer:
    """A loopback HTTP server answering every GET with one document (an IdP's metadata)."""

    def __init__(self, body: str, content_type: str = "application/samlmetadata+xml"):
        import http.server
        import threading

        owner = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                data = owner.body.encode()
                self.send_response(200)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args):
                pass

        self.body = body
        self._server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}/metadata.xml"

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._server.shutdown()
        self._server.server_close()
