"""Settings of the ILL Reader Gateway, read from the environment (and an optional `.env` file).

With no environment at all this is *not* a production setup: production is what runs with
`DEBUG` off, and it refuses to start without a real `SECRET_KEY` and `ALLOWED_HOSTS`. For local
work, `DEBUG=true` gives a working portal on SQLite under `var/` (that is what `make run` does).
"""

from decimal import Decimal
from pathlib import Path

import environ
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured

from core.sso_config import federation_from_env, providers_from_env

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = BASE_DIR / "var"

env = environ.Env()
if (BASE_DIR / ".env").is_file():
    environ.Env.read_env(BASE_DIR / ".env")

DEBUG = env.bool("DEBUG", default=False)

# --- Production guard --------------------------------------------------------------------------

_DEV_SECRET_KEY = "django-insecure-development-only-never-use-in-production"


def _is_real_secret_key(key: str) -> bool:
    return len(key) >= 32 and not key.startswith("django-insecure") and len(set(key)) >= 5


SECRET_KEY = env.str("SECRET_KEY", default="")
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=[])

if not DEBUG:
    missing = []
    if not _is_real_secret_key(SECRET_KEY):
        missing.append(
            "SECRET_KEY (set it to a long random string, at least 32 characters, e.g. from "
            "`python -c 'import secrets; print(secrets.token_urlsafe(50))'`)"
        )
    if not ALLOWED_HOSTS:
        missing.append("ALLOWED_HOSTS (the host names this portal answers to, comma separated)")
    if missing:
        raise ImproperlyConfigured(
            "DEBUG is off, so this is a production start, and it needs: "
            + "; ".join(missing)
            + ". For local development set DEBUG=true instead."
        )
else:
    SECRET_KEY = SECRET_KEY or _DEV_SECRET_KEY
    ALLOWED_HOSTS = ALLOWED_HOSTS or ["127.0.0.1", "localhost", "[::1]"]

CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

# --- Applications ------------------------------------------------------------------------------

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django_tasks",
    "illgateway.apps.TasksDatabaseConfig",
    "csp",
    "auditlog",
    "allauth",
    "allauth.account",
    "allauth.socialaccount",
    "allauth.socialaccount.providers.openid_connect",
    "allauth.socialaccount.providers.saml",
    "accounts",
    "readers",
    "requests_app",
    # Last: the admin site's parts that belong to no one app (illgateway/admin.py).
    "illgateway",
]

MIDDLEWARE = [
    # First: one log line per request (its duration includes everything below), and the load
    # balancer's health check, answered before the host check, the HTTPS redirect and sessions.
    "illgateway.middleware.RequestLogMiddleware",
    "illgateway.health.HealthCheckMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "csp.middleware.CSPMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "illgateway.middleware.NoStoreForSignedInMiddleware",
    "illgateway.middleware.BadInputMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    # After authentication: the audit trail records the signed-in user as the actor.
    "illgateway.middleware.AuditActorMiddleware",
    "illgateway.middleware.MethodNotAllowedPageMiddleware",
    # After authentication: the public account's guests are kept out of the reader pages.
    "illgateway.middleware.PublicAccountMiddleware",
]

ROOT_URLCONF = "illgateway.urls"
# Where the back office is served: a path of its own makes it less of a target for scans.
ADMIN_PATH = env.str("ADMIN_PATH", default="admin").strip("/")
if not ADMIN_PATH or not all(
    part.isascii() and part.replace("-", "").replace("_", "").isalnum()
    for part in ADMIN_PATH.split("/")
):
    raise ImproperlyConfigured(
        "ADMIN_PATH must be a path like 'back-office' or 'staff/admin' (letters, digits, - and _)"
    )
WSGI_APPLICATION = "illgateway.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "readers.context_processors.reader",
                "accounts.context_processors.guest",
            ],
        },
    },
]

# --- Data --------------------------------------------------------------------------------------

VAR_DIR.mkdir(exist_ok=True)
DATABASES = {
    "default": env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'db.sqlite3'}"),
}
DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("CONN_MAX_AGE", default=0))
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# The database cache works on every supported database and is shared by every process and
# server, which the login throttle needs (a per-process cache would multiply the allowance).
CACHES = {
    "default": env.cache("CACHE_URL", default="dbcache://django_cache"),
    # The page layout's parts that are the same for everyone of a language and a kind
    # (templates/base.html, `{% cache %}`): in each process's memory, never in the database
    # (a query per fragment would cost more than rendering it). They depend only on the code,
    # the translations and the settings, which change only with a restart; in development
    # (DEBUG) nothing is kept, so that an edited template shows at once.
    "template_fragments": {
        "BACKEND": "django.core.cache.backends.dummy.DummyCache"
        if DEBUG
        else "django.core.cache.backends.locmem.LocMemCache",
        "LOCATION": "template-fragments",
    },
}

