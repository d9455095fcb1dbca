"""Root URL configuration: the reader portal, allauth's login pages, admin and language switch."""

from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("", include("requests_app.urls")),
    path("", include("readers.urls")),
    path("accounts/", include("allauth.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
]

admin.site.site_header = "ILL Reader Gateway"
admin.site.site_title = "ILL Reader Gateway"
