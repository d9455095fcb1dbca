"""The OpenID Connect endpoints: allauth's, except that an unreachable or broken provider ends
on the gateway's failure page (accounts/failures.py) instead of a traceback."""

from allauth.account.internal.decorators import login_not_required
from allauth.socialaccount.models import SocialApp
from allauth.socialaccount.providers.oauth2.client import OAuth2Error
from allauth.socialaccount.providers.oauth2.views import OAuth2CallbackView, OAuth2LoginView
from django.http import Http404
from requests import RequestException

from accounts.failures import render_failure

from .provider import CampusOIDCAdapter


def _guarded(view_class):
    @login_not_required
    def view(request, provider_id):
        try:
            adapter = CampusOIDCAdapter(request, provider_id)
            provider = adapter.get_provider()
        except SocialApp.DoesNotExist:
            raise Http404 from None
        try:
            return view_class.adapter_view(adapter)(request)
        except (RequestException, OAuth2Error) as exc:
            # Discovery document unreachable, not JSON, or lacking an endpoint
            # (CampusOIDCAdapter.openid_config raises DiscoveryError then).
            return render_failure(
                request,
                provider_id=provider.sub_id,
                provider_name=provider.name,
                kind="unavailable",
                reason=f"{type(exc).__name__}: {exc}",
                login_url=provider.get_login_url(request),
            )

    return view


login = _guarded(OAuth2LoginView)
callback = _guarded(OAuth2CallbackView)
