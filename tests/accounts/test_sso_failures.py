"""No failure of campus sign-on answers 500: each ends on a page that names the identity
provider, says what went wrong, offers to try again and the off-campus login, and logs why."""

import json
import logging
import urllib.parse

import pytest
from allauth.socialaccount.providers import registry
from django.core.cache import cache

from accounts.oidc.provider import CampusOIDCProvider
from accounts.saml.provider import CampusSAMLProvider
from core.sso_config import providers_from_env
from tests.accounts.sso_helpers import (
    CLIENT_SECRET,
    RICH_SUB,
    StaticServer,
    closed_port_url,
    idp_choose,
    oidc_providers,
    saml_entry,
    saml_post,
    saml_start,
)
from tools.dev_idp.saml import TestSamlIdP

pytestmark = pytest.mark.django_db

IDP = TestSamlIdP(
    entity_id="https://idp.example.edu.cn/idp/shibboleth",
    sso_url="https://idp.example.edu.cn/idp/profile/SAML2/Redirect/SSO",
)


def page(response) -> str:
    return response.content.decode()


def assert_failure_page(response, status, *words, idp, retry):
    assert response.status_code == status, page(response)[:2000]
    content = page(response)
    assert idp in content
    for word in words:
        assert word in content
    assert f'action="{retry}"' in content  # try again
    assert "Go to the off-campus login" in content
    assert 'href="/accounts/login/#offcampus-heading"' in content
    assert "<main" in content  # the portal's layout


def warning_for(caplog, provider_id) -> str:
    lines = [
        r.getMessage()
        for r in caplog.records
        if r.name == "accounts.sso" and r.levelno == logging.WARNING
    ]
    assert any(f"identity provider {provider_id!r}" in line for line in lines), lines
    return "\n".join(lines)


def test_the_gateways_providers_replace_allauths():
    assert registry.get_class("saml") is CampusSAMLProvider
    assert registry.get_class("openid_connect") is CampusOIDCProvider


# -- OpenID Connect ----------------------------------------------------------------------------


def oidc(settings, server_url, secret=CLIENT_SECRET, **extra):
    settings.SOCIALACCOUNT_PROVIDERS = oidc_providers(server_url, secret, **extra)


def test_oidc_provider_down_says_the_campus_login_is_unavailable(client, settings, caplog):
    oidc(settings, closed_port_url())
    response = client.post("/accounts/oidc/campus/login/", HTTP_ACCEPT_LANGUAGE="en")
    assert_failure_page(
        response,
        503,
        "The campus login of 统一认证 Campus login is unavailable right now",
        "This is not your fault",
        idp="统一认证 Campus login",
        retry="/accounts/oidc/campus/login/",
    )
    assert "ConnectionError" in warning_for(caplog, "campus")


