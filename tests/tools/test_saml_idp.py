"""The SAML test IdP (tools/dev_idp/saml.py) behaves like a real one.

The gateway's SAML tests rely on it, so it is checked here against an independent verifier:
python3-saml, the library the gateway's SAML support runs on. No database is needed.
"""

from __future__ import annotations

import base64
import datetime as dt

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
