"""Hashers that wrap the old ILL system's passwords (SPEC 7).

Django's "password upgrading without requiring a login" pattern: the old system's digest (unsalted
MD5, salted SHA-1) is the input of PBKDF2, so the database never holds the bare digest; a clear
text password (PLAIN) goes through PBKDF2 directly. Every wrapper says `must_update`, so the first
successful check re-hashes the password with the default hasher.

The wrappers' iteration count is `LEGACY_PASSWORD_ITERATIONS` (100,000 by default): the import
hashes every old account, and a million iterations each would make it take hours; the hash is
upgraded to the default hasher's full strength on first use.
"""

import hashlib

from django.conf import settings
from django.contrib.auth.hashers import PBKDF2PasswordHasher
from django.utils.crypto import get_random_string

DEFAULT_ITERATIONS = 100_000


class _LegacyWrapper(PBKDF2PasswordHasher):
    @property
    def iterations(self):
        return getattr(settings, "LEGACY_PASSWORD_ITERATIONS", DEFAULT_ITERATIONS)

    def must_update(self, encoded):
        return True

    def harden_runtime(self, password, encoded):
        pass


class LegacyPlainPasswordHasher(_LegacyWrapper):
    """PBKDF2 over a password the old system stored in clear."""

    algorithm = "legacy_plain_pbkdf2"


class LegacyMD5PasswordHasher(_LegacyWrapper):
    """PBKDF2 over the old system's unsalted MD5 hex digest."""

    algorithm = "legacy_md5_pbkdf2"

    def encode(self, password, salt, iterations=None):
        return self.encode_digest(hashlib.md5(password.encode()).hexdigest(), salt, iterations)  # noqa: S324

    def encode_digest(self, digest, salt, iterations=None):
        return super().encode(digest.lower(), salt, iterations)


class LegacySHA1PasswordHasher(_LegacyWrapper):
    """PBKDF2 over the old system's SHA-1 hex digest of salt + password.

    The old salt travels in the PBKDF2 salt, hex-encoded before a colon and a new random salt:
    `<old salt as hex>:<random>`.
    """

    algorithm = "legacy_sha1_pbkdf2"

    def salt(self):
        return ":" + super().salt()

    def encode(self, password, salt, iterations=None):
        old_hex, _, _ = salt.partition(":")
        old_salt = bytes.fromhex(old_hex).decode()
        digest = hashlib.sha1((old_salt + password).encode()).hexdigest()  # noqa: S324
        return super().encode(digest, salt, iterations)

    def encode_digest(self, digest, old_salt, iterations=None):
        salt = old_salt.encode().hex() + ":" + get_random_string(22)
        return super().encode(digest.lower(), salt, iterations)


def wrap_legacy_password(field: str) -> str:
    """The stored hash for a `password` field of accounts.csv ("" when it holds none).

    Raises ValueError for a field of no known format.
    """
    if not field:
        return ""
    kind, _, rest = field.partition(":")
    if kind == "PLAIN" and rest:
        hasher = LegacyPlainPasswordHasher()
        return hasher.encode(rest, hasher.salt())
    if kind == "MD5" and _is_hex(rest, 32):
        hasher = LegacyMD5PasswordHasher()
        return hasher.encode_digest(rest, PBKDF2PasswordHasher().salt())
    if kind == "SHA1":
        old_salt, _, digest = rest.rpartition(":")
        if old_salt and _is_hex(digest, 40):
            return LegacySHA1PasswordHasher().encode_digest(digest, old_salt)
    raise ValueError(field.partition(":")[0] or field[:10])


def _is_hex(text: str, length: int) -> bool:
    return len(text) == length and all(c in "0123456789abcdefABCDEF" for c in text)
