"""The gateway's URLs plus the bare baseline view, which exists only on the benchmark's server."""

from django.urls import path

from illgateway.urls import urlpatterns as gateway_urlpatterns

from .views import bare

urlpatterns = [path("bench/bare/", bare, name="bench_bare"), *gateway_urlpatterns]
