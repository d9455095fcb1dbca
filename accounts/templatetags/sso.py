"""`{% sso_buttons %}`: one button per campus login, or the institution chooser when there
are more than SSO_BUTTONS_MAX of them (a federation)."""

from django import template
from django.conf import settings
from django.utils.http import url_has_allowed_host_and_scheme

from accounts.chooser import campus_logins, last_choice

register = template.Library()


@register.inclusion_tag("accounts/sso_buttons.html", takes_context=True)
def sso_buttons(context):
    request = context["request"]
    next_url = request.GET.get("next", "")
    if not url_has_allowed_host_and_scheme(next_url, allowed_hosts={request.get_host()}):
        next_url = ""
    logins = campus_logins(request)
    chooser = len(logins) > settings.SSO_BUTTONS_MAX
    if chooser:
        last = last_choice(request, logins)
        shown = [last] if last else []
    else:
        shown = logins
    kwargs = {"next": next_url} if next_url else {}
    providers = [
        {"label": login["name"], "login_url": login["provider"].get_login_url(request, **kwargs)}
        for login in shown
    ]
    return {
        "sso_providers": providers,
        "chooser": chooser,
        "csrf_token": context.get("csrf_token"),
    }
