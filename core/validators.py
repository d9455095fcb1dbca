"""Field validators that more than one app uses: a phone number, a postal code, and the input
cleaning under them (full-width characters, odd dashes).

Every ``normalize_*`` function validates and returns the canonical form that we store (so a
form's ``clean_<field>`` can simply ``return normalize_<field>(value)``); a bad value raises
``django.core.exceptions.ValidationError`` with a ``code`` and a translatable message.

Readers type on Chinese input methods and paste from PDFs, so these accept full-width
characters, odd dashes and stray spaces, and none of them may crash on junk: anything that is
not a string, is absurdly long or contains control characters is simply invalid.

This module imports no app of ours: every app may use it.
"""

from __future__ import annotations

import re

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

__all__ = [
    "DASHES",
    "PHONE_MAX_DIGITS",
    "PHONE_MIN_DIGITS",
    "as_text",
    "invalid",
    "normalize_phone",
    "normalize_postal_code",
    "to_halfwidth",
]

PHONE_MIN_DIGITS = 5
PHONE_MAX_DIGITS = 20

MESSAGES = {
    "phone_format": _("Enter a phone number, digits with optional +, spaces or hyphens."),
    "phone_length": _("A phone number has between %(min_digits)s and %(max_digits)s digits."),
    "postal_code_format": _(
        "Enter a postal code: 6 digits in China, or 3 to 10 letters, digits, spaces or "
        "hyphens for an address abroad."
    ),
}


def invalid(messages: dict, code: str, **params: object) -> ValidationError:
    """The ValidationError for ``code``, with its message from ``messages``."""
    return ValidationError(messages[code], code=code, params=params or None)


def as_text(value: object) -> str | None:
    """The value as a string, or None when it cannot sensibly be one (so callers reject it)."""
    if isinstance(value, str):
        return value
    # An IntegerField hands validators an int; accept that, but not bool (an int subclass).
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return None


# --- full-width characters and dashes ---------------------------------------------------------

# Only the full-width ASCII block and the ideographic space: NFKC would also rewrite CJK
# compatibility characters and punctuation such as 「」 that readers mean literally.
_HALFWIDTH = {code: code - 0xFEE0 for code in range(0xFF01, 0xFF5F)}
_HALFWIDTH[0x3000] = 0x20


def to_halfwidth(text: str) -> str:
    """Turn full-width ASCII (ＡＢＣ１２３－) and the ideographic space into plain ASCII."""
    return text.translate(_HALFWIDTH)


# Hyphen-like characters people paste from word processors and PDFs (for str.translate).
DASHES = str.maketrans(dict.fromkeys("\u2010\u2011\u2012\u2013\u2014\u2015\u2212\ufe63", "-"))


# --- phone ----------------------------------------------------------------------------------

_PHONE_MAX_INPUT = 50
# Digits with an optional leading + (possibly inside a parenthesis: "(+86) 10 ..."), spaces,
# hyphens and parentheses; then an optional extension written ext/ext./x/转/分机.
_PHONE_RE = re.compile(
    r"(?P<main>\(?\+?[0-9][0-9 ()-]*?)"
    r"(?:\s*(?:ext\.?|x|\u8f6c|\u5206\u673a)\s*(?P<extension>[0-9]+))?",
    re.IGNORECASE,
)


def normalize_phone(value: object) -> str:
    """Return the phone number half-width, trimmed, with runs of spaces collapsed.

    Raise ValidationError if it has characters other than digits, a leading +, spaces, hyphens,
    parentheses and an extension marker, or fewer than 5 or more than 20 digits in all.
    """
    text = as_text(value)
    if text is None or len(text) > _PHONE_MAX_INPUT:
        raise invalid(MESSAGES, "phone_format")
    text = " ".join(to_halfwidth(text).translate(DASHES).split())
    match = _PHONE_RE.fullmatch(text)
    if not match:
        raise invalid(MESSAGES, "phone_format")
    digits = sum(char.isdigit() for char in text)
    if not PHONE_MIN_DIGITS <= digits <= PHONE_MAX_DIGITS:
        raise invalid(
            MESSAGES, "phone_length", min_digits=PHONE_MIN_DIGITS, max_digits=PHONE_MAX_DIGITS
        )
    return text


# --- postal code ----------------------------------------------------------------------------

_POSTAL_CODE_MAX_INPUT = 64
_POSTAL_CODE_RE = re.compile(r"[A-Z0-9](?:[A-Z0-9 -]{1,8})[A-Z0-9]")


def normalize_postal_code(value: object) -> str:
    """Return the postal code half-width, upper-case, single-spaced ("100871", "SW1A 1AA").

    Chinese codes are 6 digits, but readers abroad have other formats, so accept 3 to 10
    letters, digits, spaces and hyphens; raise ValidationError otherwise.
    """
    text = as_text(value)
    if text is None or len(text) > _POSTAL_CODE_MAX_INPUT:
        raise invalid(MESSAGES, "postal_code_format")
    text = " ".join(to_halfwidth(text).translate(DASHES).upper().split())
    if not _POSTAL_CODE_RE.fullmatch(text):
        raise invalid(MESSAGES, "postal_code_format")
    return text