def test_oidc_failure_page_in_chinese(client, settings):
    oidc(settings, closed_port_url())
    response = client.post("/accounts/oidc/campus/login/", HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert response.status_code == 503
    assert "暂时无法使用" in page(response)


def test_server_url_with_a_trailing_slash_is_the_issuer(client, settings, dev_idp):
    oidc(settings, dev_idp.issuer + "/")
    seen = len(dev_idp.request_lines())
    response = client.post("/accounts/oidc/campus/login/")
    assert response.status_code == 302
    assert response["Location"].startswith(dev_idp.discovery["authorization_endpoint"] + "?")
    # As sent: Python's HTTP server would quietly serve "//.well-known/..." as "/.well-known/...".
    asked = dev_idp.request_lines()[seen:]
    assert "GET /.well-known/openid-configuration HTTP/1.1" in asked
    assert not [line for line in asked if " //" in line]
    # And the whole login works: the ID token's issuer is the one the discovery names.
    callback = idp_choose(response["Location"], RICH_SUB)
    parts = urllib.parse.urlsplit(callback)
    response = client.get(f"{parts.path}?{parts.query}")
    assert response["Location"] == "/accounts/3rdparty/signup/"


def test_a_wrong_client_secret_is_refused_and_logged_with_its_reason(
    client, settings, dev_idp, caplog
):
    oidc(settings, dev_idp.issuer, secret="wrong-secret")
    response = client.post("/accounts/oidc/campus/login/")
    callback = idp_choose(response["Location"], RICH_SUB)
    parts = urllib.parse.urlsplit(callback)
    response = client.get(f"{parts.path}?{parts.query}", HTTP_ACCEPT_LANGUAGE="en")
    assert_failure_page(
        response,
        403,
        "统一认证 Campus login refused the login",
        idp="统一认证 Campus login",
        retry="/accounts/oidc/campus/login/",
    )
    assert "invalid_client" in warning_for(caplog, "campus")
    assert "_auth_user_id" not in client.session


def oidc_callback_with_error(client, error):
    response = client.post("/accounts/oidc/campus/login/")
    authorize = urllib.parse.urlsplit(response["Location"])
    state = dict(urllib.parse.parse_qsl(authorize.query))["state"]
    return client.get(
        f"/accounts/oidc/campus/login/callback/?error={error}&state={state}",
        HTTP_ACCEPT_LANGUAGE="en",
    )


def test_a_login_refused_by_the_provider(client, settings, dev_idp, caplog):
    oidc(settings, dev_idp.issuer)
    response = oidc_callback_with_error(client, "unauthorized_client")
    assert response.status_code == 403
    assert "refused the login" in page(response)
    assert "unauthorized_client" in warning_for(caplog, "campus")


def test_a_provider_that_is_temporarily_unavailable(client, settings, dev_idp, caplog):
    oidc(settings, dev_idp.issuer)
    response = oidc_callback_with_error(client, "temporarily_unavailable")
    assert response.status_code == 503
    assert "unavailable right now" in page(response)


def test_a_login_the_person_cancelled(client, settings, dev_idp):
    oidc(settings, dev_idp.issuer)
    response = oidc_callback_with_error(client, "access_denied")
    assert response.status_code == 302
    cancelled = client.get(response["Location"], HTTP_ACCEPT_LANGUAGE="en")
    assert cancelled.status_code == 200
    assert "<main" in page(cancelled)


def test_a_reloaded_oidc_callback_says_the_answer_was_used(client, settings, dev_idp, caplog):
    oidc(settings, dev_idp.issuer)
    response = client.post("/accounts/oidc/campus/login/")
    callback = idp_choose(response["Location"], RICH_SUB)
    parts = urllib.parse.urlsplit(callback)
    assert client.get(f"{parts.path}?{parts.query}").status_code == 302
    response = client.get(f"{parts.path}?{parts.query}", HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 400
    assert "was already used" in page(response)
    warning_for(caplog, "campus")


# -- SAML ----------------------------------------------------------------------------------------


@pytest.fixture
def saml(settings, client):
    client.defaults["HTTP_HOST"] = "testserver"

    def configure(**extra):
        settings.SOCIALACCOUNT_PROVIDERS = providers_from_env(
            "", json.dumps([saml_entry("carsi", IDP, label="CARSI 校园身份联盟", **extra)])
        )

    configure()
    return configure


def test_a_saml_body_that_is_not_xml_is_unreadable_not_a_500(client, saml, caplog):
    # Anyone can do this, without a session and without starting a login.
    response = client.post("/accounts/saml/carsi/acs/", {"SAMLResponse": "PG5vdCB4bWw="})
    assert response.status_code == 302
    response = client.get(
        urllib.parse.urlsplit(response["Location"]).path, HTTP_ACCEPT_LANGUAGE="en"
    )
    assert_failure_page(
        response,
        400,
        "The answer of CARSI 校园身份联盟 could not be read",
        idp="CARSI 校园身份联盟",
        retry="/accounts/saml/carsi/login/",
    )
    assert "not readable" in warning_for(caplog, "carsi")


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"SAMLResponse": ""},
        {"SAMLResponse": "not base64 at all!"},
        {"SAMLResponse": "PD94bWwgdmVyc2lvbj0iMS4wIj8+PCFET0NUWVBFIHg+PHgvPg=="},  # a DTD
        {"SAMLResponse": "PHNhbWxwOlJlc3BvbnNlLz4="},  # XML, but not a SAML response
    ],
)
def test_junk_at_the_acs_never_fails_the_page(client, saml, body):
    client.post("/accounts/saml/carsi/acs/", body)
    response = client.get("/accounts/saml/carsi/acs/finish/")
    assert response.status_code == 400