# --- Authentication ----------------------------------------------------------------------------

AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# Django's defaults first (the first one hashes new passwords), then the wrappers of the old ILL
# system's passwords (accounts/hashers.py), which upgrade to the first on first use.
LEGACY_PASSWORD_HASHERS = [
    "accounts.hashers.LegacyPlainPasswordHasher",
    "accounts.hashers.LegacyMD5PasswordHasher",
    "accounts.hashers.LegacySHA1PasswordHasher",
]
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2SHA1PasswordHasher",
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.BCryptSHA256PasswordHasher",
    "django.contrib.auth.hashers.ScryptPasswordHasher",
    *LEGACY_PASSWORD_HASHERS,
]
# PBKDF2 iterations of the wrapped old passwords (accounts/hashers.py explains the number).
LEGACY_PASSWORD_ITERATIONS = env.int("LEGACY_PASSWORD_ITERATIONS", default=100_000)
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "home"

ACCOUNT_ADAPTER = "accounts.adapters.AccountAdapter"
ACCOUNT_LOGIN_METHODS = {"username"}
ACCOUNT_SIGNUP_FIELDS = ["username*", "email*", "password1*", "password2*"]
ACCOUNT_EMAIL_VERIFICATION = "none"
ACCOUNT_LOGOUT_ON_GET = False
ACCOUNT_LOGOUT_REDIRECT_URL = "home"
ACCOUNT_PRESERVE_USERNAME_CASING = False
ACCOUNT_SESSION_REMEMBER = None
# Failed logins: per account (key) and per address (ip). The lock ends by itself when the
# window has passed.
ACCOUNT_RATE_LIMITS = {
    "login_failed": env.str("LOGIN_FAILED_RATE", default="20/5m/ip,5/5m/key"),
    # The public account's "send me my links" (requests_app/guest_views.py): per client address
    # and per e-mail address asked for.
    "guest_links": env.str("GUEST_LINKS_RATE", default="10/1h/ip,3/1h/key"),
}
# Behind a reverse proxy every connection comes from the proxy: the rate limits above must count
# the client the proxy names, or 20 wrong logins would lock out everyone. TRUSTED_PROXY_COUNT is
# how many proxies append to X-Forwarded-For (the client is that many entries from the right,
# so what a client writes there itself is never trusted); TRUSTED_CLIENT_IP_HEADER instead
# names a header the proxy sets to the client's address (X-Real-IP), where it overwrites it.
ALLAUTH_TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", default=0)
ALLAUTH_TRUSTED_CLIENT_IP_HEADER = env.str("TRUSTED_CLIENT_IP_HEADER", default="") or None

# The audit trail (django-auditlog): every change to what staff edit, who made it and from
# where. The address is the client's as the login throttle reads it (see AuditActorMiddleware),
# never the first entry of an X-Forwarded-For a client can write itself.
# No tracked model holds a password; a model that comes to be tracked and has one must list it
# in its exclude_fields (auditlog's global AUDITLOG_EXCLUDE_TRACKING_FIELDS needs every model
# tracked). Auditlog tracks reverse relations as if they were fields (an entry then records
# `history` as "requests_app.StatusChange.None"): each tracked model leaves its own out, and a
# test fails when a new one is not.
AUDITLOG_INCLUDE_TRACKING_MODELS = (
    {
        "model": "readers.Reader",
        "exclude_fields": [
            "ledger_entries",
            "ledger_account",
            "legacy_accounts",
            "loginemailchange",
            "notices",
            "ill_requests",
            "kept_citations",
        ],
    },
    {"model": "readers.Notice"},
    {"model": "readers.Page", "exclude_fields": ["updated_at"]},
    {
        "model": "requests_app.IllRequest",
        "exclude_fields": [
            "title_key",
            "submission_token",
            "updated_at",
            # A guest's secrets stay out of the audit trail staff read.
            "guest_session",
            "guest_link_nonce",
            "guest_client",
            # Not a column but the delivered file's side of its one-to-one: a new request has
            # none, yet the entry of its creation read it, one query per submit (issue 14).
            # The delivery has entries of its own, as have the fee lines and payments.
            "delivery",
            "fee_lines",
            "history",
            "guest_payments",
        ],
    },
    {"model": "requests_app.FeeLine"},
    {"model": "requests_app.Supplier", "exclude_fields": ["ill_requests"]},
    {"model": "requests_app.GuestPayment"},
    # The reader's downloads are counted by UPDATE, not saved: the trail holds staff's file
    # (attached, by whom) and its removal by purge_deliveries.
    {"model": "requests_app.Delivery", "exclude_fields": ["stored_name"]},
    {"model": "accounts.LedgerEntry", "exclude_fields": ["counterpart_of"]},
    # Who linked an old account to which reader, when (the import's bulk writes are not logged).
    {
        "model": "accounts.LegacyAccount",
        "exclude_fields": [
            "password",
            "fingerprint",
            "imported_at",
            "ledger_entries",
            "ill_requests",
        ],
    },
)
AUDITLOG_DISABLE_ON_RAW_SAVE = True

