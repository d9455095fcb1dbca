"""What the gateway's OpenID Connect client sends, checked by a provider that enforces it:
PKCE binds each code to its login, and the client authenticates at the token endpoint the way
the provider's entry says (client_secret_post by default, client_secret_basic where asked)."""

import logging
import urllib.parse

import pytest

from tests.accounts.sso_helpers import (
    RICH_SUB,
    idp_choose,
    oidc_login,
    oidc_providers,
    running_dev_idp,
)

pytestmark = pytest.mark.django_db


def query_of(url: str) -> dict:
    return dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(url).query))


def sso_warnings(caplog) -> str:
    return "\n".join(
        r.getMessage()
        for r in caplog.records
        if r.name == "accounts.sso" and r.levelno == logging.WARNING
    )


def test_a_code_is_bound_to_the_login_that_asked_for_it(client, oidc_configured, caplog):
    first = client.post("/accounts/oidc/campus/login/")["Location"]
    second = client.post("/accounts/oidc/campus/login/")["Location"]
    assert query_of(first)["code_challenge_method"] == "S256"
    assert query_of(first)["code_challenge"] != query_of(second)["code_challenge"]

    code = query_of(idp_choose(first, RICH_SUB))["code"]
    # The first login's code, brought back as the answer to the second login: the gateway sends
    # the second login's code_verifier, which does not match the first code's challenge.
    response = client.get(
        "/accounts/oidc/campus/login/callback/?"
        + urllib.parse.urlencode({"code": code, "state": query_of(second)["state"]}),
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert response.status_code == 403
    assert "refused the login" in response.content.decode()
    assert "invalid_grant" in sso_warnings(caplog)
    assert "_auth_user_id" not in client.session


@pytest.fixture(scope="module")
def basic_only_idp(tmp_path_factory):
    """A provider that takes the client's secret only in the Authorization header."""
    yield from running_dev_idp(
        tmp_path_factory, "basic_only_idp", token_auth_methods=("client_secret_basic",)
    )


def test_client_secret_basic_where_the_entry_asks_for_it(client, settings, basic_only_idp):
    assert basic_only_idp.discovery["token_endpoint_auth_methods_supported"] == [
        "client_secret_basic"
    ]
    settings.SOCIALACCOUNT_PROVIDERS = oidc_providers(
        basic_only_idp.issuer, token_auth_method="client_secret_basic"
    )
    response = oidc_login(client, RICH_SUB)
    assert response["Location"] == "/accounts/3rdparty/signup/"


def test_client_secret_post_by_default(client, settings, basic_only_idp, caplog):
    # The same provider refuses the secret in the form body, the gateway's default.
    settings.SOCIALACCOUNT_PROVIDERS = oidc_providers(basic_only_idp.issuer)
    response = oidc_login(client, RICH_SUB)
    assert response.status_code == 403
    assert "invalid_client" in sso_warnings(caplog)
    assert "_auth_user_id" not in client.session
