from django.urls import include, path

from . import views

urlpatterns = [
    path("", views.index, name="dev_idp_index"),
    path("sign-in/", views.sign_in, name="dev_idp_sign_in"),
    # allauth's OpenID Connect provider: discovery, authorize, token, userinfo, logout.
    path("", include("allauth.idp.urls")),
]