ACCOUNT_FORMS = {
    "signup": "accounts.forms.OffCampusSignupForm",
    "reset_password": "accounts.forms.PasswordResetForm",
}
ACCOUNT_USER_DISPLAY = "accounts.adapters.user_display"
# One person may own several accounts (old data has them), and above all a campus identity must
# never be matched to an existing account by its e-mail: e-mail addresses are not unique keys.
ACCOUNT_UNIQUE_EMAIL = False
SOCIALACCOUNT_ADAPTER = "accounts.adapters.SocialAccountAdapter"
SOCIALACCOUNT_FORMS = {"signup": "accounts.forms.CampusSignupForm"}
SOCIALACCOUNT_AUTO_SIGNUP = False
SOCIALACCOUNT_EMAIL_REQUIRED = True
SOCIALACCOUNT_EMAIL_VERIFICATION = "none"
SOCIALACCOUNT_EMAIL_AUTHENTICATION = False
SOCIALACCOUNT_EMAIL_AUTHENTICATION_AUTO_CONNECT = False
SOCIALACCOUNT_LOGIN_ON_GET = False
SOCIALACCOUNT_STORE_TOKENS = False
# Campus identity providers, from JSON in the environment (see accounts/sso.py and the README).
SOCIALACCOUNT_PROVIDERS = providers_from_env(
    env.str("OIDC_PROVIDERS", default=""), env.str("SAML_PROVIDERS", default="")
)
# The gateway's side of the federation IdPs that `manage.py sync_federation` keeps in the
# database (SP entity ID, key pair, attributes), and how many campus logins the login page shows
# as buttons before it offers the institution chooser instead.
SAML_FEDERATION = federation_from_env(env.str("SAML_FEDERATION", default=""))
SSO_BUTTONS_MAX = env.int("SSO_BUTTONS_MAX", default=5)

# --- Internationalisation ----------------------------------------------------------------------

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = env.str("TIME_ZONE", default="Asia/Shanghai")
USE_I18N = True
USE_TZ = True

# --- Static files ------------------------------------------------------------------------------

STATIC_URL = "static/"
STATIC_ROOT = env.path("STATIC_ROOT", default=BASE_DIR / "staticfiles")
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}
MEDIA_ROOT = env.path("MEDIA_ROOT", default=VAR_DIR / "media")


def delivery_storage(environment) -> dict:
    """Where delivered PDFs are kept (SPEC 4.6): the STORAGES entry "deliveries".

    Local disk under DELIVERY_ROOT by default (give every application server the same shared
    folder), or an S3-compatible object store when DELIVERY_S3_BUCKET is set (that needs
    `pip install "django-storages[s3]"`, see the README). Either way the files have no public
    address: the portal streams them to their reader only (`requests_app.delivery`).
    """
    bucket = environment.str("DELIVERY_S3_BUCKET", default="")
    if not bucket:
        return {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            # No base_url: nothing builds a URL to these files, and no web server serves them.
            "OPTIONS": {
                "location": str(
                    environment.path("DELIVERY_ROOT", default=Path(str(MEDIA_ROOT)) / "deliveries")
                ),
                "base_url": "/no-public-url/",
                "file_permissions_mode": 0o600,
                "directory_permissions_mode": 0o700,
            },
        }
    options = {
        "bucket_name": bucket,
        "location": environment.str("DELIVERY_S3_PREFIX", default="deliveries"),
        # Private objects; the portal reads them with its own credentials and streams them.
        "default_acl": "private",
        "querystring_auth": True,
        "file_overwrite": False,
    }
    for option, variable in [
        ("endpoint_url", "DELIVERY_S3_ENDPOINT_URL"),
        ("region_name", "DELIVERY_S3_REGION"),
        ("access_key", "DELIVERY_S3_ACCESS_KEY"),
        ("secret_key", "DELIVERY_S3_SECRET_KEY"),
    ]:
        value = environment.str(variable, default="")
        if value:
            options[option] = value
    return {"BACKEND": "storages.backends.s3.S3Storage", "OPTIONS": options}


