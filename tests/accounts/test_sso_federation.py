"""Federations (CARSI): the IdPs of a signed metadata aggregate, and the institution chooser."""

import datetime as dt
import json

import pytest
from allauth.socialaccount.models import SocialAccount, SocialApp
from django.core.management import CommandError, call_command

from readers.models import Reader
from tests.accounts.sso_helpers import StaticServer, saml_post, saml_start
from tools.dev_idp.saml import TestSamlIdP, federation_aggregate, generate_signing_key

pytestmark = pytest.mark.django_db

FEDERATION_KEY = generate_signing_key("CARSI metadata signer")
PKU = TestSamlIdP(
    entity_id="https://idp.pku.example.edu.cn/idp/shibboleth",
    sso_url="https://idp.pku.example.edu.cn/idp/profile/SAML2/Redirect/SSO",
    display_names={"zh": "北京大学", "en": "Peking University"},
)
THU = TestSamlIdP(
    entity_id="https://idp.tsinghua.example.edu.cn/idp/shibboleth",
    sso_url="https://idp.tsinghua.example.edu.cn/idp/profile/SAML2/Redirect/SSO",
    display_names={"zh-CN": "清华大学", "en": "Tsinghua University"},
)
FUDAN = TestSamlIdP(
    entity_id="https://idp.fudan.example.edu.cn/idp/shibboleth",
    sso_url="https://idp.fudan.example.edu.cn/idp/profile/SAML2/Redirect/SSO",
    display_names={"zh": "复旦大学", "en": "Fudan University"},
)
REGISTRATION = {
    "name": "王芳",
    "email": "wang.fang@example.edu.cn",
    "institution": "化学系",
    "id_type": "student_card",
    "id_number": "S2019001",
    "phone": "13900000000",
}


@pytest.fixture
def cert_file(tmp_path):
    path = tmp_path / "federation.crt"
    path.write_text(FEDERATION_KEY.certificate_pem)
    return str(path)


def aggregate_file(tmp_path, idps, key=FEDERATION_KEY, **kwargs):
    path = tmp_path / f"aggregate-{len(list(tmp_path.iterdir()))}.xml"
    path.write_text(federation_aggregate(idps, key, **kwargs))
    return str(path)


def sync(path, cert_file):
    call_command("sync_federation", "--file", path, "--cert", cert_file)


def apps():
    return {app.settings["idp"]["entity_id"]: app for app in SocialApp.objects.all()}


@pytest.fixture
def federation(tmp_path, cert_file, client, settings):
    client.defaults["HTTP_HOST"] = "testserver"
    settings.SOCIALACCOUNT_PROVIDERS = {}
    settings.SAML_FEDERATION = {
        **settings.SAML_FEDERATION,
        "advanced": {**settings.SAML_FEDERATION["advanced"], "allow_single_label_domains": True},
    }
    sync(aggregate_file(tmp_path, [PKU, THU, FUDAN]), cert_file)
    return apps()


# -- sync_federation -----------------------------------------------------------------------------


def test_three_idps_become_three_identity_providers(federation, capsys):
    assert set(federation) == {PKU.entity_id, THU.entity_id, FUDAN.entity_id}
    pku = federation[PKU.entity_id]
    assert pku.provider == "saml"
    assert pku.provider_id == pku.client_id
    assert pku.provider_id.startswith("idp.pku.example.edu.cn-")
    assert pku.settings["names"] == {"zh": "北京大学", "en": "Peking University"}
    assert federation[THU.entity_id].settings["names"]["zh"] == "清华大学"  # zh-CN
    assert pku.settings["idp_config"]["singleSignOnService"]["url"] == PKU.sso_url
    assert "private_key" not in str(pku.settings)  # the SP's key stays out of the database


def test_rerunning_changes_nothing(federation, tmp_path, cert_file, capsys):
    capsys.readouterr()
    sync(aggregate_file(tmp_path, [PKU, THU, FUDAN]), cert_file)
    assert "0 added, 0 updated, 3 unchanged, 0 disabled" in capsys.readouterr().out
    assert {a.pk for a in apps().values()} == {a.pk for a in federation.values()}


