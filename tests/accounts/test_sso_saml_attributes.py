"""SAML as Shibboleth and CARSI IdPs really release it: NameID formats, eduPersonTargetedID,
eduPersonPrincipalName, affiliations, encrypted assertions and signed requests."""

import datetime as dt
import json
import re

import pytest
from allauth.socialaccount.models import SocialAccount
from django.contrib.auth import get_user_model
from lxml import etree

from core.sso_config import SSOConfigurationError, providers_from_env
from readers.models import Reader
from tests.accounts.sso_helpers import saml_entry, saml_post, saml_start
from tools.dev_idp.saml import (
    EDU_PERSON_PRINCIPAL_NAME,
    EDU_PERSON_SCOPED_AFFILIATION,
    EDU_PERSON_TARGETED_ID,
    NAMEID_PERSISTENT,
    NAMEID_TRANSIENT,
    NameID,
    TestSamlIdP,
    generate_signing_key,
    verify_redirect_signature,
)

pytestmark = pytest.mark.django_db

IDP = TestSamlIdP(
    entity_id="https://idp.pku.example.edu.cn/idp/shibboleth",
    sso_url="https://idp.pku.example.edu.cn/idp/profile/SAML2/Redirect/SSO",
)
SP_KEY = generate_signing_key("ILL gateway SP")
OU = "urn:oid:2.5.4.11"
PAIRWISE_ID = "urn:oasis:names:tc:SAML:attribute:pairwise-id"
REGISTRATION = {
    "name": "王芳",
    "email": "wang.fang@example.edu.cn",
    "institution": "化学系",
    "id_type": "staff_card",
    "id_number": "S2019001",
    "phone": "13900000000",
}
MD = "urn:oasis:names:tc:SAML:2.0:metadata"


@pytest.fixture
def configure(settings, client):
    client.defaults["HTTP_HOST"] = "testserver"
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"

    def configure(**extra):
        entry = saml_entry("pku", IDP, label="北京大学 Peking University", **extra)
        settings.SOCIALACCOUNT_PROVIDERS = providers_from_env("", json.dumps([entry]))

    configure()
    return configure


def login(client, **response):
    authn = saml_start(client, "pku", IDP.sso_url)
    return saml_post(client, "pku", IDP, authn, **response)


# -- NameID formats ------------------------------------------------------------------------------


def test_a_persistent_nameid_is_asked_for_by_default(client, configure):
    assert saml_start(client, "pku").name_id_policy_format == NAMEID_PERSISTENT
    metadata = etree.fromstring(client.get("/accounts/saml/pku/metadata/").content)
    formats = [e.text for e in metadata.iter(f"{{{MD}}}NameIDFormat")]
    assert formats == [NAMEID_PERSISTENT]


def test_name_id_format_per_entry(client, configure):
    unspecified = "urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified"
    configure(name_id_format=unspecified)
    assert saml_start(client, "pku").name_id_policy_format == unspecified


def test_a_transient_nameid_alone_is_refused_with_an_explanation(client, configure, caplog):
    response = login(client, name_id="_transient-1", name_id_format=NAMEID_TRANSIENT)
    assert response.status_code == 403
    content = response.content.decode()
    assert "北京大学 Peking University did not say who you are" in content
    assert "your university&#x27;s IT department" in content
    assert "register as an off-campus reader" in content
    assert any(
        "no lasting identifier" in r.getMessage() and "'pku'" in r.getMessage()
        for r in caplog.records
    )
    assert client.get("/accounts/3rdparty/signup/").status_code != 200
    assert get_user_model().objects.count() == 0


def test_two_transient_logins_never_become_two_registrations(client, configure):
    for n in range(2):
        response = login(client, name_id=f"_transient-{n}", name_id_format=NAMEID_TRANSIENT)
        assert response.status_code == 403
    assert SocialAccount.objects.count() == 0


def test_eduperson_targeted_id_is_the_uid_beside_a_transient_nameid(client, configure):
    targeted = NameID("eptid-5f2c", name_qualifier=IDP.entity_id, sp_name_qualifier="sp")
    response = login(
        client,
        name_id="_transient-a",
        name_id_format=NAMEID_TRANSIENT,
        attributes={EDU_PERSON_TARGETED_ID: targeted},
    )
    assert response["Location"] == "/accounts/3rdparty/signup/"
    client.post("/accounts/3rdparty/signup/", REGISTRATION)
    assert SocialAccount.objects.get().uid == "eptid-5f2c"
    client.post("/accounts/logout/")
    # Next login: another transient NameID, the same eduPersonTargetedID: the same reader.
    response = login(
        client,
        name_id="_transient-b",
        name_id_format=NAMEID_TRANSIENT,
        attributes={EDU_PERSON_TARGETED_ID: targeted},
    )
    assert response["Location"] == "/"
    assert Reader.objects.count() == 1


def test_pairwise_id_comes_before_the_nameid(client, configure):
    login(client, name_id="persistent-1", attributes={PAIRWISE_ID: "abc@pku.example.edu.cn"})
    client.post("/accounts/3rdparty/signup/", REGISTRATION)
    assert SocialAccount.objects.get().uid == "abc@pku.example.edu.cn"


# -- attributes ---------------------------------------------------------------------------------