STORAGES["deliveries"] = delivery_storage(env)

# --- E-mail ------------------------------------------------------------------------------------

vars().update(env.email_url("EMAIL_URL", default="consolemail://"))
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="ILL office <ill@localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
# The portal's public address, for links in e-mails (which have no request to build them from).
SITE_URL = env.str("SITE_URL", default="http://127.0.0.1:8000").rstrip("/")

# E-mails are sent through Django's tasks API (the django-tasks backport on Django 5.2). In
# production the database backend queues them for `manage.py db_worker`; in development they
# are sent at once (on the console).
TASKS = {
    "default": {
        "BACKEND": env.str(
            "TASKS_BACKEND",
            default="django_tasks.backends.immediate.ImmediateBackend"
            if DEBUG
            else "django_tasks_db.DatabaseBackend",
        )
    }
}
MAIL_MAX_ATTEMPTS = env.int("MAIL_MAX_ATTEMPTS", default=5)
MAIL_RETRY_SECONDS = env.int("MAIL_RETRY_SECONDS", default=60)

# --- Security in production --------------------------------------------------------------------

BEHIND_HTTPS_PROXY = env.bool("BEHIND_HTTPS_PROXY", default=False)
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if BEHIND_HTTPS_PROXY else None
# Served over HTTPS: plain HTTP is redirected, and browsers are told to use HTTPS only (HSTS)
# for HSTS_SECONDS (a year by default; 0 sends no HSTS). Subdomains of the portal's own host are
# included. Preloading is the owner of the whole domain's decision, so it is off by default,
# and Django's reminder about it (security.W021) is silenced while it is.
SECURE_SSL_REDIRECT = BEHIND_HTTPS_PROXY
SECURE_HSTS_SECONDS = env.int("HSTS_SECONDS", default=31_536_000) if BEHIND_HTTPS_PROXY else 0
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("HSTS_INCLUDE_SUBDOMAINS", default=True)
SECURE_HSTS_PRELOAD = env.bool("HSTS_PRELOAD", default=False)
SILENCED_SYSTEM_CHECKS = [] if SECURE_HSTS_PRELOAD else ["security.W021"]
# The embedded SQLite database builds the covering indexes (Notice, IllRequest) without their
# INCLUDE columns: a difference of speed only, and PostgreSQL, where speed counts, has them.
# Django's reminder of it (models.W040) would greet every `make run`.
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    SILENCED_SYSTEM_CHECKS.append("models.W040")
SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = env.bool("SECURE_COOKIES", default=not DEBUG)
SESSION_COOKIE_HTTPONLY = True
# The language switch's cookie, like the session's: same-site, and secure when cookies are.
LANGUAGE_COOKIE_SAMESITE = "Lax"
LANGUAGE_COOKIE_SECURE = SESSION_COOKIE_SECURE
LANGUAGE_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"
CSRF_FAILURE_VIEW = "accounts.views.csrf_failure"

# Content-Security-Policy on every page, the admin's included: scripts, styles, images and fonts
# come only from the portal itself, never inline, never from another origin (django-csp).
# No form-action: the single sign-on buttons post to the portal, which redirects the browser to
# the identity provider's authorisation endpoint (found by OIDC discovery or SAML metadata, so
# its origin is not known here), and browsers apply form-action to that redirect too.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF],
        "font-src": [SELF],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [NONE],
        "frame-ancestors": [NONE],
    }
}

# --- The gateway -------------------------------------------------------------------------------

