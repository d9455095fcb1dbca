"""allauth's OpenID Connect provider, releasing the demo identities' campus claims."""

from allauth.idp.oidc.adapter import DefaultOIDCAdapter
from django.contrib.auth import get_user_model

from .identities import BY_SUB, Identity


class DemoIdentityAdapter(DefaultOIDCAdapter):
    def get_user_sub(self, client, user):
        # The demo identity's own identifier, not the database id: the gateway links accounts by
        # it, so it must stay the same when the IdP's database is made again.
        return user.get_username()

    def get_user_by_sub(self, client, sub):
        return get_user_model().objects.filter(username=sub, is_active=True).first()

    def get_claims(self, purpose, user, client, scopes, email=None, **kwargs):
        identity = BY_SUB.get(user.get_username()) or Identity(sub=user.get_username())
        return identity.claims_for(set(scopes))
