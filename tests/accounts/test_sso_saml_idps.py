"""Several SAML identity providers: each is its own namespace of identities."""

import importlib
import json

import pytest
from allauth.socialaccount.models import SocialAccount
from django.apps import apps as global_apps

from core.sso_config import SSOConfigurationError, providers_from_env
from readers.models import Reader
from tests.accounts.sso_helpers import saml_entry, saml_post, saml_start
from tools.dev_idp.saml import TestSamlIdP

pytestmark = pytest.mark.django_db

CARSI = TestSamlIdP(
    entity_id="https://idp.example.edu.cn/idp/shibboleth",
    sso_url="https://idp.example.edu.cn/idp/profile/SAML2/Redirect/SSO",
)
PARTNER = TestSamlIdP(
    entity_id="https://sso.partner.edu.cn/idp/shibboleth",
    sso_url="https://sso.partner.edu.cn/idp/profile/SAML2/Redirect/SSO",
)
SHARED_NAMEID = "shared-persistent-id-42"


def registration(name, id_number):
    return {
        "name": name,
        "email": f"{id_number}@example.edu.cn",
        "institution": "化学系",
        "id_type": "staff_card",
        "id_number": id_number,
        "phone": "13900000000",
    }


@pytest.fixture
def two_idps(settings, client):
    client.defaults["HTTP_HOST"] = "testserver"
    settings.SOCIALACCOUNT_PROVIDERS = providers_from_env(
        "", json.dumps([saml_entry("carsi", CARSI), saml_entry("partner", PARTNER)])
    )


def test_the_same_nameid_at_two_idps_is_two_accounts(client, two_idps):
    authn = saml_start(client, "carsi", CARSI.sso_url)
    response = saml_post(client, "carsi", CARSI, authn, name_id=SHARED_NAMEID)
    assert response["Location"] == "/accounts/3rdparty/signup/"
    # With two SAML IdPs this page raised MultipleObjectsReturned (a 500).
    assert client.get("/accounts/3rdparty/signup/").status_code == 200
    response = client.post("/accounts/3rdparty/signup/", registration("王芳", "S2019001"))
    assert response.status_code == 302
    carsi_reader = Reader.objects.get()
    client.post("/accounts/logout/")

    # A partner login with the same NameID must not land in the CARSI reader's account.
    authn = saml_start(client, "partner", PARTNER.sso_url)
    response = saml_post(client, "partner", PARTNER, authn, name_id=SHARED_NAMEID)
    assert response.status_code == 302
    assert response["Location"] == "/accounts/3rdparty/signup/"
    assert "_auth_user_id" not in client.session
    assert client.get("/accounts/3rdparty/signup/").status_code == 200
    client.post("/accounts/3rdparty/signup/", registration("张伟", "P2020002"))
    assert Reader.objects.count() == 2
    partner_reader = Reader.objects.exclude(pk=carsi_reader.pk).get()
    assert partner_reader.user != carsi_reader.user
    accounts = {a.provider: a for a in SocialAccount.objects.all()}
    assert set(accounts) == {"carsi", "partner"}
    assert accounts["carsi"].user == carsi_reader.user
    assert accounts["partner"].user == partner_reader.user
    assert accounts["carsi"].uid == accounts["partner"].uid == SHARED_NAMEID

    # And each IdP logs its own reader back in.
    client.post("/accounts/logout/")
    authn = saml_start(client, "carsi")
    response = saml_post(client, "carsi", CARSI, authn, name_id=SHARED_NAMEID)
    assert response["Location"] == "/"
    assert int(client.session["_auth_user_id"]) == carsi_reader.user.pk
    client.post("/accounts/logout/")
    authn = saml_start(client, "partner")
    response = saml_post(client, "partner", PARTNER, authn, name_id=SHARED_NAMEID)
    assert response["Location"] == "/"
    assert int(client.session["_auth_user_id"]) == partner_reader.user.pk