# The library's name, shown in the header and e-mails.
LIBRARY_NAME = env.str("LIBRARY_NAME", default="")
NOTICES_PER_PAGE = 20
# What an urgent request (加急) costs the reader on top, per item, in yuan.
# Money is never a float: read the text and make it a Decimal.
try:
    URGENT_SURCHARGE = Decimal(env.str("URGENT_SURCHARGE", default="10.00")).quantize(
        Decimal("0.01")
    )
except ArithmeticError as exc:
    raise ImproperlyConfigured("URGENT_SURCHARGE must be an amount in yuan, like 10.00") from exc
if URGENT_SURCHARGE < 0:
    raise ImproperlyConfigured("URGENT_SURCHARGE cannot be negative")
REQUESTS_PER_PAGE = 20
# A reader whose prepaid balance is below zero cannot submit requests until it is settled.
BLOCK_REQUESTS_WHEN_OWING = env.bool("BLOCK_REQUESTS_WHEN_OWING", default=True)
# A reader whose first login links an active old account is confirmed as that account was; with
# this on, staff confirm them like a new registration instead.
LEGACY_LINK_NEEDS_CONFIRMATION = env.bool("LEGACY_LINK_NEEDS_CONFIRMATION", default=False)
# How long a proven old password stays good for the confirmation step (账户信息确认), seconds.
LEGACY_LINK_PROOF_SECONDS = 15 * 60

# The public account's guests (README "The public account"): how many requests one guest
# session, one e-mail address and one client address may submit in GUEST_LIMIT_HOURS, and how
# often "send me my links" may be asked (GUEST_LINKS_RATE in ACCOUNT_RATE_LIMITS above).
GUEST_REQUESTS_PER_SESSION = env.int("GUEST_REQUESTS_PER_SESSION", default=10)
GUEST_REQUESTS_PER_EMAIL = env.int("GUEST_REQUESTS_PER_EMAIL", default=10)
GUEST_REQUESTS_PER_ADDRESS = env.int("GUEST_REQUESTS_PER_ADDRESS", default=30)
GUEST_LIMIT_HOURS = env.int("GUEST_LIMIT_HOURS", default=24)
LEDGER_ENTRIES_PER_PAGE = 25

# Electronic delivery (SPEC 4.6): the PDF staff attach to a copy request, how large it may be,
# and for how long and how often its reader may download it (fixed on each delivery when it is
# made, so that changing these later does not change what a reader was told).
DELIVERY_MAX_MB = env.int("DELIVERY_MAX_MB", default=50)
DELIVERY_DAYS = env.int("DELIVERY_DAYS", default=30)
DELIVERY_MAX_DOWNLOADS = env.int("DELIVERY_MAX_DOWNLOADS", default=5)
for _name in ("DELIVERY_MAX_MB", "DELIVERY_DAYS", "DELIVERY_MAX_DOWNLOADS"):
    if vars()[_name] < 1:
        raise ImproperlyConfigured(f"{_name} must be 1 or more")
# Uploads above this size go to a temporary file rather than memory (Django's default 2.5 MB);
# file uploads do not count towards DATA_UPLOAD_MAX_MEMORY_SIZE, so the PDF's own limit above is
# the one that applies (set the reverse proxy's body limit, e.g. nginx client_max_body_size,
# a little above DELIVERY_MAX_MB).
FILE_UPLOAD_MAX_MEMORY_SIZE = 2_621_440

# The health check (/healthz): how long the oldest e-mail may wait in the queue, in seconds,
# before the check fails (the worker is down or stuck).
HEALTH_MAIL_MAX_AGE = env.int("HEALTH_MAIL_MAX_AGE", default=900)

# Logs go to standard error (systemd's journal), one line per record; LOG_FORMAT=json writes
# each as one JSON object for a log collector. RequestLogMiddleware writes one line per request
# (method, path, status, duration) on the logger "illgateway.request".
LOG_FORMAT = env.str("LOG_FORMAT", default="text")
if LOG_FORMAT not in ("text", "json"):
    raise ImproperlyConfigured("LOG_FORMAT must be text or json")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "text": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
        "json": {"()": "illgateway.logformat.JsonFormatter"},
    },
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": LOG_FORMAT}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {
        # Two lines per task run is noise; failed e-mails are logged by core.mail.
        "django_tasks": {"level": "WARNING"},
        # Django's own line per 4xx/5xx would repeat the request line (errors still log).
        "django.request": {"level": "ERROR"},
        "django.server": {"level": "WARNING"},
    },
}
