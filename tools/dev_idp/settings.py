"""Settings of the development identity provider: a second, tiny Django project that serves
django-allauth's OpenID Connect provider (`allauth.idp.oidc`) for `make run` and the tests.

It shares nothing with the gateway's settings: its own SQLite database (`DEV_IDP_DB`, default
`var/dev_idp.sqlite3`), its own RS256 signing key (a file beside the database, made on first
use), its own cookie names (the gateway and the IdP both run on 127.0.0.1, and browsers do not
separate cookies by port). Development only: anyone who reaches it signs in as any demo identity.
"""

import os
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

BASE_DIR = Path(__file__).resolve().parent.parent.parent
DATABASE_PATH = Path(os.environ.get("DEV_IDP_DB") or BASE_DIR / "var" / "dev_idp.sqlite3")
KEY_PATH = DATABASE_PATH.with_name(DATABASE_PATH.name + ".key.pem")


def _signing_key(path: Path) -> str:
    """The IdP's private key, kept beside its database so that ID tokens issued before a restart
    (the gateway keeps one for the logout at the IdP) still verify."""
    if not path.exists():
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        pem = key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            with open(path, "xb") as file:  # another process may have been first
                file.write(pem)
        except FileExistsError:
            pass
    return path.read_text()


# A development tool with demo identities and no passwords: the secret protects nothing else.
SECRET_KEY = "dev-idp-not-a-secret-development-only"
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost", "[::1]"]

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "allauth",
    "allauth.account",
    "allauth.idp.oidc",
    "tools.dev_idp",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "allauth.account.middleware.AccountMiddleware",
]

ROOT_URLCONF = "tools.dev_idp.urls"
TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ]
        },
    }
]

DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": DATABASE_PATH,
        # The server answers from threads; a write waits for another instead of failing.
        "OPTIONS": {"timeout": 20, "transaction_mode": "IMMEDIATE"},
    }
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
USE_TZ = True
LANGUAGE_CODE = "en"

SESSION_COOKIE_NAME = "dev_idp_sessionid"
CSRF_COOKIE_NAME = "dev_idp_csrftoken"
LOGIN_URL = "dev_idp_sign_in"

IDP_OIDC_PRIVATE_KEY = _signing_key(KEY_PATH)
IDP_OIDC_ADAPTER = "tools.dev_idp.adapter.DemoIdentityAdapter"
# How the client may authenticate at the token endpoint. Both by default; the tests narrow it
# (DEV_IDP_TOKEN_AUTH_METHODS=client_secret_basic) to play an IdP that accepts only one.
IDP_OIDC_AUTH_METHODS = os.environ.get(
    "DEV_IDP_TOKEN_AUTH_METHODS", "client_secret_basic client_secret_post"
).split()
# The gateway sends the ID token it was given (id_token_hint): the IdP ends its own session
# straight away instead of asking, as a campus IdP set up for shared terminals does.
IDP_OIDC_RP_INITIATED_LOGOUT_ASKS_FOR_OP_LOGOUT = False
# The client secret is stored hashed; the development secret is public, so a fast hash keeps
# each token request quick instead of spending PBKDF2's work on it.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