def test_an_idp_that_left_is_disabled_not_deleted(federation, tmp_path, cert_file, client):
    # A Fudan reader registered before Fudan left.
    authn = saml_start(client, federation[FUDAN.entity_id].client_id, FUDAN.sso_url)
    saml_post(client, "federation", FUDAN, authn, name_id="fudan-reader")
    client.post("/accounts/3rdparty/signup/", REGISTRATION)
    client.post("/accounts/logout/")
    reader = Reader.objects.get()

    sync(aggregate_file(tmp_path, [PKU, THU]), cert_file)
    fudan = apps()[FUDAN.entity_id]
    assert fudan.settings["disabled"] is True
    assert SocialAccount.objects.get().user == reader.user  # the account is kept
    response = client.post(f"/accounts/saml/{fudan.client_id}/login/", HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 403
    assert "Fudan University no longer takes part in the campus login" in response.content.decode()
    # A response of the IdP that left is not taken either.
    response = saml_post(client, "federation", FUDAN, authn, name_id="fudan-reader")
    assert response.status_code == 403
    assert SocialAccount.objects.count() == 1
    assert "Fudan" not in client.get("/accounts/institutions/").content.decode()

    # Back in the federation: enabled again.
    sync(aggregate_file(tmp_path, [PKU, THU, FUDAN]), cert_file)
    assert not apps()[FUDAN.entity_id].settings.get("disabled")


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: federation_aggregate([PKU, THU, FUDAN], None), "not signed"),
        (
            lambda: federation_aggregate([PKU, THU, FUDAN], generate_signing_key("impostor")),
            "signature not valid",
        ),
        (
            lambda: federation_aggregate(
                [PKU, THU, FUDAN],
                FEDERATION_KEY,
                valid_until=dt.datetime.now(dt.UTC) - dt.timedelta(hours=1),
            ),
            "expired",
        ),
        (
            # An IdP slipped into a signed aggregate after signing.
            lambda: federation_aggregate([PKU, THU], FEDERATION_KEY).replace(
                "</md:EntitiesDescriptor>",
                TestSamlIdP(entity_id="https://evil.example/idp").metadata_xml()
                + "</md:EntitiesDescriptor>",
            ),
            "signature not valid",
        ),
        (lambda: "<not-xml", "not XML"),
    ],
)
def test_an_untrustworthy_aggregate_changes_nothing(federation, tmp_path, cert_file, make, message):
    before = {k: (a.pk, a.settings) for k, a in apps().items()}
    path = tmp_path / "bad.xml"
    path.write_text(make())
    with pytest.raises(CommandError, match=f"refused, nothing was changed: .*{message}"):
        sync(str(path), cert_file)
    assert {k: (a.pk, a.settings) for k, a in apps().items()} == before


def test_from_the_federations_url(tmp_path, cert_file, capsys):
    with StaticServer(federation_aggregate([PKU, THU, FUDAN], FEDERATION_KEY)) as server:
        call_command("sync_federation", "--metadata-url", server.url, "--cert", cert_file)
    assert "3 added" in capsys.readouterr().out
    assert len(apps()) == 3


# -- logging in through a federation IdP --------------------------------------------------------


