"""Root URL configuration: the reader portal, allauth's login pages, admin and language switch."""

from django.contrib import admin
from django.urls import include, path
from django.utils.translation import gettext_lazy as _

from accounts.chooser import institutions
from accounts.logout import logged_out
from accounts.views import not_offered, set_language

urlpatterns = [
    path("", include("requests_app.urls")),
    path("", include("readers.urls")),
    path("accounts/email/", not_offered),
    path("accounts/password/set/", not_offered),
    path("accounts/3rdparty/", not_offered),
    path("accounts/logged-out/", logged_out, name="sso_logged_out"),
    path("accounts/institutions/", institutions, name="sso_institutions"),
    path("accounts/", include("allauth.urls")),
    path("i18n/setlang/", set_language, name="set_language"),
    path("admin/", admin.site.urls),
]

admin.site.site_header = _("ILL Reader Gateway: back office")
admin.site.site_title = _("ILL Reader Gateway")
admin.site.index_title = _("ILL office")
