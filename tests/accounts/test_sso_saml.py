"""Campus single sign-on through SAML 2.0 (Shibboleth/CARSI) with real signed responses."""

import json
import urllib.parse

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import User

from core.sso_config import providers_from_env
from readers.models import Reader, ReaderStatus, ReaderType
from tools.dev_idp.saml import (
    DISPLAY_NAME,
    MAIL,
    TestSamlIdP,
    generate_signing_key,
    parse_authn_request,
)

pytestmark = pytest.mark.django_db

IDP = TestSamlIdP(
    entity_id="https://idp.example.edu.cn/idp/shibboleth",
    sso_url="https://idp.example.edu.cn/idp/profile/SAML2/Redirect/SSO",
)
ACS = "/accounts/saml/carsi/acs/"
REGISTRATION = {
    "name": "王芳",
    "email": "wang.fang@example.edu.cn",
    "institution": "化学系",
    "id_type": "staff_card",
    "id_number": "S2019001",
    "phone": "13900000000",
}


@pytest.fixture
def saml_configured(settings, client):
    # Browsers always send Host; python3-saml builds the expected ACS URL from it.
    client.defaults["HTTP_HOST"] = "testserver"
    settings.SOCIALACCOUNT_PROVIDERS = providers_from_env(
        "",
        json.dumps(
            [
                {
                    "id": "carsi",
                    "label": "CARSI",
                    "idp_entity_id": IDP.entity_id,
                    "idp_sso_url": IDP.sso_url,
                    "idp_x509cert": IDP.certificate_pem,
                    # The test client's host, "testserver", has no dot.
                    "allow_single_label_domains": True,
                }
            ]
        ),
    )


def start_login(client):
    response = client.post("/accounts/saml/carsi/login/")
    assert response.status_code == 302
    assert response["Location"].startswith(IDP.sso_url)
    return parse_authn_request(response["Location"])


def post_response(client, authn, **kwargs):
    saml_response = IDP.response(
        acs_url=authn.acs_url,
        audience=authn.issuer,
        in_response_to=authn.id,
        **kwargs,
    )
    response = client.post(
        ACS, {"SAMLResponse": saml_response, "RelayState": authn.relay_state or ""}
    )
    # allauth stores the response and finishes on a second request (same-site cookie rules).
    while response.status_code == 302 and "/acs/finish/" in response["Location"]:
        response = client.get(urllib.parse.urlsplit(response["Location"]).path)
    return response


def test_login_page_offers_the_saml_provider(client, saml_configured):
    content = client.get("/accounts/login/").content.decode()
    assert 'action="/accounts/saml/carsi/login/"' in content
    assert "CARSI" in content


def test_signed_response_with_only_a_persistent_nameid_leads_to_registration(
    client, saml_configured
):
    authn = start_login(client)
    response = post_response(client, authn, name_id="opaque-7f3a9c", sign="response")
    assert response.status_code == 302
    assert response["Location"] == "/accounts/3rdparty/signup/"
    assert client.get(response["Location"]).status_code == 200
    response = client.post("/accounts/3rdparty/signup/", REGISTRATION)
    assert response.status_code == 302
    reader = Reader.objects.get()
    assert reader.reader_type == ReaderType.CAMPUS
    assert reader.status == ReaderStatus.PENDING
    assert reader.user.socialaccount_set.get().uid == "opaque-7f3a9c"


def test_released_attributes_prefill_the_form(client, saml_configured):
    authn = start_login(client)
    post_response(
        client,
        authn,
        name_id="opaque-1",
        attributes={DISPLAY_NAME: ["王芳"], MAIL: ["wang.fang@example.edu.cn"]},
    )
    content = client.get("/accounts/3rdparty/signup/").content.decode()
    assert 'value="王芳"' in content
    assert 'value="wang.fang@example.edu.cn"' in content


def test_response_signed_with_the_wrong_certificate_is_refused_and_creates_nothing(
    client, saml_configured
):
    authn = start_login(client)
    impostor = generate_signing_key("Impostor IdP")
    response = post_response(client, authn, name_id="opaque-evil", sign_with=impostor)
    assert 400 <= response.status_code < 500
    assert "_auth_user_id" not in client.session
    assert client.get("/accounts/3rdparty/signup/").status_code != 200
    assert User.objects.count() == 0
    assert Reader.objects.count() == 0


def test_unsigned_response_is_refused(client, saml_configured):
    authn = start_login(client)
    post_response(client, authn, name_id="opaque-unsigned", sign="none")
    assert client.get("/accounts/3rdparty/signup/").status_code != 200
    assert get_user_model().objects.count() == 0


def test_unsolicited_response_is_refused(client, saml_configured):
    authn = start_login(client)
    saml_response = IDP.response(acs_url=authn.acs_url, audience=authn.issuer, name_id="opaque-x")
    client.post(ACS, {"SAMLResponse": saml_response})
    assert client.get("/accounts/3rdparty/signup/").status_code != 200


def test_response_for_another_audience_is_refused(client, saml_configured):
    authn = start_login(client)
    saml_response = IDP.response(
        acs_url=authn.acs_url,
        audience="https://other-sp.example.org/",
        in_response_to=authn.id,
        name_id="opaque-y",
    )
    client.post(ACS, {"SAMLResponse": saml_response})
    assert client.get("/accounts/3rdparty/signup/").status_code != 200
    assert get_user_model().objects.count() == 0


def test_garbage_saml_response_never_fails_the_page(client, saml_configured):
    start_login(client)
    for junk in ("", "not base64 at all!", "PHhtbD48L3htbD4="):
        response = client.post(ACS, {"SAMLResponse": junk})
        assert response.status_code < 500


def test_sp_metadata_is_published_for_the_federation(client, saml_configured):
    response = client.get("/accounts/saml/carsi/metadata/")
    assert response.status_code == 200
    content = response.content.decode()
    assert "EntityDescriptor" in content
    assert "/accounts/saml/carsi/acs/" in content