def test_login_through_a_federation_idp(federation, client):
    pku = federation[PKU.entity_id]
    authn = saml_start(client, pku.client_id, PKU.sso_url)
    # One ACS and one SP entity for the whole federation, as registered there once.
    assert authn.acs_url == "http://testserver/accounts/saml/federation/acs/"
    assert authn.issuer == "http://testserver/accounts/saml/federation/metadata/"
    response = saml_post(client, "federation", PKU, authn, name_id="pku-persistent-1")
    assert response["Location"] == "/accounts/3rdparty/signup/"
    form = client.get("/accounts/3rdparty/signup/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Peking University" in form
    client.post("/accounts/3rdparty/signup/", REGISTRATION)
    assert SocialAccount.objects.get().provider == pku.provider_id


def test_a_response_signed_by_another_federation_idp_is_refused(federation, client):
    pku = federation[PKU.entity_id]
    authn = saml_start(client, pku.client_id)
    # Claims to come from Peking University but is signed with Tsinghua's key.
    impostor = TestSamlIdP(entity_id=PKU.entity_id, signing_key=THU.signing_key)
    response = saml_post(client, "federation", impostor, authn, name_id="x")
    assert response.status_code == 400
    assert SocialAccount.objects.count() == 0


def test_a_response_from_outside_the_federation(federation, client, caplog):
    pku = federation[PKU.entity_id]
    authn = saml_start(client, pku.client_id)
    stranger = TestSamlIdP(entity_id="https://idp.stranger.example/idp")
    response = saml_post(client, "federation", stranger, authn, name_id="x")
    assert response.status_code == 400
    assert "'https://idp.stranger.example/idp' is no IdP of the federation" in caplog.text


def test_junk_at_the_federation_acs(federation, client, caplog):
    client.post("/accounts/saml/federation/acs/", {"SAMLResponse": "PG5vdCB4bWw="})
    response = client.get("/accounts/saml/federation/acs/finish/")
    assert response.status_code == 400
    assert "no readable SAML response with an Issuer" in caplog.text
    assert client.get("/accounts/saml/federation/acs/finish/").status_code == 400


def test_federation_sp_metadata(federation, client):
    response = client.get("/accounts/saml/federation/metadata/")
    assert response.status_code == 200
    content = response.content.decode()
    assert 'entityID="http://testserver/accounts/saml/federation/metadata/"' in content
    assert 'Location="http://testserver/accounts/saml/federation/acs/"' in content


# -- the institution chooser ---------------------------------------------------------------------


def test_chooser_finds_an_institution_by_chinese_or_english(federation, client):
    for query in ("北京", "peking", "PEK"):
        content = client.get(
            "/accounts/institutions/", {"q": query}, HTTP_ACCEPT_LANGUAGE="en"
        ).content.decode()
        assert "Peking University" in content
        assert "Tsinghua" not in content
        assert "1 institution found" in content
    content = client.get("/accounts/institutions/", HTTP_ACCEPT_LANGUAGE="zh-hans").content
    assert all(name in content.decode() for name in ("北京大学", "清华大学", "复旦大学"))


def test_choosing_starts_the_login_and_is_remembered(federation, client, settings):
    settings.SSO_BUTTONS_MAX = 2
    thu = federation[THU.entity_id]
    login_page = client.get("/accounts/login/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Find your institution" in login_page
    assert "Tsinghua University" not in login_page  # no button per IdP

    response = client.post("/accounts/institutions/", {"institution": thu.provider_id})
    assert response.status_code == 302
    assert response["Location"].startswith(THU.sso_url)
    assert response.cookies["sso_institution"].value == thu.provider_id

    login_page = client.get("/accounts/login/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Tsinghua University" in login_page  # the last choice, as one button
    assert f'action="/accounts/saml/{thu.client_id}/login/"' in login_page
    assert "Another institution" in login_page
    chooser = client.get("/accounts/institutions/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Your last choice" in chooser


def test_choosing_nothing_or_a_stranger(federation, client):
    response = client.post("/accounts/institutions/", {"institution": "nope"})
    assert response.status_code == 400
    assert client.post("/accounts/institutions/", {}).status_code == 400


def test_few_providers_keep_their_buttons(federation, client, settings):
    settings.SSO_BUTTONS_MAX = 5
    content = client.get("/accounts/login/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    for name in ("Peking University", "Tsinghua University", "Fudan University"):
        assert name in content


def test_chooser_query_count(federation, client, django_assert_max_num_queries):
    with django_assert_max_num_queries(6):
        assert client.get("/accounts/institutions/", {"q": "大学"}).status_code == 200


def test_the_chooser_also_offers_configured_oidc_providers(federation, client, settings, dev_idp):
    from core.sso_config import providers_from_env
    from tests.accounts.sso_helpers import CLIENT_ID, CLIENT_SECRET

    settings.SOCIALACCOUNT_PROVIDERS = providers_from_env(
        json.dumps(
            [
                {
                    "id": "campus",
                    "label": "统一认证 Campus login",
                    "server_url": dev_idp.issuer,
                    "client_id": CLIENT_ID,
                    "secret": CLIENT_SECRET,
                }
            ]
        ),
        "",
    )
    content = client.get("/accounts/institutions/", {"q": "campus"}).content.decode()
    assert "统一认证 Campus login" in content
    response = client.post("/accounts/institutions/", {"institution": "campus"})
    assert response.status_code == 302
    assert response["Location"].startswith(dev_idp.discovery["authorization_endpoint"] + "?")


def test_an_entity_described_twice_is_one_idp(tmp_path, cert_file, capsys):
    twin = TestSamlIdP(entity_id=PKU.entity_id, sso_url="https://elsewhere.example/sso")
    sync(aggregate_file(tmp_path, [PKU, twin, THU]), cert_file)
    assert "2 identity providers in the aggregate; 2 added" in capsys.readouterr().out
    assert apps()[PKU.entity_id].settings["idp_config"]["singleSignOnService"]["url"] == (
        PKU.sso_url
    )


def test_single_logout_at_a_federation_idp(tmp_path, cert_file, client, settings):
    from tools.dev_idp.saml import parse_logout_request

    client.defaults["HTTP_HOST"] = "testserver"
    settings.SOCIALACCOUNT_PROVIDERS = {}
    settings.SAML_FEDERATION = {
        **settings.SAML_FEDERATION,
        "advanced": {**settings.SAML_FEDERATION["advanced"], "allow_single_label_domains": True},
    }
    nju = TestSamlIdP(
        entity_id="https://idp.nju.example.edu.cn/idp/shibboleth",
        sso_url="https://idp.nju.example.edu.cn/idp/profile/SAML2/Redirect/SSO",
        slo_url="https://idp.nju.example.edu.cn/idp/profile/SAML2/Redirect/SLO",
        display_names={"zh": "南京大学", "en": "Nanjing University"},
    )
    sync(aggregate_file(tmp_path, [nju, PKU]), cert_file)
    app = apps()[nju.entity_id]
    authn = saml_start(client, app.client_id, nju.sso_url)
    saml_post(client, "federation", nju, authn, name_id="nju-1")
    client.post("/accounts/3rdparty/signup/", REGISTRATION)
    response = client.get(client.post("/accounts/logout/")["Location"])
    assert response["Location"].startswith(nju.slo_url)
    logout_request = parse_logout_request(response["Location"])
    back = nju.logout_response_url(
        logout_request, "http://testserver/accounts/saml/federation/sls/"
    )
    parts = back.split("http://testserver", 1)[1]
    assert client.get(parts)["Location"] == "/accounts/logged-out/"
    content = client.get("/accounts/logged-out/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "and of the campus login (Nanjing University)" in content


def test_the_federation_logout_endpoint_without_a_logout(client):
    response = client.get("/accounts/saml/federation/sls/?SAMLRequest=x")
    assert response.status_code == 400


def test_two_runs_at_once_do_not_both_add(tmp_path, cert_file):
    from django.core.cache import cache

    cache.add("sync_federation:carsi", "running", timeout=60)
    try:
        with pytest.raises(CommandError, match="Another sync_federation for 'carsi' is running"):
            sync(aggregate_file(tmp_path, [PKU]), cert_file)
    finally:
        cache.delete("sync_federation:carsi")
    assert SocialApp.objects.count() == 0
    sync(aggregate_file(tmp_path, [PKU]), cert_file)
    assert SocialApp.objects.count() == 1
