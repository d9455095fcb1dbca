"""Fixtures of the single sign-on tests: a running development IdP, configured providers."""

import pytest

from tests.accounts.sso_helpers import CLIENT_ID, CLIENT_SECRET, oidc_providers
from tests.dev_oidc_idp import DevOIDCProvider

# The test client's host, and "localhost" for the logout tests: the IdP accepts only a valid URL
# as the address to return to after logging out, and "testserver" has no dot.
CALLBACKS = [
    "http://testserver/accounts/oidc/campus/login/callback/",
    "http://localhost/accounts/oidc/campus/login/callback/",
]


@pytest.fixture(scope="session")
def dev_idp(tmp_path_factory):
    with DevOIDCProvider(
        tmp_path_factory.mktemp("dev_idp"),
        client_id=CLIENT_ID,
        secret=CLIENT_SECRET,
        redirect_uris=CALLBACKS,
    ) as idp:
        yield idp


@pytest.fixture
def oidc_configured(settings, dev_idp):
    settings.SOCIALACCOUNT_PROVIDERS = oidc_providers(dev_idp.issuer)
    return dev_idp
