"""The development identity providers behave like real ones.

The gateway's single sign-on tests rely on these, so they are checked here
against independent verifiers: PyJWT for the OIDC ID token, and python3-saml
(the library the gateway's SAML support runs on) for SAML responses.
No database is needed.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import html
import json
import secrets
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from urllib.parse import parse_qs, urlencode, urlsplit

import jwt
import pytest
from onelogin.saml2.auth import OneLogin_Saml2_Auth
from onelogin.saml2.idp_metadata_parser import OneLogin_Saml2_IdPMetadataParser
from onelogin.saml2.response import OneLogin_Saml2_Response
from onelogin.saml2.settings import OneLogin_Saml2_Settings
from onelogin.saml2.xml_utils import OneLogin_Saml2_XML

from tools.dev_idp.saml import (
    DISPLAY_NAME,
    EDU_PERSON_PRINCIPAL_NAME,
    EDU_PERSON_TARGETED_ID,
    MAIL,
    NameID,
    TestSamlIdP,
    generate_signing_key,
    parse_authn_request,
)
from tools.dev_idp.server import DEMO_IDENTITIES, REGISTERED_CLAIMS, DevIdP

# -- OpenID Connect -----------------------------------------------------------

CLIENT_ID = "ill-gateway-dev"
CLIENT_SECRET = "dev-secret"
REDIRECT_URI = "http://127.0.0.1:8000/accounts/oidc/campus/login/callback/"
RICH = DEMO_IDENTITIES[1]


class _Clock:
    """Real time plus an offset, so tests can jump past expiry without sleeping."""

    offset = 0.0

    def __call__(self) -> float:
        return time.time() + self.offset


@pytest.fixture(scope="module")
def clock():
    return _Clock()


@pytest.fixture(scope="module")
def idp(clock):
    with DevIdP(client_id=CLIENT_ID, client_secret=CLIENT_SECRET, clock=clock) as running:
        yield running


@pytest.fixture(autouse=True)
def _reset_clock(clock):
    clock.offset = 0.0


@dataclass
class Reply:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self):
        return json.loads(self.body)

    @property
    def text(self) -> str:
        return self.body.decode("utf-8")


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None  # the 302 itself is what these tests inspect


# No proxies: a developer's HTTP_PROXY must not intercept loopback requests.
_opener = urllib.request.build_opener(urllib.request.ProxyHandler({}), _NoRedirect)


def fetch(url: str, form: dict | None = None, headers: dict | None = None) -> Reply:
    data = urlencode(form).encode() if form is not None else None
    request = urllib.request.Request(url, data=data, headers=headers or {})
    try:
        with _opener.open(request, timeout=5) as response:
            return Reply(response.status, dict(response.headers), response.read())
    except urllib.error.HTTPError as error:
        with error:
            return Reply(error.code, dict(error.headers), error.read())


def pkce_pair() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest())
    return verifier, challenge.rstrip(b"=").decode()


def authorization_params(**overrides) -> dict[str, str]:
    params = {
        "client_id": CLIENT_ID,
        "redirect_uri": REDIRECT_URI,
        "response_type": "code",
        "scope": "openid profile email",
        "state": secrets.token_urlsafe(16),
        "nonce": secrets.token_urlsafe(16),
    }
    params.update(overrides)
    return {k: v for k, v in params.items() if v is not None}


def choose_identity(idp: DevIdP, params: dict[str, str], sub: str) -> dict[str, str]:
    """POST the picker form; return the query of the redirect back to the client."""
    reply = fetch(idp.url("/authorize"), {**params, "identity": sub})
    assert reply.status == 302
    location = reply.headers["Location"]
    assert location.startswith(REDIRECT_URI + "?")
    return {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}


def get_code(idp: DevIdP, sub: str = RICH.sub, **overrides) -> tuple[str, str]:
    """Run the browser half of the flow; return (code, code_verifier)."""
    verifier, challenge = pkce_pair()
    params = authorization_params(code_challenge=challenge, code_challenge_method="S256")
    params.update(overrides)
    return choose_identity(idp, params, sub)["code"], verifier


def exchange(idp: DevIdP, code: str, verifier: str | None, **overrides) -> Reply:
    form = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": REDIRECT_URI,
        "client_id": CLIENT_ID,
        "client_secret": CLIENT_SECRET,
        "code_verifier": verifier,
    }
    form.update(overrides)
    return fetch(idp.url("/token"), {k: v for k, v in form.items() if v is not None})


def verify_id_token(idp: DevIdP, id_token: str, nonce: str) -> dict:
    jwks = jwt.PyJWKSet.from_dict(fetch(idp.url("/jwks")).json())
    kid = jwt.get_unverified_header(id_token)["kid"]
    key = next(k for k in jwks.keys if k.key_id == kid)
    claims = jwt.decode(
        id_token,
        key.key,
        algorithms=["RS256"],
        audience=CLIENT_ID,
        issuer=idp.issuer,
        options={"require": ["iss", "sub", "aud", "exp", "iat", "auth_time", "nonce"]},
    )
    assert claims["nonce"] == nonce
    return claims


def test_discovery_document_describes_the_provider(idp):
    reply = fetch(idp.url("/.well-known/openid-configuration"))

    assert reply.status == 200
    config = reply.json()
    assert config["issuer"] == idp.issuer
    for endpoint, path in [
        ("authorization_endpoint", "/authorize"),
        ("token_endpoint", "/token"),
        ("userinfo_endpoint", "/userinfo"),
        ("jwks_uri", "/jwks"),
    ]:
        assert config[endpoint] == idp.issuer + path
    assert config["response_types_supported"] == ["code"]
    assert config["subject_types_supported"] == ["public"]
    assert config["id_token_signing_alg_values_supported"] == ["RS256"]
    assert "openid" in config["scopes_supported"]
    assert set(config["token_endpoint_auth_methods_supported"]) == {
        "client_secret_post",
        "client_secret_basic",
    }
    assert {"sub", "email", "student_id", "schac_home_organization"} <= set(
        config["claims_supported"]
    )


def test_discovery_tolerates_an_issuer_configured_with_a_trailing_slash(idp):
    # allauth appends "/.well-known/openid-configuration" to server_url as is.
    reply = fetch(idp.issuer + "//.well-known/openid-configuration")

    assert reply.status == 200
    assert reply.json()["issuer"] == idp.issuer


def test_jwks_publishes_the_rs256_signing_key(idp):
    (key,) = fetch(idp.url("/jwks")).json()["keys"]

    assert key["kty"] == "RSA"
    assert key["use"] == "sig"
    assert key["alg"] == "RS256"
    assert key["kid"] and key["n"] and key["e"] == "AQAB"


def test_sign_in_page_lists_identities_accessibly(idp):
    reply = fetch(idp.url("/authorize?") + urlencode(authorization_params()))

    assert reply.status == 200
    assert reply.headers["Content-Type"].startswith("text/html")
    page = reply.text
    assert '<html lang="en">' in page
    assert "<main>" in page and "<h1>" in page
    assert "<script" not in page
    for identity in DEMO_IDENTITIES:
        assert html.escape(identity.label) in page
        assert f'name="identity" value="{html.escape(identity.sub)}"' in page
    assert 'method="post"' in page


@pytest.mark.parametrize("identity", DEMO_IDENTITIES, ids=lambda i: i.sub)
def test_authorization_code_flow_with_pkce(idp, identity):
    verifier, challenge = pkce_pair()
    params = authorization_params(code_challenge=challenge, code_challenge_method="S256")

    callback = choose_identity(idp, params, identity.sub)
    assert callback["state"] == params["state"]
    reply = exchange(idp, callback["code"], verifier)

    assert reply.status == 200, reply.body
    assert reply.headers["Cache-Control"] == "no-store"
    tokens = reply.json()
    assert tokens["token_type"] == "Bearer"
    assert tokens["expires_in"] > 0
    claims = verify_id_token(idp, tokens["id_token"], params["nonce"])
    assert claims["sub"] == identity.sub
    # Exactly the identity's claims are released, nothing invented.
    assert {k: v for k, v in claims.items() if k not in REGISTERED_CLAIMS} == identity.claims

    userinfo = fetch(
        idp.url("/userinfo"), headers={"Authorization": f"Bearer {tokens['access_token']}"}
    )
    assert userinfo.status == 200
    assert userinfo.json() == {"sub": identity.sub, **identity.claims}


def test_demo_identities_cover_the_campus_cases():
    subs = [identity.sub for identity in DEMO_IDENTITIES]
    assert len(set(subs)) == len(subs)
    carsi, rich, lookalike = DEMO_IDENTITIES
    assert set(carsi.claims) == {"schac_home_organization"}  # no name, no e-mail
    assert {"name", "email", "email_verified", "student_id", "department"} <= set(rich.claims)
    assert lookalike.claims["email"] == "demo-reader@example.org"


def test_code_is_single_use_and_replay_revokes_its_token(idp):
    code, verifier = get_code(idp)
    first = exchange(idp, code, verifier)
    assert first.status == 200

    replay = exchange(idp, code, verifier)

    assert replay.status == 400
    assert replay.json()["error"] == "invalid_grant"
    access_token = first.json()["access_token"]
    userinfo = fetch(idp.url("/userinfo"), headers={"Authorization": f"Bearer {access_token}"})
    assert userinfo.status == 401


def test_code_expires_after_sixty_seconds(idp, clock):
    code, verifier = get_code(idp)
    clock.offset = 61

    reply = exchange(idp, code, verifier)

    assert reply.status == 400
    assert reply.json()["error"] == "invalid_grant"


def test_client_secret_basic_is_accepted(idp):
    code, verifier = get_code(idp)
    basic = base64.b64encode(f"{CLIENT_ID}:{CLIENT_SECRET}".encode()).decode()

    reply = fetch(
        idp.url("/token"),
        {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": REDIRECT_URI,
            "code_verifier": verifier,
        },
        headers={"Authorization": f"Basic {basic}"},
    )

    assert reply.status == 200, reply.body


@pytest.mark.parametrize("method", ["client_secret_post", "client_secret_basic"])
def test_wrong_client_secret_is_invalid_client(idp, method):
    code, verifier = get_code(idp)
    if method == "client_secret_post":
        reply = exchange(idp, code, verifier, client_secret="not-the-secret")
    else:
        basic = base64.b64encode(f"{CLIENT_ID}:not-the-secret".encode()).decode()
        reply = fetch(
            idp.url("/token"),
            {"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT_URI},
            headers={"Authorization": f"Basic {basic}"},
        )

    assert reply.status == 401
    assert reply.json()["error"] == "invalid_client"
    assert "WWW-Authenticate" in reply.headers


@pytest.mark.parametrize(
    "verifier",
    [pytest.param("wrong-" + "x" * 43, id="wrong"), pytest.param(None, id="missing")],
)
def test_pkce_verifier_must_match(idp, verifier):
    code, _ = get_code(idp)

    reply = exchange(idp, code, verifier)

    assert reply.status == 400
    assert reply.json()["error"] == "invalid_grant"


def test_plain_pkce_is_supported(idp):
    verifier = secrets.token_urlsafe(48)
    code, _ = get_code(idp, code_challenge=verifier, code_challenge_method="plain")

    assert exchange(idp, code, verifier).status == 200


def test_redirect_uri_must_match_at_the_token_endpoint(idp):
    code, verifier = get_code(idp)

    reply = exchange(idp, code, verifier, redirect_uri="http://127.0.0.1:8000/elsewhere/")

    assert reply.status == 400
    assert reply.json()["error"] == "invalid_grant"


@pytest.mark.parametrize(
    "overrides",
    [
        pytest.param({"client_id": "someone-else"}, id="unknown-client"),
        pytest.param({"redirect_uri": None}, id="missing-redirect-uri"),
        pytest.param({"redirect_uri": "https://attacker.example/cb"}, id="foreign-redirect-uri"),
    ],
)
def test_untrusted_authorization_requests_get_an_error_page(idp, overrides):
    reply = fetch(idp.url("/authorize?") + urlencode(authorization_params(**overrides)))

    assert reply.status == 400
    assert reply.headers["Content-Type"].startswith("text/html")
    assert "Location" not in reply.headers  # never redirect to an unverified URI
    assert '<html lang="en">' in reply.text and "<h1>" in reply.text


def test_extra_redirect_hosts_can_be_allowed():
    # Django's test client serves "testserver", which is not a loopback name.
    callback = "http://testserver/accounts/oidc/campus/login/callback/"
    with DevIdP(allowed_redirect_hosts=["127.0.0.1", "testserver"]) as other:
        url = other.url("/authorize?") + urlencode(authorization_params(redirect_uri=callback))

        assert fetch(url).status == 200


@pytest.mark.parametrize(
    ("overrides", "error"),
    [
        ({"response_type": "token"}, "unsupported_response_type"),
        ({"scope": "profile"}, "invalid_scope"),
        ({"deny": "1"}, "access_denied"),
    ],
)
def test_errors_after_the_client_is_trusted_are_redirected(idp, overrides, error):
    params = authorization_params(**overrides)

    reply = fetch(idp.url("/authorize"), {**params, "identity": RICH.sub})

    assert reply.status == 302
    query = parse_qs(urlsplit(reply.headers["Location"]).query)
    assert query["error"] == [error]
    assert query["state"] == [params["state"]]
    assert "code" not in query


def test_userinfo_requires_a_valid_bearer_token(idp):
    assert fetch(idp.url("/userinfo")).status == 401
    reply = fetch(idp.url("/userinfo"), headers={"Authorization": "Bearer made-up"})
    assert reply.status == 401
    assert reply.json()["error"] == "invalid_token"


# -- SAML ---------------------------------------------------------------------

SP_ENTITY_ID = "http://127.0.0.1:8000/accounts/saml/campus/metadata/"
ACS_PATH = "/accounts/saml/campus/acs/"
ACS_URL = "http://127.0.0.1:8000" + ACS_PATH
CARSI_ATTRIBUTES = {
    EDU_PERSON_TARGETED_ID: NameID("c2FtbC1vcGFxdWUtaWQ=", sp_name_qualifier=SP_ENTITY_ID),
    EDU_PERSON_PRINCIPAL_NAME: "2023010123@example.edu.cn",
    MAIL: "li.wen@example.edu.cn",
    DISPLAY_NAME: "Li Wen",
}


@pytest.fixture(scope="module")
def saml_idp():
    return TestSamlIdP()


@pytest.fixture(scope="module")
def rogue_key():
    return generate_signing_key("Rogue IdP")


def sp_settings(idp: TestSamlIdP, **security) -> OneLogin_Saml2_Settings:
    """Strict SP settings whose IdP half comes from the IdP's metadata only."""
    idp_section = OneLogin_Saml2_IdPMetadataParser.parse(idp.metadata_xml())["idp"]
    return OneLogin_Saml2_Settings(
        {
            "strict": True,
            "sp": {"entityId": SP_ENTITY_ID, "assertionConsumerService": {"url": ACS_URL}},
            "idp": idp_section,
            "security": {"rejectDeprecatedAlgorithm": True, **security},
        }
    )