def test_eppn_is_the_campus_id_and_affiliation_is_not_the_institution(client, configure):
    login(
        client,
        name_id="persistent-2",
        attributes={
            EDU_PERSON_PRINCIPAL_NAME: "2001110123@pku.example.edu.cn",
            EDU_PERSON_SCOPED_AFFILIATION: [
                "student@pku.example.edu.cn",
                "member@pku.example.edu.cn",
            ],
        },
    )
    form = client.get("/accounts/3rdparty/signup/").content.decode()
    assert "2001110123@pku.example.edu.cn" in form  # the campus ID, fixed
    assert "student@" not in form
    # Without o/ou/schacHomeOrganization the institution is the IdP's name.
    assert 'value="北京大学 Peking University"' in form
    client.post("/accounts/3rdparty/signup/", {**REGISTRATION, "institution": "化学系"})
    reader = Reader.objects.get()
    assert reader.campus_id == "2001110123@pku.example.edu.cn"
    assert reader.affiliation == "student, member"
    assert reader.institution == "化学系"


def test_the_department_comes_from_ou(client, configure):
    login(
        client,
        name_id="persistent-3",
        attributes={OU: "化学与分子工程学院", EDU_PERSON_SCOPED_AFFILIATION: "faculty@x"},
    )
    form = client.get("/accounts/3rdparty/signup/").content.decode()
    assert 'value="化学与分子工程学院"' in form


def test_staff_see_the_affiliation_when_confirming(client, configure, client_staff):
    login(
        client,
        name_id="persistent-4",
        attributes={EDU_PERSON_SCOPED_AFFILIATION: "faculty@pku.example.edu.cn"},
    )
    client.post("/accounts/3rdparty/signup/", REGISTRATION)
    reader = Reader.objects.get()
    page = client_staff.get(f"/admin/readers/reader/{reader.pk}/change/", HTTP_ACCEPT_LANGUAGE="en")
    assert page.status_code == 200
    content = page.content.decode()
    assert "Affiliation" in content
    assert 'value="faculty"' in content


# -- the SP's keys ------------------------------------------------------------------------------


def test_sp_key_pair_signs_requests_decrypts_assertions_and_is_published(client, configure):
    configure(sp_x509cert=SP_KEY.certificate_pem, sp_private_key=SP_KEY.private_key_pem)
    response = client.post("/accounts/saml/pku/login/")
    assert verify_redirect_signature(response["Location"], SP_KEY.certificate_pem)
    assert not verify_redirect_signature(response["Location"], IDP.certificate_pem)

    metadata = etree.fromstring(client.get("/accounts/saml/pku/metadata/").content)
    uses = sorted(e.get("use") for e in metadata.iter(f"{{{MD}}}KeyDescriptor"))
    assert uses == ["encryption", "signing"]
    assert SP_KEY.certificate_base64[:60] in etree.tostring(metadata).decode()
    sp = next(metadata.iter(f"{{{MD}}}SPSSODescriptor"))
    assert sp.get("AuthnRequestsSigned") == "true"

    response = login(
        client,
        name_id="persistent-enc",
        encrypt_for=SP_KEY.certificate_pem,
        attributes={EDU_PERSON_PRINCIPAL_NAME: "enc@pku.example.edu.cn"},
    )
    assert response["Location"] == "/accounts/3rdparty/signup/"
    assert "enc@pku.example.edu.cn" in client.get("/accounts/3rdparty/signup/").content.decode()


def test_an_assertion_encrypted_for_another_sp_is_unreadable(client, configure):
    configure(sp_x509cert=SP_KEY.certificate_pem, sp_private_key=SP_KEY.private_key_pem)
    other = generate_signing_key("another SP")
    response = login(client, name_id="p", encrypt_for=other.certificate_pem)
    assert response.status_code == 400
    assert "could not be read" in response.content.decode()


def test_sp_key_pair_from_files(tmp_path, client, configure):
    (tmp_path / "sp.crt").write_text(SP_KEY.certificate_pem)
    (tmp_path / "sp.key").write_text(SP_KEY.private_key_pem)
    configure(
        sp_x509cert_file=str(tmp_path / "sp.crt"), sp_private_key_file=str(tmp_path / "sp.key")
    )
    response = client.post("/accounts/saml/pku/login/")
    assert verify_redirect_signature(response["Location"], SP_KEY.certificate_pem)


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ({"sp_x509cert": SP_KEY.certificate_pem}, "go together"),
        (
            {"sp_x509cert": SP_KEY.certificate_pem, "sp_private_key": "nonsense"},
            "not an unencrypted PEM private key",
        ),
        (
            {
                "sp_x509cert": SP_KEY.certificate_pem,
                "sp_private_key": generate_signing_key("x").private_key_pem,
            },
            "does not belong to sp_x509cert",
        ),
        ({"sp_x509cert_file": "/nonexistent/sp.crt"}, "cannot be read"),
        ({"want_assertion_encrypted": True}, "needs the SP key pair"),
    ],
)
def test_a_wrong_sp_key_pair_is_named(extra, message):
    with pytest.raises(SSOConfigurationError, match=message):
        providers_from_env("", json.dumps([saml_entry("pku", IDP, **extra)]))


def test_sp_metadata_stays_valid_long_enough_for_an_idp(client, configure):
    metadata = etree.fromstring(client.get("/accounts/saml/pku/metadata/").content)
    valid_until = dt.datetime.strptime(metadata.get("validUntil"), "%Y-%m-%dT%H:%M:%SZ")
    assert valid_until - dt.datetime.utcnow() > dt.timedelta(days=300)
    assert re.fullmatch(r"PT86400S", metadata.get("cacheDuration"))
