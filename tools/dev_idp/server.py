"""A small, real OpenID Connect provider for local development and tests.

It implements the authorization-code flow (with PKCE) well enough for the
gateway's django-allauth ``openid_connect`` provider to talk to it exactly as
it would talk to a campus IdP, but instead of a password prompt it shows a
page where you pick one of a few demo campus identities.

Run it in the foreground::

    python -m tools.dev_idp.server --host 127.0.0.1 --port 8001

or from tests, in a background thread on a free port::

    with DevIdP() as idp:
        idp.issuer  # e.g. "http://127.0.0.1:53117"

Anyone who can reach it can sign in as anyone, so it is a development tool
only and must never be referenced from production settings.

Only the standard library HTTP server is used (no framework), plus
``cryptography`` for the signing key and PyJWT for the ID token.
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import hashlib
import hmac
import html
import json
import secrets
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, unquote_plus, urlencode, urlsplit, urlunsplit

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

__all__ = [
    "DEFAULT_CLIENT_ID",
    "DEFAULT_CLIENT_SECRET",
    "DEMO_IDENTITIES",
    "DevIdP",
    "Identity",
    "main",
]

DEFAULT_CLIENT_ID = "ill-gateway-dev"
DEFAULT_CLIENT_SECRET = "dev-secret"
# Redirect URIs are only accepted on loopback hosts: the IdP hands out codes
# for arbitrary identities, so it must not redirect them anywhere else.
DEFAULT_REDIRECT_HOSTS = ("127.0.0.1", "localhost")

CODE_TTL_SECONDS = 60
ACCESS_TOKEN_TTL_SECONDS = 3600
ID_TOKEN_TTL_SECONDS = 300
SCOPES_SUPPORTED = ("openid", "profile", "email")
# Claims this server sets itself; identity claims can never override them.
REGISTERED_CLAIMS = ("iss", "sub", "aud", "exp", "iat", "auth_time", "nonce", "jti", "at_hash")
MAX_BODY_BYTES = 64 * 1024
SESSION_COOKIE = "dev_idp_session"


@dataclass(frozen=True)
class Identity:
    """A demo campus identity offered on the sign-in page.

    ``sub`` is the stable subject identifier the gateway links accounts by;
    ``claims`` are released in both the ID token and the userinfo response.
    """

    sub: str
    label: str
    claims: Mapping[str, Any] = field(default_factory=dict)

    def userinfo(self) -> dict[str, Any]:
        """``sub`` plus the claims (a ``sub`` in ``claims`` is ignored)."""
        return {"sub": self.sub, **{k: v for k, v in self.claims.items() if k != "sub"}}


DEMO_IDENTITIES: tuple[Identity, ...] = (
    # CARSI (the Chinese research & education federation) usually releases
    # nothing but an opaque, persistent, per-service identifier and the home
    # organisation: no name, no e-mail. The gateway must cope with that.
    Identity(
        sub="8d4f2a61c0e94b7ab3d9e5f1a7c2e6d0",
        label="CARSI federated user (opaque identifier only)",
        claims={"schac_home_organization": "example.edu.cn"},
    ),
    # A campus that releases a full profile, including campus-specific claims.
    Identity(
        sub="dev-student-li-wen",
        label="Li Wen, history student (full profile)",
        claims={
            "name": "Li Wen",
            "family_name": "Li",
            "given_name": "Wen",
            "email": "li.wen@example.edu.cn",
            "email_verified": True,
            "student_id": "2023010123",
            "department": "School of History",
        },
    ),
    # Shares its (verified!) e-mail with the gateway's demo reader account, to
    # prove single sign-on never takes over an existing account by e-mail.
    Identity(
        sub="dev-demo-reader-lookalike",
        label="Campus user with the demo reader's e-mail address",
        claims={
            "name": "Demo Reader (campus account)",
            "email": "demo-reader@example.org",
            "email_verified": True,
        },
    ),
)


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _with_query(url: str, **params: str | None) -> str:
    """Append parameters to ``url``, keeping any query it already has."""
    parts = urlsplit(url)
    extra = urlencode({k: v for k, v in params.items() if v is not None})
    query = f"{parts.query}&{extra}" if parts.query else extra
    return urlunsplit(parts._replace(query=query))


@dataclass(frozen=True)
class _Reply:
    status: HTTPStatus
    body: bytes = b""
    content_type: str | None = None
    headers: Mapping[str, str] = field(default_factory=dict)


def _json_reply(
    status: HTTPStatus, payload: Any, headers: Mapping[str, str] | None = None
) -> _Reply:
    return _Reply(status, json.dumps(payload).encode(), "application/json", headers or {})


def _redirect(url: str) -> _Reply:
    return _Reply(HTTPStatus.FOUND, headers={"Location": url, "Cache-Control": "no-store"})


class _OAuthError(Exception):
    """An RFC 6749 §5.2 error response from the token/userinfo endpoints."""

    def __init__(self, error: str, description: str, status: HTTPStatus = HTTPStatus.BAD_REQUEST):
        super().__init__(description)
        self.error = error
        self.description = description
        self.status = status

    def reply(self) -> _Reply:
        headers = {"Cache-Control": "no-store"}
        if self.status == HTTPStatus.UNAUTHORIZED:
            # RFC 6749 §5.2: a 401 must say which scheme the client may use.
            headers["WWW-Authenticate"] = 'Basic realm="dev-idp"'
        return _json_reply(
            self.status, {"error": self.error, "error_description": self.description}, headers
        )


@dataclass(frozen=True)
class _Grant:
    """What an authorization code stands for until it is exchanged."""

    client_id: str
    redirect_uri: str
    identity: Identity
    nonce: str | None
    code_challenge: str | None
    code_challenge_method: str | None
    auth_time: int
    expires_at: float


@dataclass(frozen=True)
class _AccessToken:
    identity: Identity
    expires_at: float


class DevIdP:
    """A development OpenID Connect provider serving one confidential client.

    ``start()`` binds (``port=0`` picks a free port) and serves from a daemon
    thread; ``stop()`` shuts it down. Also usable as a context manager. A new
    RSA signing key is generated per instance, so ID tokens from a previous
    run never verify against a new one.

    ``clock`` exists so tests can make codes and tokens expire without sleeping.
    """

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        client_id: str = DEFAULT_CLIENT_ID,
        client_secret: str = DEFAULT_CLIENT_SECRET,
        issuer: str | None = None,
        identities: Iterable[Identity] = DEMO_IDENTITIES,
        allowed_redirect_hosts: Iterable[str] = DEFAULT_REDIRECT_HOSTS,
        clock: Callable[[], float] = time.time,
        quiet: bool = True,
    ) -> None:
        self.host = host
        self.client_id = client_id
        self.client_secret = client_secret
        self.allowed_redirect_hosts = frozenset(h.lower() for h in allowed_redirect_hosts)
        self.quiet = quiet
        self._requested_port = port
        self._clock = clock

        identities = tuple(identities)
        self._identities = {identity.sub: identity for identity in identities}
        if not self._identities:
            raise ValueError("at least one identity is required")
        if len(self._identities) != len(identities):
            raise ValueError("identity subs must be unique")

        if issuer is not None:
            issuer = issuer.rstrip("/")
            if urlsplit(issuer).path:
                # Endpoints are served from the root; an issuer with a path
                # would advertise URLs this server does not answer.
                raise ValueError("issuer must be a bare origin such as http://127.0.0.1:8001")
        self._issuer = issuer

        self._key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.jwk = self._public_jwk()
        self.kid: str = self.jwk["kid"]

        # Codes and tokens live only in memory; the lock guards them against
        # the server's per-request threads.
        self._lock = threading.Lock()
        self._codes: dict[str, _Grant] = {}
        self._spent_codes: dict[str, tuple[float, str | None]] = {}
        self._tokens: dict[str, _AccessToken] = {}

        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        # Every request target as the client sent it (tests check what a client asked for).
        self.requested_paths: list[str] = []
        # Single sign-on sessions, as a real IdP keeps them: the browser's session cookie ->
        # the identity chosen. A browser with one is signed in again without the picker, until
        # it logs out at the end_session_endpoint. `logouts` lists the subs logged out there.
        self._sessions: dict[str, str] = {}
        self.logouts: list[str] = []

    # -- lifecycle ---------------------------------------------------------

    def start(self) -> DevIdP:
        if self._server is not None:
            raise RuntimeError("DevIdP is already running")
        self._server = _Server((self.host, self._requested_port), _Handler, self)
        self._thread = threading.Thread(
            # A short poll interval keeps stop() fast: shutdown() waits for
            # the serve loop to notice the request.
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name=f"dev-idp:{self.port}",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is None:
            return
        self._server.shutdown()
        if self._thread is not None:
            self._thread.join()
        self._server.server_close()
        self._server = None
        self._thread = None

    def __enter__(self) -> DevIdP:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    # -- public properties -------------------------------------------------

    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError("DevIdP is not running; call start() first")
        return self._server.server_address[1]

    @property
    def issuer(self) -> str:
        if self._issuer is not None:
            return self._issuer
        # Clients cannot connect to a wildcard address, so advertise loopback.
        host = "127.0.0.1" if self.host in ("", "0.0.0.0") else self.host
        return f"http://{host}:{self.port}"

    @property
    def identities(self) -> tuple[Identity, ...]:
        return tuple(self._identities.values())

    def url(self, path: str) -> str:
        return self.issuer + path

    def discovery(self) -> dict[str, Any]:
        identity_claims = {name for identity in self.identities for name in identity.claims}
        return {
            "issuer": self.issuer,
            "authorization_endpoint": self.url("/authorize"),
            "token_endpoint": self.url("/token"),
            "userinfo_endpoint": self.url("/userinfo"),
            "jwks_uri": self.url("/jwks"),
            "end_session_endpoint": self.url("/logout"),
            "response_types_supported": ["code"],
            "grant_types_supported": ["authorization_code"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "scopes_supported": list(SCOPES_SUPPORTED),
            "token_endpoint_auth_methods_supported": ["client_secret_post", "client_secret_basic"],
            "code_challenge_methods_supported": ["S256", "plain"],
            "claims_supported": sorted(identity_claims | set(REGISTERED_CLAIMS)),
        }

    # -- keys --------------------------------------------------------------

    def _public_jwk(self) -> dict[str, Any]:
        jwk = RSAAlgorithm.to_jwk(self._key.public_key(), as_dict=True)
        # RFC 7638 thumbprint: a kid derived from the key itself.
        canonical = json.dumps(
            {"e": jwk["e"], "kty": jwk["kty"], "n": jwk["n"]}, separators=(",", ":"), sort_keys=True
        )
        kid = _b64url(hashlib.sha256(canonical.encode()).digest())
        return {
            "kty": "RSA",
            "n": jwk["n"],
            "e": jwk["e"],
            "kid": kid,
            "use": "sig",
            "alg": "RS256",
        }

    # -- /authorize --------------------------------------------------------

    def _redirect_uri_allowed(self, redirect_uri: str) -> bool:
        try:
            parts = urlsplit(redirect_uri)
        except ValueError:
            return False
        return (
            parts.scheme in ("http", "https")
            and (parts.hostname or "") in self.allowed_redirect_hosts
            and not parts.fragment  # RFC 6749 §3.1.2
        )

    def _authorize(
        self, params: Mapping[str, str], *, submitted: bool, session: str | None = None
    ) -> _Reply:
        """Handle GET (show the picker, or sign a browser with a session straight in) and
        POST (issue a code, and start the browser's session) /authorize."""
        client_id = params.get("client_id", "")
        redirect_uri = params.get("redirect_uri", "")
        # Until client_id and redirect_uri are known good, errors must be
        # shown here rather than redirected (RFC 6749 §4.1.2.1), or the IdP
        # would become an open redirector.
        if not hmac.compare_digest(client_id.encode(), self.client_id.encode()):
            return _error_page(
                "Unknown application",
                f"This development identity provider only serves the client "
                f"<code>{html.escape(self.client_id)}</code>, but the request came from "
                f"<code>{html.escape(client_id) or '(no client_id)'}</code>. "
                "Check the client ID configured in the gateway.",
            )
        if not redirect_uri:
            return _error_page(
                "Missing redirect URI",
                "The sign-in request has no <code>redirect_uri</code>, so there is "
                "nowhere to send you back to.",
            )
        if not self._redirect_uri_allowed(redirect_uri):
            hosts = ", ".join(sorted(self.allowed_redirect_hosts))
            return _error_page(
                "Redirect URI not allowed",
                f"<code>{html.escape(redirect_uri)}</code> is not allowed. For safety this "
                f"development identity provider only redirects to http(s) URLs on: "
                f"{html.escape(hosts)}.",
            )

        state = params.get("state")

        def fail(error: str, description: str) -> _Reply:
            return _redirect(
                _with_query(redirect_uri, error=error, error_description=description, state=state)
            )

        if params.get("response_type") != "code":
            return fail("unsupported_response_type", "only response_type=code is supported")
        if "openid" not in params.get("scope", "").split():
            return fail("invalid_scope", "scope must include openid")
        code_challenge = params.get("code_challenge") or None
        method = params.get("code_challenge_method") or None
        if method is not None and code_challenge is None:
            return fail("invalid_request", "code_challenge_method given without code_challenge")
        if code_challenge is not None:
            method = method or "plain"  # RFC 7636 §4.3 default
            if method not in ("S256", "plain"):
                return fail("invalid_request", "code_challenge_method must be S256 or plain")

        new_session = None
        if not submitted:
            with self._lock:
                signed_in = self._sessions.get(session or "")
            if signed_in is None:
                return _picker_page(self, params)
            identity = self._identities[signed_in]
        else:
            if params.get("deny"):
                return fail("access_denied", "the user cancelled sign-in")
            identity = self._identities.get(params.get("identity", ""))
            if identity is None:
                return _error_page(
                    "Unknown identity", "Please go back and choose one of the listed identities."
                )
            new_session = secrets.token_urlsafe(16)
            with self._lock:
                self._sessions[new_session] = identity.sub

        now = self._clock()
        code = secrets.token_urlsafe(32)
        grant = _Grant(
            client_id=client_id,
            redirect_uri=redirect_uri,
            identity=identity,
            nonce=params.get("nonce") or None,
            code_challenge=code_challenge,
            code_challenge_method=method if code_challenge else None,
            auth_time=int(now),
            expires_at=now + CODE_TTL_SECONDS,
        )
        with self._lock:
            self._forget_expired(now)
            self._codes[code] = grant
        reply = _redirect(_with_query(redirect_uri, code=code, state=state))
        if new_session:
            cookie = f"{SESSION_COOKIE}={new_session}; Path=/; HttpOnly; SameSite=Lax"
            reply = _Reply(reply.status, headers={**reply.headers, "Set-Cookie": cookie})
        return reply

    # -- /logout (RP-initiated logout) --------------------------------------

    def _logout(self, params: Mapping[str, str], session: str | None) -> _Reply:
        """OpenID Connect RP-initiated logout: end the browser's session, then go back."""
        hint = params.get("id_token_hint", "")
        try:
            claims = jwt.decode(
                hint,
                self._key.public_key(),
                algorithms=["RS256"],
                audience=self.client_id,
                issuer=self.issuer,
                options={"verify_exp": False},  # an old ID token is still a good hint
            )
        except jwt.PyJWTError as error:
            return _error_page("Invalid logout request", html.escape(f"id_token_hint: {error}"))
        redirect_uri = params.get("post_logout_redirect_uri")
        if redirect_uri and not self._redirect_uri_allowed(redirect_uri):
            return _error_page("Redirect URI not allowed", html.escape(redirect_uri))
        with self._lock:
            self._sessions.pop(session or "", None)
            self.logouts.append(claims["sub"])
        if not redirect_uri:
            return _html_reply(HTTPStatus.OK, "Signed out", "<p>You are signed out.</p>")
        reply = _redirect(_with_query(redirect_uri, state=params.get("state")))
        expired = f"{SESSION_COOKIE}=; Path=/; Max-Age=0"
        return _Reply(reply.status, headers={**reply.headers, "Set-Cookie": expired})

    def _forget_expired(self, now: float) -> None:
        # Caller holds the lock. Spent codes are remembered for as long as a
        # token issued from them could live, to detect replays (see _token()).
        self._codes = {c: g for c, g in self._codes.items() if g.expires_at > now}
        self._spent_codes = {
            c: v for c, v in self._spent_codes.items() if v[0] + ACCESS_TOKEN_TTL_SECONDS > now
        }
        self._tokens = {t: a for t, a in self._tokens.items() if a.expires_at > now}

    # -- /token ------------------------------------------------------------

    def _token_endpoint(self, form: Mapping[str, str], authorization: str | None) -> _Reply:
        try:
            return self._token(form, authorization)
        except _OAuthError as error:
            return error.reply()

    def _token(self, form: Mapping[str, str], authorization: str | None) -> _Reply:
        client_id = self._authenticate_client(form, authorization)
        if form.get("grant_type") != "authorization_code":
            raise _OAuthError("unsupported_grant_type", "only authorization_code is supported")
        code = form.get("code")
        if not code:
            raise _OAuthError("invalid_request", "code is required")

        now = self._clock()
        with self._lock:
            grant = self._codes.pop(code, None)
            if grant is None:
                spent = self._spent_codes.get(code)
                if spent is not None and spent[1] is not None:
                    # RFC 6749 §4.1.2: a replayed code suggests it leaked, so
                    # revoke what was issued from it.
                    self._tokens.pop(spent[1], None)
                raise _OAuthError(
                    "invalid_grant", "authorization code is unknown, expired or already used"
                )
            # Any exchange attempt spends the code, even a failed one, so a
            # stolen code cannot be used to guess the PKCE verifier.
            self._spent_codes[code] = (now, None)

        if grant.expires_at <= now:
            raise _OAuthError("invalid_grant", "authorization code has expired")
        if grant.client_id != client_id:
            raise _OAuthError("invalid_grant", "authorization code was issued to another client")
        if form.get("redirect_uri") != grant.redirect_uri:
            raise _OAuthError(
                "invalid_grant", "redirect_uri does not match the authorization request"
            )
        _verify_pkce(grant, form.get("code_verifier"))

        access_token = secrets.token_urlsafe(32)
        with self._lock:
            self._tokens[access_token] = _AccessToken(
                grant.identity, now + ACCESS_TOKEN_TTL_SECONDS
            )
            self._spent_codes[code] = (now, access_token)

        return _json_reply(
            HTTPStatus.OK,
            {
                "access_token": access_token,
                "token_type": "Bearer",
                "expires_in": ACCESS_TOKEN_TTL_SECONDS,
                "scope": "openid profile email",
                "id_token": self._id_token(grant, access_token, now),
            },
            # RFC 6749 §5.1: token responses must not be cached.
            {"Cache-Control": "no-store", "Pragma": "no-cache"},
        )

    def _authenticate_client(self, form: Mapping[str, str], authorization: str | None) -> str:
        basic: tuple[str, str] | None = None
        if authorization and authorization[:6].lower() == "basic ":
            try:
                decoded = base64.b64decode(authorization[6:].strip(), validate=True).decode("utf-8")
            except ValueError:  # also covers binascii.Error and UnicodeDecodeError
                raise _OAuthError(
                    "invalid_client", "malformed Basic credentials", HTTPStatus.UNAUTHORIZED
                ) from None
            raw_id, _, raw_secret = decoded.partition(":")
            # RFC 6749 §2.3.1: both halves are form-urlencoded before base64.
            basic = (unquote_plus(raw_id), unquote_plus(raw_secret))
        posted = (
            (form.get("client_id", ""), form["client_secret"]) if "client_secret" in form else None
        )

        if basic and posted:
            raise _OAuthError("invalid_request", "use exactly one client authentication method")
        credentials = basic or posted
        if credentials is None:
            raise _OAuthError(
                "invalid_client", "client authentication is required", HTTPStatus.UNAUTHORIZED
            )
        client_id, client_secret = credentials
        # Compare both halves unconditionally so timing reveals nothing.
        id_ok = hmac.compare_digest(client_id.encode(), self.client_id.encode())
        secret_ok = hmac.compare_digest(client_secret.encode(), self.client_secret.encode())
        if not (id_ok and secret_ok):
            raise _OAuthError(
                "invalid_client", "client authentication failed", HTTPStatus.UNAUTHORIZED
            )
        if basic and form.get("client_id") not in (None, client_id):
            raise _OAuthError(
                "invalid_request", "client_id does not match the authenticated client"
            )
        return client_id

    def _id_token(self, grant: _Grant, access_token: str, now: float) -> str:
        issued_at = int(now)
        claims: dict[str, Any] = dict(grant.identity.claims)
        claims.update(
            iss=self.issuer,
            sub=grant.identity.sub,
            aud=grant.client_id,
            iat=issued_at,
            exp=issued_at + ID_TOKEN_TTL_SECONDS,
            auth_time=grant.auth_time,
            jti=uuid.uuid4().hex,
            # OIDC Core §3.1.3.6: left half of the SHA-256 of the access token.
            at_hash=_b64url(hashlib.sha256(access_token.encode("ascii")).digest()[:16]),
        )
        if grant.nonce is not None:
            claims["nonce"] = grant.nonce
        return jwt.encode(claims, self._key, algorithm="RS256", headers={"kid": self.kid})

    # -- /userinfo ---------------------------------------------------------

    def _userinfo(self, authorization: str | None) -> _Reply:
        scheme, _, token = (authorization or "").partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            # RFC 6750 §3.1: no error code when no credentials were sent.
            return _Reply(
                HTTPStatus.UNAUTHORIZED, headers={"WWW-Authenticate": 'Bearer realm="dev-idp"'}
            )
        now = self._clock()
        with self._lock:
            entry = self._tokens.get(token.strip())
        if entry is None or entry.expires_at <= now:
            return _json_reply(
                HTTPStatus.UNAUTHORIZED,
                {
                    "error": "invalid_token",
                    "error_description": "access token is unknown or expired",
                },
                {"WWW-Authenticate": 'Bearer realm="dev-idp", error="invalid_token"'},
            )
        return _json_reply(HTTPStatus.OK, entry.identity.userinfo(), {"Cache-Control": "no-store"})


def _verify_pkce(grant: _Grant, verifier: str | None) -> None:
    if grant.code_challenge is None:
        # Refuse a verifier nobody asked for (OAuth 2.1 §4.1.3): it means the
        # client's PKCE state and ours disagree, which a test should notice.
        if verifier:
            raise _OAuthError("invalid_grant", "code_verifier sent but no code_challenge was given")
        return
    if not verifier:
        raise _OAuthError("invalid_grant", "code_verifier is required")
    if grant.code_challenge_method == "S256":
        computed = _b64url(hashlib.sha256(verifier.encode("utf-8")).digest())
    else:
        computed = verifier
    if not hmac.compare_digest(computed.encode(), grant.code_challenge.encode()):
        raise _OAuthError("invalid_grant", "code_verifier does not match code_challenge")


# -- HTML ------------------------------------------------------------------

_PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title} – development campus sign-in</title>
<style>
  body {{ font-family: system-ui, sans-serif; line-height: 1.5; margin: 0;
          color: #1a1a1a; background: #f6f6f4; }}
  main {{ max-width: 42rem; margin: 2rem auto; padding: 0 1rem; }}
  .notice {{ border-left: 0.3rem solid #8a5a00; background: #fff4dc; padding: 0.5rem 1rem; }}
  ul {{ list-style: none; padding: 0; }}
  li {{ background: #fff; border: 1px solid #c8c8c8; border-radius: 0.4rem;
        padding: 0.75rem 1rem; margin: 0.75rem 0; }}
  button {{ font: inherit; font-weight: 600; padding: 0.5rem 1rem; border-radius: 0.3rem;
            border: 2px solid #0b4f8a; background: #0b4f8a; color: #fff; cursor: pointer; }}
  button.secondary {{ background: #fff; color: #0b4f8a; }}
  button:focus-visible {{ outline: 3px solid #8a5a00; outline-offset: 2px; }}
  .claims {{ margin: 0.5rem 0 0; font-size: 0.9rem; color: #3d3d3d; }}
  code {{ overflow-wrap: anywhere; }}
</style>
</head>
<body>
<main>
<h1>{title}</h1>
{body}
</main>
</body>
</html>
"""

# The picker page contains no script and styles are inline, so the strictest
# CSP fits. form-action is left open on purpose: browsers apply it to the
# redirect that follows the form POST, which goes to the client.
_HTML_HEADERS = {
    "Cache-Control": "no-store",
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'"
    ),
    "Referrer-Policy": "no-referrer",
}


def _html_reply(status: HTTPStatus, title: str, body: str) -> _Reply:
    page = _PAGE.format(title=html.escape(title), body=body)
    return _Reply(status, page.encode("utf-8"), "text/html; charset=utf-8", _HTML_HEADERS)


def _error_page(title: str, message_html: str) -> _Reply:
    return _html_reply(HTTPStatus.BAD_REQUEST, title, f"<p>{message_html}</p>")


def _picker_page(idp: DevIdP, params: Mapping[str, str]) -> _Reply:
    # The original request travels in hidden fields and is validated again on
    # POST: nothing from the form is trusted just because we rendered it.
    forwarded = (
        "client_id",
        "redirect_uri",
        "response_type",
        "scope",
        "state",
        "nonce",
        "code_challenge",
        "code_challenge_method",
    )
    hidden = "\n".join(
        f'<input type="hidden" name="{name}" value="{html.escape(params[name])}">'
        for name in forwarded
        if name in params
    )
    items = []
    for index, identity in enumerate(idp.identities):
        released = ", ".join(
            f"{html.escape(name)} <code>{html.escape(json.dumps(value, ensure_ascii=False))}</code>"
            for name, value in identity.userinfo().items()
        )
        items.append(
            f"<li>\n"
            f'<button type="submit" name="identity" value="{html.escape(identity.sub)}" '
            f'aria-describedby="claims-{index}">Sign in as {html.escape(identity.label)}</button>\n'
            f'<p class="claims" id="claims-{index}">Shares: {released}</p>\n'
            f"</li>"
        )
    body = f"""<p class="notice"><strong>Development only.</strong> This identity provider
signs you in as whichever demo identity you choose, without a password.</p>
<p>The application <code>{html.escape(params["client_id"])}</code> asks you to sign in.
You will be sent back to <code>{html.escape(params["redirect_uri"])}</code>.</p>
<form method="post" action="/authorize">
{hidden}
<h2>Choose a campus identity</h2>
<ul>
{chr(10).join(items)}
</ul>
<button type="submit" name="deny" value="1" class="secondary">
Cancel and go back without signing in</button>
</form>"""
    return _html_reply(HTTPStatus.OK, "Sign in with your campus account", body)


def _index_page(idp: DevIdP) -> _Reply:
    discovery = html.escape(idp.url("/.well-known/openid-configuration"))
    body = f"""<p class="notice"><strong>Development only.</strong>
Never use this in production.</p>
<p>This is the gateway's development OpenID Connect provider for client
<code>{html.escape(idp.client_id)}</code>. Sign-in starts from the gateway, not here.</p>
<p>Configuration: <a href="{discovery}">{discovery}</a></p>"""
    return _html_reply(HTTPStatus.OK, "Development campus identity provider", body)


# -- HTTP plumbing -----------------------------------------------------------


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(
        self, address: tuple[str, int], handler: type[BaseHTTPRequestHandler], idp: DevIdP
    ):
        self.idp = idp
        super().__init__(address, handler)


class _DuplicateParameter(ValueError):
    pass


def _single_valued(query: str) -> dict[str, str]:
    params: dict[str, str] = {}
    for name, value in parse_qsl(query, keep_blank_values=True):
        # RFC 6749 §3.1: parameters must not be repeated; silently picking one
        # of two values hides client bugs.
        if name in params:
            raise _DuplicateParameter(name)
        params[name] = value
    return params


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    server_version = "ILLGatewayDevIdP/1.0"

    def _target(self) -> tuple[str, str]:
        """Split the request target into path and query.

        Not urlsplit(): a client whose configured issuer ends in "/" asks for
        "//.well-known/...", which urlsplit would read as a host name.
        """
        path, _, query = self.path.partition("?")
        return "/" + path.lstrip("/"), query

    def do_GET(self) -> None:
        idp = self.server.idp
        idp.requested_paths.append(self.path)
        path, query = self._target()
        if path == "/.well-known/openid-configuration":
            self._send(_json_reply(HTTPStatus.OK, idp.discovery()))
        elif path == "/jwks":
            self._send(_json_reply(HTTPStatus.OK, {"keys": [idp.jwk]}))
        elif path == "/authorize":
            try:
                params = _single_valued(query)
            except _DuplicateParameter as dup:
                self._send(
                    _error_page(
                        "Invalid request",
                        f"Parameter <code>{html.escape(str(dup))}</code> is repeated.",
                    )
                )
                return
            self._send(idp._authorize(params, submitted=False, session=self._session()))
        elif path == "/logout":
            try:
                params = _single_valued(query)
            except _DuplicateParameter as dup:
                self._send(_error_page("Invalid request", html.escape(f"{dup} is repeated")))
                return
            self._send(idp._logout(params, self._session()))
        elif path == "/userinfo":
            self._send(idp._userinfo(self.headers.get("Authorization")))
        elif path == "/":
            self._send(_index_page(idp))
        else:
            self._send(_json_reply(HTTPStatus.NOT_FOUND, {"error": "not_found"}))

    def do_POST(self) -> None:
        idp = self.server.idp
        idp.requested_paths.append(self.path)
        path, _ = self._target()
        if path not in ("/authorize", "/token", "/userinfo"):
            self._send(_json_reply(HTTPStatus.NOT_FOUND, {"error": "not_found"}))
            return
        if path == "/userinfo":  # OIDC Core §5.3.1 allows POST too
            self._send(idp._userinfo(self.headers.get("Authorization")))
            return
        try:
            form = self._read_form()
        except _DuplicateParameter as dup:
            if path == "/token":
                self._send(_OAuthError("invalid_request", f"parameter {dup} is repeated").reply())
            else:
                self._send(
                    _error_page(
                        "Invalid request",
                        f"Parameter <code>{html.escape(str(dup))}</code> is repeated.",
                    )
                )
            return
        except ValueError as error:
            self._send(_OAuthError("invalid_request", str(error)).reply())
            return
        if path == "/token":
            self._send(idp._token_endpoint(form, self.headers.get("Authorization")))
        else:
            self._send(idp._authorize(form, submitted=True, session=self._session()))

    def _session(self) -> str | None:
        from http.cookies import SimpleCookie

        cookie = SimpleCookie(self.headers.get("Cookie", ""))
        return cookie[SESSION_COOKIE].value if SESSION_COOKIE in cookie else None

    def _read_form(self) -> dict[str, str]:
        content_type = self.headers.get("Content-Type", "").split(";")[0].strip().lower()
        if content_type != "application/x-www-form-urlencoded":
            raise ValueError("body must be application/x-www-form-urlencoded")
        try:
            length = int(self.headers.get("Content-Length", "0"))
        except ValueError:
            raise ValueError("invalid Content-Length") from None
        if not 0 <= length <= MAX_BODY_BYTES:
            raise ValueError("request body too large")
        return _single_valued(self.rfile.read(length).decode("utf-8", errors="replace"))

    def _send(self, reply: _Reply) -> None:
        self.send_response(reply.status)
        if reply.content_type:
            self.send_header("Content-Type", reply.content_type)
        for name, value in reply.headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(reply.body)))
        self.end_headers()
        self.wfile.write(reply.body)

    def log_message(self, format: str, *args: Any) -> None:
        if not self.server.idp.quiet:
            super().log_message(format, *args)


# -- command line ------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tools.dev_idp.server",
        description=(
            "Development OpenID Connect provider for the ILL Reader Gateway. Not for production."
        ),
    )
    parser.add_argument(
        "--host", default="127.0.0.1", help="address to bind (default: %(default)s)"
    )
    parser.add_argument(
        "--port", type=int, default=8001, help="port to bind, 0 for any (default: %(default)s)"
    )
    parser.add_argument(
        "--client-id",
        default=DEFAULT_CLIENT_ID,
        help="the one client served (default: %(default)s)",
    )
    parser.add_argument(
        "--client-secret", default=DEFAULT_CLIENT_SECRET, help="its secret (default: %(default)s)"
    )
    parser.add_argument("--issuer", help="issuer URL to advertise (default: http://HOST:PORT)")
    parser.add_argument(
        "--allow-redirect-host",
        action="append",
        metavar="HOST",
        help=(
            "extra host that redirect URIs may point to, e.g. testserver (repeatable; "
            "127.0.0.1 and localhost are always allowed)"
        ),
    )
    parser.add_argument("--quiet", action="store_true", help="do not log requests")
    args = parser.parse_args(argv)

    if args.host not in ("127.0.0.1", "localhost", "::1"):
        print(
            f"WARNING: listening on {args.host}; anyone who can reach it "
            "can sign in as any demo identity.",
            file=sys.stderr,
        )

    idp = DevIdP(
        args.host,
        args.port,
        client_id=args.client_id,
        client_secret=args.client_secret,
        issuer=args.issuer,
        allowed_redirect_hosts=(*DEFAULT_REDIRECT_HOSTS, *(args.allow_redirect_host or ())),
        quiet=args.quiet,
    )
    with idp:
        identities = "\n".join(f"    {i.sub:34}  {i.label}" for i in idp.identities)
        print(
            "Development OpenID Connect provider (NOT for production)\n"
            f"  issuer:        {idp.issuer}\n"
            f"  discovery:     {idp.url('/.well-known/openid-configuration')}\n"
            f"  client_id:     {idp.client_id}\n"
            f"  client_secret: {idp.client_secret}\n"
            f"  redirect URIs: http(s) on {', '.join(sorted(idp.allowed_redirect_hosts))}\n"
            f"  identities:\n{identities}\n"
            "Press Ctrl+C to stop.",
            flush=True,
        )
        with contextlib.suppress(KeyboardInterrupt):
            threading.Event().wait()
    return 0


if __name__ == "__main__":
    sys.exit(main())
