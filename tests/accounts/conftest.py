"""Fixtures of the single sign-on tests: a running development IdP, configured providers."""

import pytest

from tests.accounts.sso_helpers import oidc_providers, running_dev_idp


@pytest.fixture(scope="session")
def dev_idp(tmp_path_factory):
    yield from running_dev_idp(tmp_path_factory)


@pytest.fixture
def oidc_configured(settings, dev_idp):
    settings.SOCIALACCOUNT_PROVIDERS = oidc_providers(dev_idp.issuer)
    return dev_idp
