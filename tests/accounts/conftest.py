"""Fixtures of the single sign-on tests: a running development IdP, configured providers."""

import json

import pytest

from core.sso_config import providers_from_env
from tests.accounts.sso_helpers import CLIENT_ID, CLIENT_SECRET
from tools.dev_idp.server import DevIdP


@pytest.fixture(scope="session")
def dev_idp():
    with DevIdP(
        client_id=CLIENT_ID,
        client_secret=CLIENT_SECRET,
        allowed_redirect_hosts=("127.0.0.1", "localhost", "testserver"),
    ) as idp:
        yield idp


@pytest.fixture
def oidc_configured(settings, dev_idp):
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
    return dev_idp
