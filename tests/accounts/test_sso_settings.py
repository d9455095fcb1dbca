"""Identity providers are configured from the environment, with clear errors when it is wrong."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from accounts.sso import claims_to_profile
from core.sso_config import SSOConfigurationError, providers_from_env


def test_several_providers_of_both_kinds():
    oidc = [
        {"id": "campus", "label": "统一认证", "server_url": "https://a/", "client_id": "x"},
        {"id": "hospital", "server_url": "https://b/", "client_id": "y", "secret": "s"},
    ]
    saml = [
        {"id": "carsi", "label": "CARSI", "idp_metadata_url": "https://fed/metadata.xml"},
        {
            "id": "shib",
            "idp_entity_id": "https://idp/",
            "idp_sso_url": "https://idp/sso",
            "idp_x509cert": "MIIC",
            "attributes": {"campus_id": "urn:oid:1.2.3"},
        },
    ]
    providers = providers_from_env(json.dumps(oidc), json.dumps(saml))
    apps = providers["openid_connect"]["APPS"]
    assert [a["provider_id"] for a in apps] == ["campus", "hospital"]
    assert apps[0]["name"] == "统一认证"
    assert apps[1]["name"] == "hospital"
    assert apps[0]["settings"]["server_url"] == "https://a"  # the issuer, without the slash
    saml_apps = providers["saml"]["APPS"]
    assert saml_apps[0]["settings"]["idp"] == {
        "entity_id": "",
        "metadata_url": "https://fed/metadata.xml",
    }
    assert saml_apps[1]["settings"]["claims"]["campus_id"] == ["urn:oid:1.2.3"]
    assert saml_apps[1]["settings"]["advanced"]["reject_idp_initiated_sso"] is True


def test_nothing_configured_means_no_providers():
    assert providers_from_env("", "  ") == {}


@pytest.mark.parametrize(
    ("oidc", "saml", "message"),
    [
        ("{not json", "", "OIDC_PROVIDERS is not valid JSON"),
        ('[{"id": "campus"}]', "", "lacks: server_url, client_id"),
        ("", '[{"id": "carsi", "idp_entity_id": "x"}]', "lacks: idp_sso_url, idp_x509cert"),
        ('"just a string"', "", "must be a JSON list of objects"),
    ],
)
def test_wrong_configuration_is_named(oidc, saml, message):
    with pytest.raises(SSOConfigurationError, match=message):
        providers_from_env(oidc, saml)


def test_a_wrong_configuration_stops_the_start_with_its_message():
    env = {**os.environ, "DEBUG": "true", "OIDC_PROVIDERS": '[{"id": "campus"}]'}
    env["DJANGO_SETTINGS_MODULE"] = "illgateway.settings"
    result = subprocess.run(
        [sys.executable, "-c", "import django; django.setup()"],
        cwd=Path(__file__).resolve().parents[2],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    assert "OIDC_PROVIDERS entry 'campus' lacks: server_url, client_id" in result.stderr


def test_claims_take_the_first_released_value():
    claims = {"name": ["displayName", "cn"], "email": ["mail"]}
    data = {"cn": ["Wang Fang"], "displayName": [], "mail": "  w@example.edu.cn "}
    assert claims_to_profile(claims, data) == {"name": "Wang Fang", "email": "w@example.edu.cn"}