def acs_request(saml_response: str) -> dict:
    return {
        "https": "off",
        "http_host": "127.0.0.1:8000",
        "script_name": "",
        "path_info": ACS_PATH,
        "post_data": {"SAMLResponse": saml_response},
    }


def consume(settings, saml_response: str, request_id: str | None = "_req-1"):
    response = OneLogin_Saml2_Response(settings, saml_response)
    valid = response.is_valid(acs_request(saml_response), request_id=request_id)
    return valid, response


def test_metadata_is_valid_and_carries_the_signing_certificate(saml_idp):
    metadata = saml_idp.metadata_xml()

    assert not isinstance(
        OneLogin_Saml2_XML.validate_xml(metadata, "saml-schema-metadata-2.0.xsd"), str
    )
    parsed = OneLogin_Saml2_IdPMetadataParser.parse(metadata)["idp"]
    assert parsed["entityId"] == saml_idp.entity_id
    assert parsed["singleSignOnService"]["url"] == saml_idp.sso_url
    assert parsed["x509cert"] == saml_idp.idp_settings()["x509cert"]
    assert "BEGIN CERTIFICATE" in saml_idp.certificate_pem


@pytest.mark.parametrize(
    ("sign", "security"),
    [
        ("assertion", {"wantAssertionsSigned": True}),
        ("response", {"wantMessagesSigned": True}),
        ("both", {"wantAssertionsSigned": True, "wantMessagesSigned": True}),
    ],
)
def test_signed_response_validates_against_metadata(saml_idp, sign, security):
    saml_response = saml_idp.response(
        acs_url=ACS_URL,
        audience=SP_ENTITY_ID,
        in_response_to="_req-1",
        name_id="opaque-persistent-7f3a",
        attributes=CARSI_ATTRIBUTES,
        sign=sign,
    )

    valid, response = consume(sp_settings(saml_idp, **security), saml_response)

    assert valid, response.get_error()
    assert response.get_nameid() == "opaque-persistent-7f3a"
    assert response.get_nameid_format().endswith(":persistent")
    attributes = response.get_attributes()
    assert attributes[EDU_PERSON_PRINCIPAL_NAME] == ["2023010123@example.edu.cn"]
    assert attributes[MAIL] == ["li.wen@example.edu.cn"]
    assert attributes[DISPLAY_NAME] == ["Li Wen"]
    # eduPersonTargetedID arrives as a nested NameID, not a string.
    assert attributes[EDU_PERSON_TARGETED_ID][0]["NameID"]["value"] == "c2FtbC1vcGFxdWUtaWQ="


