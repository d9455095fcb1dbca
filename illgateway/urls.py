"""Root URL configuration: the reader portal, allauth's login pages, admin and language switch."""

from allauth.account.decorators import secure_admin_login
from django.conf import settings
from django.contrib import admin
from django.urls import include, path
from django.utils.translation import gettext_lazy as _
from django.views.generic import RedirectView

from accounts.chooser import institutions
from accounts.logout import logged_out
from accounts.views import not_offered, set_language
from requests_app.statistics import statistics_csv_view, statistics_view

# Before admin.site.urls is read below: it binds the login view when it builds its patterns.
admin.site.login = secure_admin_login(admin.site.login)

urlpatterns = [
    path("", include("requests_app.urls")),
    path("", include("accounts.urls")),
    path("", include("readers.urls")),
    path("accounts/email/", not_offered),
    path("accounts/password/set/", not_offered),
    path("accounts/3rdparty/", not_offered),
    path("accounts/logged-out/", logged_out, name="sso_logged_out"),
    path("accounts/institutions/", institutions, name="sso_institutions"),
    path("accounts/", include("allauth.urls")),
    path("i18n/setlang/", set_language, name="set_language"),
    # The back office has no password forms of its own: staff log in and change their password
    # through the portal's forms, which are throttled (and the admin's are not).
    path(
        f"{settings.ADMIN_PATH}/password_change/",
        RedirectView.as_view(pattern_name="account_change_password"),
    ),
    # The ILL office's statistics: admin pages (staff login, the admin's look), linked from the
    # dashboard; each view checks the office's permission.
    path(
        f"{settings.ADMIN_PATH}/statistics/",
        admin.site.admin_view(statistics_view),
        name="request_statistics",
    ),
    path(
        f"{settings.ADMIN_PATH}/statistics/csv/",
        admin.site.admin_view(statistics_csv_view),
        name="request_statistics_csv",
    ),
    # ADMIN_PATH: "admin" unless the environment names another path.
    path(f"{settings.ADMIN_PATH}/", admin.site.urls),
]

admin.site.site_header = _("ILL Reader Gateway: back office")
admin.site.site_title = _("ILL Reader Gateway")
admin.site.index_title = _("ILL office")