def test_a_response_of_one_idp_posted_to_the_other_is_refused(client, two_idps):
    authn = saml_start(client, "partner")
    # Signed by CARSI, posted to partner's ACS: partner's certificate does not verify it.
    saml_response = CARSI.response(
        acs_url=authn.acs_url, audience=authn.issuer, in_response_to=authn.id, name_id="x"
    )
    client.post("/accounts/saml/partner/acs/", {"SAMLResponse": saml_response})
    response = client.get("/accounts/saml/partner/acs/finish/")
    assert response.status_code < 500
    assert client.get("/accounts/3rdparty/signup/").status_code != 200
    assert SocialAccount.objects.count() == 0


@pytest.mark.parametrize(
    ("oidc", "saml", "message"),
    [
        (
            [{"id": "carsi", "server_url": "https://a/", "client_id": "x"}],
            [saml_entry("carsi", CARSI)],
            "'carsi' is used twice",
        ),
        ([], [saml_entry("carsi", CARSI), saml_entry("carsi", PARTNER)], "used twice"),
        ([], [saml_entry("saml", CARSI)], "'saml' is reserved"),
        ([], [saml_entry("a/b", CARSI)], "may contain only"),
    ],
)
def test_provider_ids_must_be_distinct_and_usable(oidc, saml, message):
    with pytest.raises(SSOConfigurationError, match=message):
        providers_from_env(json.dumps(oidc), json.dumps(saml))


# -- the data migration of accounts stored before -------------------------------------------

migration = importlib.import_module("accounts.migrations.0001_saml_accounts_per_idp")


def legacy_account(uid):
    from django.contrib.auth.models import User

    user = User.objects.create(username=f"sso-{uid}")
    return SocialAccount.objects.create(user=user, provider="saml", uid=uid)


def test_migration_moves_accounts_to_the_only_saml_idp(settings, monkeypatch):
    monkeypatch.delenv(migration.LEGACY_VARIABLE, raising=False)
    settings.SOCIALACCOUNT_PROVIDERS = providers_from_env(
        json.dumps([{"id": "campus", "server_url": "https://a/", "client_id": "x"}]),
        json.dumps([saml_entry("carsi", CARSI)]),
    )
    account = legacy_account("old-nameid")
    migration.move_saml_accounts(global_apps)
    account.refresh_from_db()
    assert account.provider == "carsi"


def test_migration_refuses_to_guess_among_several_idps(settings, monkeypatch):
    monkeypatch.delenv(migration.LEGACY_VARIABLE, raising=False)
    settings.SOCIALACCOUNT_PROVIDERS = providers_from_env(
        "", json.dumps([saml_entry("carsi", CARSI), saml_entry("partner", PARTNER)])
    )
    account = legacy_account("old-nameid")
    with pytest.raises(migration.LegacySamlAccountsError) as error:
        migration.move_saml_accounts(global_apps)
    message = str(error.value)
    assert "several are configured (carsi, partner)" in message
    assert "SAML_LEGACY_PROVIDER=carsi python manage.py migrate" in message
    account.refresh_from_db()
    assert account.provider == "saml"

    monkeypatch.setenv(migration.LEGACY_VARIABLE, "partner")
    migration.move_saml_accounts(global_apps)
    account.refresh_from_db()
    assert account.provider == "partner"


def test_migration_refuses_an_unknown_legacy_id_and_no_idp(settings, monkeypatch):
    settings.SOCIALACCOUNT_PROVIDERS = {}
    legacy_account("old-nameid")
    monkeypatch.delenv(migration.LEGACY_VARIABLE, raising=False)
    with pytest.raises(migration.LegacySamlAccountsError, match="SAML_PROVIDERS names none"):
        migration.move_saml_accounts(global_apps)
    settings.SOCIALACCOUNT_PROVIDERS = providers_from_env("", json.dumps([saml_entry("c", CARSI)]))
    monkeypatch.setenv(migration.LEGACY_VARIABLE, "nope")
    with pytest.raises(migration.LegacySamlAccountsError, match="'nope' is not a configured"):
        migration.move_saml_accounts(global_apps)


def test_migration_without_saml_accounts_changes_nothing(settings, monkeypatch):
    monkeypatch.delenv(migration.LEGACY_VARIABLE, raising=False)
    settings.SOCIALACCOUNT_PROVIDERS = {}
    migration.move_saml_accounts(global_apps)  # no accounts: nothing to ask
