"""Logging out on a shared computer ends the campus login too, or says plainly that it is open."""

import json
import urllib.parse

import pytest
import requests

from core.sso_config import providers_from_env
from tests.accounts.sso_helpers import (
    RICH_SUB,
    oidc_providers,
    saml_entry,
    saml_post,
    saml_start,
)
from tests.accounts.test_sso_oidc import REGISTRATION
from tests.dev_oidc_idp import choose_identity, sign_in_page
from tools.dev_idp.saml import TestSamlIdP, parse_logout_request

pytestmark = pytest.mark.django_db


def path_of(url):
    parts = urllib.parse.urlsplit(url)
    return f"{parts.path}?{parts.query}" if parts.query else parts.path


# -- OpenID Connect ----------------------------------------------------------------------------


@pytest.fixture
def campus(settings, client, dev_idp):
    client.defaults["HTTP_HOST"] = "localhost"  # see CALLBACKS in conftest.py
    settings.SOCIALACCOUNT_PROVIDERS = oidc_providers(dev_idp.issuer)
    return dev_idp


def press_campus_button(client, browser):
    """The gateway's campus button, then the IdP in the same browser (which keeps its cookie).
    Returns the IdP's sign-in page, or None where the IdP signs the browser straight in."""
    response = client.post("/accounts/oidc/campus/login/")
    assert response.status_code == 302
    return sign_in_page(browser, response["Location"])


def test_logout_ends_the_session_at_the_oidc_provider(client, campus):
    browser = requests.Session()  # the shared computer's browser, at the IdP
    page = press_campus_button(client, browser)
    assert page is not None  # the IdP's sign-in page
    client.get(path_of(choose_identity(browser, page, RICH_SUB)))
    client.post("/accounts/3rdparty/signup/", REGISTRATION)
    assert "_auth_user_id" in client.session

    # Without logging out of the IdP, the next person is signed in without a password:
    assert press_campus_button(client, browser) is None

    response = client.post("/accounts/logout/")
    assert response["Location"] == "/accounts/logged-out/"
    response = client.get("/accounts/logged-out/")
    assert response.status_code == 302
    end_session = urllib.parse.urlsplit(response["Location"])
    endpoint = f"{end_session.scheme}://{end_session.netloc}{end_session.path}"
    assert endpoint == campus.discovery["end_session_endpoint"]
    query = dict(urllib.parse.parse_qsl(end_session.query))
    assert query["post_logout_redirect_uri"] == "http://localhost/accounts/logged-out/"
    assert query["id_token_hint"].count(".") == 2
    answer = browser.get(response["Location"], allow_redirects=False)
    assert answer.status_code == 302, answer.text
    back = urllib.parse.urlsplit(answer.headers["Location"])
    assert f"http://{back.netloc}{back.path}" == "http://localhost/accounts/logged-out/"
    page = client.get(path_of(answer.headers["Location"]), HTTP_ACCEPT_LANGUAGE="en")
    content = page.content.decode()
    assert page.status_code == 200
    assert "You are logged out of the gateway and of the campus login" in content
    assert "still open" not in content

    # The IdP's session is over: the next person at the computer gets its sign-in page.
    assert press_campus_button(client, browser) is not None


def test_a_provider_without_logout_leaves_a_plain_warning(client, settings, campus):
    app = settings.SOCIALACCOUNT_PROVIDERS["openid_connect"]["APPS"][0]
    app["settings"]["openid_configuration_overrides"] = {"end_session_endpoint": None}
    from tests.accounts.sso_helpers import oidc_login

    oidc_login(client, RICH_SUB)
    client.post("/accounts/3rdparty/signup/", REGISTRATION)
    response = client.post("/accounts/logout/")
    page = client.get(response["Location"], HTTP_ACCEPT_LANGUAGE="en")
    assert page.status_code == 200
    content = page.content.decode()
    assert "your campus login (统一认证 Campus login) is still open in this browser" in content
    assert "close the browser" in content


def test_a_reloaded_logged_out_page_does_not_claim_the_idp_logout(client, campus):
    from tests.accounts.sso_helpers import oidc_login

    oidc_login(client, RICH_SUB)
    client.post("/accounts/3rdparty/signup/", REGISTRATION)
    client.post("/accounts/logout/")
    client.get("/accounts/logged-out/")  # on its way to the IdP...
    # ...but back without the IdP's state (a forged or stale return): not "ended".
    page = client.get("/accounts/logged-out/?state=forged", HTTP_ACCEPT_LANGUAGE="en")
    assert "still open" in page.content.decode()