def test_acs_finish_opened_directly(client, saml):
    response = client.get("/accounts/saml/carsi/acs/finish/", HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 400
    assert "Please start the login again" in page(response)


def test_a_replayed_saml_response_says_so(client, saml, caplog):
    authn = saml_start(client, "carsi")
    saml_response = IDP.response(
        acs_url=authn.acs_url, audience=authn.issuer, in_response_to=authn.id, name_id="opaque-1"
    )
    client.post("/accounts/saml/carsi/acs/", {"SAMLResponse": saml_response})
    assert client.get("/accounts/saml/carsi/acs/finish/")["Location"] == (
        "/accounts/3rdparty/signup/"
    )
    client.post("/accounts/saml/carsi/acs/", {"SAMLResponse": saml_response})
    response = client.get("/accounts/saml/carsi/acs/finish/", HTTP_ACCEPT_LANGUAGE="en")
    assert_failure_page(
        response,
        400,
        "This login answer of CARSI 校园身份联盟 was already used",
        idp="CARSI 校园身份联盟",
        retry="/accounts/saml/carsi/login/",
    )
    assert "answers no login waiting" in warning_for(caplog, "carsi")


def test_an_unsolicited_saml_response_says_so(client, saml, caplog):
    saml_start(client, "carsi")
    saml_response = IDP.response(
        acs_url="http://testserver/accounts/saml/carsi/acs/",
        audience="http://testserver/accounts/saml/carsi/metadata/",
        name_id="opaque-x",
    )
    client.post("/accounts/saml/carsi/acs/", {"SAMLResponse": saml_response})
    response = client.get("/accounts/saml/carsi/acs/finish/", HTTP_ACCEPT_LANGUAGE="en")
    assert_failure_page(
        response,
        400,
        "CARSI 校园身份联盟 sent a login this browser did not ask for",
        idp="CARSI 校园身份联盟",
        retry="/accounts/saml/carsi/login/",
    )
    assert "unsolicited" in warning_for(caplog, "carsi")
    assert client.get("/accounts/3rdparty/signup/").status_code != 200


def test_a_response_with_a_wrong_signature_cannot_be_trusted(client, saml, caplog):
    from tools.dev_idp.saml import generate_signing_key

    authn = saml_start(client, "carsi")
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    response = saml_post(
        client, "carsi", IDP, authn, name_id="opaque-evil", sign_with=generate_signing_key("x")
    )
    assert response.status_code == 400
    assert "could not read or could not trust" in page(response)
    assert "Signature validation failed" in warning_for(caplog, "carsi")


def test_a_response_of_a_refused_login(client, saml, caplog):
    authn = saml_start(client, "carsi")
    xml = IDP.response_xml(
        acs_url=authn.acs_url, audience=authn.issuer, in_response_to=authn.id, name_id="x"
    ).replace(
        "urn:oasis:names:tc:SAML:2.0:status:Success", "urn:oasis:names:tc:SAML:2.0:status:Responder"
    )
    import base64

    client.post(
        "/accounts/saml/carsi/acs/", {"SAMLResponse": base64.b64encode(xml.encode()).decode()}
    )
    response = client.get("/accounts/saml/carsi/acs/finish/", HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 403
    assert "CARSI 校园身份联盟 refused the login" in page(response)
    assert "was not Success, was Responder" in warning_for(caplog, "carsi")


def test_unreachable_idp_metadata_without_a_copy(client, saml, caplog):
    cache.clear()
    saml(idp_metadata_url=closed_port_url() + "/metadata.xml", idp_entity_id=IDP.entity_id)
    response = client.post("/accounts/saml/carsi/login/", HTTP_ACCEPT_LANGUAGE="en")
    assert_failure_page(
        response,
        503,
        "The campus login of CARSI 校园身份联盟 is unavailable right now",
        idp="CARSI 校园身份联盟",
        retry="/accounts/saml/carsi/login/",
    )
    assert "could not be read" in warning_for(caplog, "carsi")
    # The gateway's own metadata does not depend on the IdP's.
    metadata = client.get("/accounts/saml/carsi/metadata/")
    assert metadata.status_code == 200
    assert "EntityDescriptor" in page(metadata)


def test_idp_metadata_read_once_keeps_the_login_working_when_it_goes_away(client, saml, caplog):
    cache.clear()
    with StaticServer(IDP.metadata_xml()) as server:
        saml(idp_metadata_url=server.url, idp_entity_id=IDP.entity_id)
        saml_start(client, "carsi", IDP.sso_url)
    # The metadata server is gone and the fresh copy has expired: the last good copy is used.
    cache.delete_many([k for k in [f"sso.saml.metadata:{server.url}:{IDP.entity_id}:fresh"]])
    authn = saml_start(client, "carsi", IDP.sso_url)
    response = saml_post(client, "carsi", IDP, authn, name_id="opaque-meta")
    assert response["Location"] == "/accounts/3rdparty/signup/"
    assert any("using the copy read before" in r.getMessage() for r in caplog.records)


def test_idp_metadata_without_the_configured_entity(client, saml, caplog):
    cache.clear()
    with StaticServer(IDP.metadata_xml()) as server:
        saml(idp_metadata_url=server.url, idp_entity_id="https://another.example/idp")
        response = client.post("/accounts/saml/carsi/login/")
    assert response.status_code == 503
    assert "no IdP entity" in warning_for(caplog, "carsi")


def test_a_server_url_that_is_not_the_issuer(client, settings, dev_idp, caplog):
    oidc(settings, dev_idp.issuer + "/not-the-issuer")
    response = client.post("/accounts/oidc/campus/login/", HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 503
    assert "unavailable right now" in page(response)
    log = warning_for(caplog, "campus")
    assert "HTTPError: 404 Client Error: Not Found for url: " in log
    assert "/not-the-issuer/.well-known/openid-configuration" in log


def test_a_discovery_document_without_endpoints(client, settings, caplog):
    from tests.accounts.sso_helpers import StaticServer

    with StaticServer('{"issuer": "x"}', content_type="application/json") as server:
        oidc(settings, server.url.rsplit("/", 1)[0])
        response = client.post("/accounts/oidc/campus/login/", HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 503
    assert "lacks authorization_endpoint, token_endpoint, jwks_uri" in warning_for(caplog, "campus")


def test_a_discovery_document_that_is_not_json(client, settings, caplog):
    from tests.accounts.sso_helpers import StaticServer

    with StaticServer("<html>maintenance</html>", content_type="text/html") as server:
        oidc(settings, server.url.rsplit("/", 1)[0])
        response = client.post("/accounts/oidc/campus/login/", HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 503
    assert "JSONDecodeError" in warning_for(caplog, "campus")
