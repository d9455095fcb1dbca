"""The gateway's SAML and OpenID Connect providers, in place of allauth's.

allauth's provider registry imports `<app>.provider` of every installed app, in the order of
INSTALLED_APPS, and keeps the last class per id: "accounts" comes after allauth's SAML and
OpenID Connect apps, so these classes (same ids) replace theirs, and allauth.urls includes
their URL modules (`package`). tests/accounts/test_sso_failures.py checks that it does.
"""

from .oidc.provider import CampusOIDCProvider
from .saml.provider import CampusSAMLProvider

provider_classes = [CampusSAMLProvider, CampusOIDCProvider]
