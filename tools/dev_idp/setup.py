"""Make the development IdP's database ready: the gateway as a client, the demo identities."""

from allauth.idp.oidc.models import Client
from django.contrib.auth import get_user_model
from django.db import transaction

from .identities import DEMO_IDENTITIES


@transaction.atomic
def dev_idp_setup(*, client_id: str, secret: str, redirect_uris: list[str]) -> Client:
    """Create or update the gateway's client and the demo identities (idempotent)."""
    client = Client.objects.filter(id=client_id).first() or Client(id=client_id)
    client.name = "ILL Reader Gateway (development)"
    client.type = Client.Type.CONFIDENTIAL
    client.set_secret(secret)
    client.set_scopes(["openid", "profile", "email"])
    client.set_grant_types([Client.GrantType.AUTHORIZATION_CODE])
    client.set_response_types([Client.ResponseType.CODE])
    # Logging out may return to any page of the same origin as a redirect URI (allauth checks
    # post_logout_redirect_uri against these origins when none are registered on their own).
    client.set_redirect_uris(list(dict.fromkeys(redirect_uris)))
    # A campus IdP asks nothing of a reader who signed in: the gateway is trusted.
    client.skip_consent = True
    client.full_clean()
    client.save()

    User = get_user_model()
    for identity in DEMO_IDENTITIES:
        user, created = User.objects.get_or_create(username=identity.sub)
        if created:
            user.set_unusable_password()
            user.save()
    return client
