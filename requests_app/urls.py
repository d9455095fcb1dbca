from django.urls import path

from . import guest_views, views

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
    # The public account's guests (guest_views.py).
    path("guest/requests/", guest_views.guest_list, name="guest_list"),
    path("guest/requests/new/", guest_views.guest_submit, name="guest_submit"),
    path("guest/links/", guest_views.guest_links, name="guest_links"),
    path("guest/openurl", guest_views.guest_openurl, name="guest_openurl"),
    path("guest/r/<int:number>/<str:key>/", guest_views.guest_request, name="guest_request"),
    path(
        "guest/r/<int:number>/<str:key>/cancel/",
        guest_views.guest_cancel,
        name="guest_cancel",
    ),
    path(
        "guest/r/<int:number>/<str:key>/ask-cancellation/",
        guest_views.guest_ask_cancellation,
        name="guest_ask_cancellation",
    ),
    path(
        "guest/r/<int:number>/<str:key>/accept-quote/",
        guest_views.guest_accept_quote,
        name="guest_accept_quote",
    ),
    path(
        "guest/r/<int:number>/<str:key>/decline-quote/",
        guest_views.guest_decline_quote,
        name="guest_decline_quote",
    ),
    path(
        "guest/r/<int:number>/<str:key>/delivery/",
        guest_views.guest_delivery_statement,
        name="guest_delivery_statement",
    ),
    path(
        "guest/r/<int:number>/<str:key>/delivery/download/",
        guest_views.guest_delivery_download,
        name="guest_delivery_download",
    ),
    path(
        "requests/<int:number>/delivery/",
        views.delivery_statement,
        name="delivery_statement",
    ),
    path(
        "requests/<int:number>/delivery/download/",
        views.delivery_download,
        name="delivery_download",
    ),
    path("legacy/", views.legacy_requests, name="legacy_data"),
]
