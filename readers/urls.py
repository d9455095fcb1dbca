from django.urls import path

from . import views

urlpatterns = [
    path("", views.home, name="home"),
    path("notices/<int:pk>/", views.notice_detail, name="notice_detail"),
    path("help/", views.page, {"slug": "help"}, name="help"),
    path("about/", views.page, {"slug": "about"}, name="about"),
    path("fees/", views.page, {"slug": "fees"}, name="fees"),
    path("copyright/", views.page, {"slug": "copyright"}, name="copyright"),
    path("profile/", views.profile, name="profile"),
]
