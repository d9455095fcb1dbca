"""The institution chooser (a discovery page): find your university by a few letters of its
name in Chinese or English, pick it, and the choice is remembered for next time."""

from allauth.socialaccount.adapter import get_adapter
from django.conf import settings
from django.shortcuts import render
from django.views.decorators.http import require_http_methods

from accounts.oidc import views as oidc_views
from accounts.saml import views as saml_views

CHOICE_COOKIE = "sso_institution"
CHOICE_MAX_AGE = 365 * 24 * 60 * 60


def campus_logins(request) -> list[dict]:
    """Every campus login a reader may use (not those of IdPs that left a federation)."""
    logins = []
    for provider in get_adapter().list_providers(request):
        app_settings = provider.app.settings or {}
        if app_settings.get("hidden") or app_settings.get("disabled"):
            continue
        names = app_settings.get("names") or {}
        logins.append(
            {
                "id": provider.sub_id,
                "name": provider.name,
                "search": " ".join([provider.name, *names.values()]).casefold(),
                "login_url": provider.get_login_url(request),
                "provider": provider,
            }
        )
    return sorted(logins, key=lambda login: login["name"])


def last_choice(request, logins) -> dict | None:
    chosen = request.COOKIES.get(CHOICE_COOKIE)
    return next((login for login in logins if login["id"] == chosen), None)


def _start_login(request, login):
    provider = login["provider"]
    if provider.id == "saml":
        return saml_views.login(request, organization_slug=provider.app.client_id)
    return oidc_views.login(request, provider_id=provider.app.provider_id)


@require_http_methods(["GET", "POST"])
def institutions(request):
    logins = campus_logins(request)
    if request.method == "POST":
        chosen = request.POST.get("institution", "")
        login = next((login for login in logins if login["id"] == chosen), None)
        if login is not None:
            response = _start_login(request, login)
            response.set_cookie(
                CHOICE_COOKIE,
                login["id"],
                max_age=CHOICE_MAX_AGE,
                httponly=True,
                samesite="Lax",
                secure=settings.SESSION_COOKIE_SECURE,
            )
            return response
        status = 400
    else:
        status = 200
    query = request.GET.get("q", "").strip()[:100]
    found = [login for login in logins if query.casefold() in login["search"]]
    return render(
        request,
        "accounts/institutions.html",
        {
            "query": query,
            "found": found,
            "total": len(logins),
            "last": last_choice(request, logins),
            "not_found": status == 400,
        },
        status=status,
    )
