"""Settings of the benchmark's server: production settings (DEBUG off) on the benchmark's own
database, with the bare baseline view's URL added (bench/urls.py)."""

import os

os.environ.setdefault("DEBUG", "false")
os.environ.setdefault("SECRET_KEY", "bench-only-secret-key-0123456789-abcdefghijklmnop")
os.environ.setdefault("ALLOWED_HOSTS", "127.0.0.1,localhost")
# Plain HTTP on loopback: the client sends the cookies back without TLS.
os.environ.setdefault("SECURE_COOKIES", "false")
# Persistent connections, as a deployment behind gunicorn has them.
os.environ.setdefault("CONN_MAX_AGE", "60")
os.environ["DATABASE_URL"] = os.environ.get(
    "BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/bench"
)

from illgateway.settings import *  # noqa: E402, F403

ROOT_URLCONF = "bench.urls"
# The pages are measured, not their static files: no collectstatic manifest needed.
STORAGES["staticfiles"] = {  # noqa: F405
    "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
}
# E-mails are queued in the database as in production; no worker sends them here.
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
LOGGING = {"version": 1, "disable_existing_loggers": False}