@pytest.mark.parametrize("sign", ["assertion", "response", "both"])
def test_response_signed_with_another_certificate_is_refused(saml_idp, rogue_key, sign):
    saml_response = saml_idp.response(
        acs_url=ACS_URL,
        audience=SP_ENTITY_ID,
        in_response_to="_req-1",
        name_id="opaque-persistent-7f3a",
        attributes=CARSI_ATTRIBUTES,
        sign=sign,
        sign_with=rogue_key,
    )

    valid, response = consume(sp_settings(saml_idp), saml_response)

    assert not valid
    assert "Signature validation failed" in response.get_error()


def test_tampering_after_signing_is_detected(saml_idp):
    xml = saml_idp.response_xml(
        acs_url=ACS_URL,
        audience=SP_ENTITY_ID,
        in_response_to="_req-1",
        name_id="opaque-persistent-7f3a",
        attributes=CARSI_ATTRIBUTES,
    )
    tampered = xml.replace("li.wen@example.edu.cn", "demo-reader@example.org")
    assert tampered != xml

    valid, response = consume(sp_settings(saml_idp), base64.b64encode(tampered.encode()).decode())

    assert not valid
    assert "Signature validation failed" in response.get_error()


@pytest.mark.parametrize(
    ("overrides", "reason"),
    [
        pytest.param(
            {"audience": "https://other-sp.example.org/"},
            "not a valid audience",
            id="wrong-audience",
        ),
        pytest.param(
            {"issued_at": dt.datetime.now(dt.UTC) - dt.timedelta(hours=1)},
            "expired",
            id="expired",
        ),
        pytest.param(
            {"in_response_to": "_someone-elses-request"},
            "does not match the ID of the AuthNRequest",
            id="wrong-in-response-to",
        ),
        pytest.param({"sign": "none"}, "No Signature found", id="unsigned"),
    ],
)
def test_sp_rejects_responses_that_are_not_for_it(saml_idp, overrides, reason):
    kwargs = {
        "acs_url": ACS_URL,
        "audience": SP_ENTITY_ID,
        "in_response_to": "_req-1",
        "name_id": "opaque-persistent-7f3a",
        "attributes": CARSI_ATTRIBUTES,
        **overrides,
    }

    valid, response = consume(sp_settings(saml_idp), saml_idp.response(**kwargs))

    assert not valid
    assert reason in response.get_error()


def test_answers_the_sps_authn_request(saml_idp):
    settings = sp_settings(saml_idp, wantAssertionsSigned=True)
    login = OneLogin_Saml2_Auth(acs_request(""), old_settings=settings)
    redirect_url = login.login(return_to="/after-login/")

    request = parse_authn_request(redirect_url)

    assert redirect_url.startswith(saml_idp.sso_url)
    assert request.id == login.get_last_request_id()
    assert request.issuer == SP_ENTITY_ID
    assert request.acs_url == ACS_URL
    assert request.relay_state == "/after-login/"
    saml_response = saml_idp.response(
        acs_url=request.acs_url,
        audience=request.issuer,
        in_response_to=request.id,
        name_id="opaque-persistent-7f3a",
        attributes=CARSI_ATTRIBUTES,
    )
    valid, response = consume(settings, saml_response, request_id=request.id)
    assert valid, response.get_error()
