"""`{% sso_buttons %}`: one button per configured campus identity provider."""

from allauth.socialaccount.adapter import get_adapter
from django import template
from django.utils.http import url_has_allowed_host_and_scheme

register = template.Library()


@register.inclusion_tag("accounts/sso_buttons.html", takes_context=True)
def sso_buttons(context):
    request = context["request"]
    next_url = request.GET.get("next", "")
    if not url_has_allowed_host_and_scheme(next_url, allowed_hosts={request.get_host()}):
        next_url = ""
    providers = []
    for provider in get_adapter().list_providers(request):
        kwargs = {"next": next_url} if next_url else {}
        providers.append(
            {"label": provider.name, "login_url": provider.get_login_url(request, **kwargs)}
        )
    return {"sso_providers": providers, "csrf_token": context.get("csrf_token")}
