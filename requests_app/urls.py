from django.urls import path

from . import views

urlpatterns = [
    path("openurl", views.openurl, name="openurl"),
    path("requests/", views.request_list, name="request_list"),
    path("requests/new/", views.request_submit, name="request_submit"),
    path("requests/<int:number>/", views.request_detail, name="request_detail"),
    path("requests/<int:number>/cancel/", views.request_cancel, name="request_cancel"),
    path(
        "requests/<int:number>/ask-cancellation/",
        views.request_ask_cancellation,
        name="request_ask_cancellation",
    ),
    path(
        "requests/<int:number>/accept-quote/",
        views.request_accept_quote,
        name="request_accept_quote",
    ),
    path(
        "requests/<int:number>/decline-quote/",
        views.request_decline_quote,
        name="request_decline_quote",
    ),
    path("requests/<int:number>/copy/", views.request_copy, name="request_copy"),
    path("legacy/", views.legacy_requests, name="legacy_data"),
]