def test_password_readers_log_out_as_before(client_a):
    response = client_a.post("/accounts/logout/")
    assert response["Location"] == "/"
    page = client_a.get("/accounts/logged-out/", HTTP_ACCEPT_LANGUAGE="en")
    assert "You are logged out of the gateway." in page.content.decode()
    assert "still open" not in page.content.decode()


# -- SAML ----------------------------------------------------------------------------------------

SLO_IDP = TestSamlIdP(
    entity_id="https://idp.slo.edu.cn/idp/shibboleth",
    sso_url="https://idp.slo.edu.cn/idp/profile/SAML2/Redirect/SSO",
    slo_url="https://idp.slo.edu.cn/idp/profile/SAML2/Redirect/SLO",
)
SAML_REGISTRATION = {**REGISTRATION, "id_type": "staff_card"}


def saml_register(client, settings, **entry):
    client.defaults["HTTP_HOST"] = "testserver"
    settings.SOCIALACCOUNT_PROVIDERS = providers_from_env(
        "", json.dumps([saml_entry("carsi", SLO_IDP, **entry)])
    )
    authn = saml_start(client, "carsi")
    saml_post(client, "carsi", SLO_IDP, authn, name_id="opaque-slo-1")
    client.post("/accounts/3rdparty/signup/", SAML_REGISTRATION)
    assert "_auth_user_id" in client.session


def test_saml_single_logout_where_the_idp_has_it(client, settings):
    saml_register(client, settings, idp_slo_url=SLO_IDP.slo_url)
    response = client.post("/accounts/logout/")
    response = client.get(response["Location"])
    assert response.status_code == 302
    assert response["Location"].startswith(SLO_IDP.slo_url)
    logout_request = parse_logout_request(response["Location"])
    assert logout_request.name_id == "opaque-slo-1"
    assert logout_request.session_index
    back = SLO_IDP.logout_response_url(logout_request, "http://testserver/accounts/saml/carsi/sls/")
    response = client.get(path_of(back))
    assert response["Location"] == "/accounts/logged-out/"
    content = client.get("/accounts/logged-out/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "You are logged out of the gateway and of the campus login (CARSI)" in content


def test_a_forged_logout_response_is_not_taken_for_the_idps(client, settings, caplog):
    saml_register(client, settings, idp_slo_url=SLO_IDP.slo_url)
    response = client.get(client.post("/accounts/logout/")["Location"])
    logout_request = parse_logout_request(response["Location"])
    impostor = TestSamlIdP(entity_id=SLO_IDP.entity_id + "/impostor", sso_url=SLO_IDP.sso_url)
    impostor.entity_id = SLO_IDP.entity_id
    back = impostor.logout_response_url(
        logout_request, "http://testserver/accounts/saml/carsi/sls/"
    )
    response = client.get(path_of(back))
    assert response["Location"] == "/accounts/logged-out/"
    content = client.get("/accounts/logged-out/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "still open" in content
    assert any("not confirmed" in r.getMessage() for r in caplog.records)


def test_saml_idp_without_single_logout(client, settings):
    saml_register(client, settings)
    response = client.get(client.post("/accounts/logout/")["Location"], HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200
    assert "your campus login (CARSI) is still open in this browser" in response.content.decode()


def test_the_logged_out_page_query_count(client, django_assert_max_num_queries):
    # A plain visit (no campus login was ended): the page reads the session and nothing more.
    with django_assert_max_num_queries(3):
        response = client.get("/accounts/logged-out/")
    assert response.status_code == 200


def test_a_broken_logout_request_is_refused_in_the_readers_language(client, settings):
    # The IdP's own LogoutRequest that cannot be read: the browser shows a line in the reader's
    # language, never the SAML library's error (that goes to the log).
    saml_register(client, settings, idp_slo_url=SLO_IDP.slo_url)
    for language, expected in [
        ("zh-hans", "身份提供方的退出请求被拒绝。"),
        ("en", "The identity provider's logout request was refused."),
    ]:
        response = client.get(
            "/accounts/saml/carsi/sls/?SAMLRequest=x", HTTP_ACCEPT_LANGUAGE=language
        )
        assert response.status_code == 400
        assert response.content.decode() == expected
    assert "_auth_user_id" in client.session
    federation = client.get(
        "/accounts/saml/federation/sls/?SAMLRequest=x", HTTP_ACCEPT_LANGUAGE="zh-hans"
    )
    assert federation.status_code == 400
    assert federation.content.decode() == "此浏览器中没有等待应答的退出。"
