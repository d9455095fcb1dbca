"""allauth's SAML provider, building its python3-saml settings through accounts.saml.config."""

from allauth.socialaccount.providers.saml.provider import SAMLProvider
from django.http import HttpResponseRedirect

from .config import build_auth


class CampusSAMLProvider(SAMLProvider):
    # URLs (and so the views) come from accounts/saml/urls.py.
    package = "accounts.saml"

    def redirect(self, request, process, next_url=None, data=None, **kwargs):
        auth = build_auth(request, self)
        redirect = auth.login(return_to="")
        self.stash_redirect_state(
            request, process, next_url, data, state_id=auth.get_last_request_id(), **kwargs
        )
        return HttpResponseRedirect(redirect)
