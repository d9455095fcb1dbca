"""Validators and normalisers for the bibliographic fields of an ILL request (the contact
fields' phone and postal code are in core.validators, which the reader profile uses too).

Every ``normalize_*`` function validates and returns the canonical form that we store (so a
form's ``clean_<field>`` can simply ``return normalize_<field>(value)``); a bad value raises
``django.core.exceptions.ValidationError`` with a ``code`` and a translatable message.
Only ``normalize_title`` never raises: it builds a key for duplicate detection, not a value to show.

Readers type on Chinese input methods, paste from PDFs and arrive from link resolvers, so all of
these accept full-width characters, odd dashes and stray spaces, and none of them may crash on junk:
anything that is not a string, is absurdly long or contains control characters is simply invalid.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date
from urllib.parse import unquote

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _
from stdnum import exceptions as stdnum_exceptions
from stdnum import isbn as stdnum_isbn
from stdnum import issn as stdnum_issn

from core.validators import DASHES, as_text, invalid, to_halfwidth

__all__ = [
    "IDENTIFIER_MAX_INPUT",
    "PAGES_MAX_LENGTH",
    "VOLUME_ISSUE_MAX_LENGTH",
    "YEAR_MIN",
    "doi_key",
    "normalize_doi",
    "normalize_isbn",
    "normalize_issn",
    "normalize_pages",
    "normalize_title",
    "normalize_volume_issue",
    "normalize_year",
]

PAGES_MAX_LENGTH = 50
VOLUME_ISSUE_MAX_LENGTH = 50
YEAR_MIN = 1400

# What may be typed for an ISSN or ISBN, label, spaces and hyphens included ("ISBN-13:
# 978-7-302-12345-3" is 26): the request form's limit too. Identifiers are short; refusing long
# input before any regex runs keeps junk cheap to reject.
IDENTIFIER_MAX_INPUT = 64

MESSAGES = {
    "issn_format": _("An ISSN has 8 characters, like 0264-1615."),
    "issn_check_digit": _("The ISSN check digit is wrong; check the number."),
    "isbn_format": _(
        "An ISBN has 10 or 13 digits (an ISBN-10 may end in X), like 978-7-302-12345-3."
    ),
    "isbn_prefix": _("A 13-digit ISBN starts with 978 or 979."),
    "isbn_check_digit": _("The ISBN check digit is wrong; check the number."),
    "doi_format": _(
        "A DOI starts with 10., at least 4 digits and a slash, like 10.1108/02641610410538478."
    ),
    "year_format": _("Enter the year as 4 digits, like 2004."),
    "year_range": _("Enter a year between %(min_year)s and %(max_year)s."),
    "pages_format": _(
        "Enter a page or a page range like 94-101, e1234 or xii-xx; separate several with commas."
    ),
    "pages_order": _("The page range %(range)s ends before it starts."),
    "pages_too_long": _("Pages can be at most %(max_length)s characters long."),
    "volume_issue_too_long": _("Volume and issue can be at most %(max_length)s characters long."),
}


def _invalid(code: str, **params: object) -> ValidationError:
    return invalid(MESSAGES, code, **params)


def _has_control_chars(text: str) -> bool:
    return any(unicodedata.category(ch) in ("Cc", "Cs") for ch in text)


def _clean_identifier(value: object, label: str) -> str | None:
    """Half-width, upper-case, separator-free identifier text, or None if hopeless.

    ``label`` ("ISSN", "ISBN") is dropped from the front, because readers paste "ISSN 0264-1615".
    """
    text = as_text(value)
    if text is None or len(text) > IDENTIFIER_MAX_INPUT:
        return None
    text = to_halfwidth(text).translate(DASHES).strip().upper()
    text = re.sub(rf"^{label}(?:-1[03])?\s*:?\s*", "", text)
    return re.sub(r"[\s-]", "", text)


# --- ISSN and ISBN ----------------------------------------------------------------------------

# python-stdnum computes the check digits and formats the number; the cleaning above (full-width,
# dashes, the "ISSN" label) and the messages are ours. Our patterns come first because stdnum
# takes any Unicode digit (Arabic-Indic, say) for a digit, which we cannot store or search.
_ISSN_RE = re.compile(r"[0-9]{7}[0-9X]")
_ISBN10_RE = re.compile(r"[0-9]{9}[0-9X]")
_ISBN13_RE = re.compile(r"[0-9]{13}")


def normalize_issn(value: object) -> str:
    """Return the ISSN as ``NNNN-NNNC`` (e.g. "0264-1615"); raise ValidationError if invalid."""
    compact = _clean_identifier(value, "ISSN")
    if compact is None or not _ISSN_RE.fullmatch(compact):
        raise _invalid("issn_format")
    try:
        stdnum_issn.validate(compact)
    except stdnum_exceptions.InvalidChecksum as exc:
        raise _invalid("issn_check_digit") from exc
    except stdnum_exceptions.ValidationError as exc:
        raise _invalid("issn_format") from exc
    return stdnum_issn.format(compact)


def normalize_isbn(value: object) -> str:
    """Return the ISBN without separators (10 or 13 characters, as typed, upper-case X).

    Raise ValidationError if it is malformed or its check digit is wrong. An ISBN-10 is not
    converted to ISBN-13: staff search catalogues with what the reader has in hand.
    """
    compact = _clean_identifier(value, "ISBN")
    if compact is None or not (_ISBN10_RE.fullmatch(compact) or _ISBN13_RE.fullmatch(compact)):
        raise _invalid("isbn_format")
    if len(compact) == 13 and compact[:3] not in ("978", "979"):
        raise _invalid("isbn_prefix")
    try:
        return stdnum_isbn.validate(compact)
    except stdnum_exceptions.InvalidChecksum as exc:
        raise _invalid("isbn_check_digit") from exc
    except stdnum_exceptions.ValidationError as exc:
        raise _invalid("isbn_format") from exc


# --- DOI ------------------------------------------------------------------------------------

# DOI Handbook 2.2: "10." + registrant code (digits, optionally subdivided by dots), "/", suffix.
# Registrant codes are at least 4 digits in practice; the suffix is any printable characters.
_DOI_RE = re.compile(r"10\.[0-9]{4,}(?:\.[0-9]+)*/\S+")
_DOI_URL_RE = re.compile(r"^(?:https?://)?(?:dx\.)?doi\.org/", re.IGNORECASE)
_DOI_LABEL_RE = re.compile(r"^(?:info:doi/|doi\s*:\s*)", re.IGNORECASE)
# A DOI is rarely above 100 characters; a few kilobytes is certainly junk, so stop early.
_DOI_MAX_INPUT = 1000


def normalize_doi(value: object) -> str:
    """Return the bare DOI ("10.1108/02641610410538478"), the suffix's case kept as typed.

    Accepts the ``doi:`` and ``info:doi/`` labels and doi.org / dx.doi.org URLs (whose
    percent-encoding is undone). Raise ValidationError if what remains is not a DOI.
    """
    text = as_text(value)
    if text is None or len(text) > _DOI_MAX_INPUT:
        raise _invalid("doi_format")
    text = text.translate({0x3000: 0x20}).strip()
    if _DOI_URL_RE.match(text):
        # In a URL the DOI is percent-encoded ("/" may appear as %2F); the bare form is not.
        text = unquote(_DOI_URL_RE.sub("", text, count=1))
    else:
        text = _DOI_LABEL_RE.sub("", text, count=1)
    text = text.strip()
    if not _DOI_RE.fullmatch(text) or not text.isprintable():
        raise _invalid("doi_format")
    return text


# DOIs are case-insensitive over ASCII only (DOI Handbook 2.4), so fold just A-Z.
_ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")


def doi_key(value: object) -> str:
    """The DOI folded for comparison: two requests for the same DOI have equal keys.

    Raise ValidationError if the value is not a DOI.
    """
    return normalize_doi(value).translate(_ASCII_LOWER)


# --- year -----------------------------------------------------------------------------------


def normalize_year(value: object, *, today: date | None = None) -> str:
    """Return the year as 4 digits; raise ValidationError if malformed or out of range.

    The range runs from 1400 (before that, nothing we could borrow or copy) to next year
    (journals date issues ahead). ``today`` is for tests.
    """
    text = as_text(value)
    text = to_halfwidth(text).strip() if text is not None else ""
    if not re.fullmatch(r"[0-9]{4}", text):
        raise _invalid("year_format")
    max_year = (today or date.today()).year + 1
    if not YEAR_MIN <= int(text) <= max_year:
        raise _invalid("year_range", min_year=YEAR_MIN, max_year=max_year)
    return text


# --- pages ----------------------------------------------------------------------------------

_ROMAN_RE = re.compile(
    r"(?=[MDCLXVI])M{0,4}(?:CM|CD|D?C{0,3})(?:XC|XL|L?X{0,3})(?:IX|IV|V?I{0,3})", re.IGNORECASE
)
# Article numbers (e1234), supplements (S12) and sections (A5) carry a one-letter prefix.
_ARABIC_PAGE_RE = re.compile(r"([eEsSaA]?)([0-9]{1,9})")
_PAGES_MAX_INPUT = 200
_PAGE_ITEM_SEPARATORS = re.compile(r"[,;\u3001]")
# "~" is how many Chinese readers write a range (94~101, full-width ～ becomes ~ first).
_PAGE_RANGE_SEPARATOR = re.compile(r"\s*[-~]\s*")
_PAGES_LABEL = re.compile(r"^(?:pp?\.\s*|pp?\s+)", re.IGNORECASE)


def _page_number(token: str) -> int | None:
    """The numeric value used to order a range, or None for a token that is not a page."""
    match = _ARABIC_PAGE_RE.fullmatch(token)
    if match:
        return int(match.group(2))
    if _ROMAN_RE.fullmatch(token):
        return None
    raise _invalid("pages_format")


def _roman_value(token: str) -> int:
    values = {"i": 1, "v": 5, "x": 10, "l": 50, "c": 100, "d": 500, "m": 1000}
    numbers = [values[char] for char in token.lower()]
    return sum(-n if n < after else n for n, after in zip(numbers, [*numbers[1:], 0], strict=True))


def _normalize_page_item(item: str) -> str:
    tokens = _PAGE_RANGE_SEPARATOR.split(item)
    if len(tokens) == 1:
        _page_number(tokens[0])
        return tokens[0]
    if len(tokens) != 2:
        raise _invalid("pages_format")
    start, end = tokens
    start_number, end_number = _page_number(start), _page_number(end)
    if start_number is not None and end_number is not None:
        out_of_order = start_number > end_number
    elif start_number is None and end_number is None:
        out_of_order = _roman_value(start) > _roman_value(end)
    else:
        # Front matter running into the text ("xii-5") has no order to check.
        out_of_order = False
    if out_of_order:
        raise _invalid("pages_order", range=f"{start}-{end}")
    return f"{start}-{end}"


def normalize_pages(value: object) -> str:
    """Return the pages with "-" in ranges and ", " between items, e.g. "94-101, 110-112".

    Raise ValidationError for anything that is not a list of pages and page ranges, for a
    numeric range that ends before it starts (abbreviated ranges like "1234-56" included:
    we cannot be sure what was meant) and for more than 50 characters.
    """
    text = as_text(value)
    if text is None:
        raise _invalid("pages_format")
    if len(text) > _PAGES_MAX_INPUT:
        raise _invalid("pages_too_long", max_length=PAGES_MAX_LENGTH)
    text = _PAGES_LABEL.sub("", to_halfwidth(text).translate(DASHES).strip())
    items = [item.strip() for item in _PAGE_ITEM_SEPARATORS.split(text)]
    items = [item for item in items if item]
    if not items:
        raise _invalid("pages_format")
    normalized = ", ".join(_normalize_page_item(item) for item in items)
    if len(normalized) > PAGES_MAX_LENGTH:
        raise _invalid("pages_too_long", max_length=PAGES_MAX_LENGTH)
    return normalized


# --- volume and issue -----------------------------------------------------------------------


def normalize_volume_issue(value: object) -> str:
    """Return volume/issue text ("32(2)", "第32卷第2期") half-width, trimmed, spaces collapsed.

    There is no syntax to check (journals number themselves every way imaginable); raise
    ValidationError only if it is longer than 50 characters.
    """
    text = as_text(value)
    if text is None:
        return ""
    text = "".join(" " if _has_control_chars(ch) else ch for ch in to_halfwidth(text))
    text = " ".join(text.split())
    if len(text) > VOLUME_ISSUE_MAX_LENGTH:
        raise _invalid("volume_issue_too_long", max_length=VOLUME_ISSUE_MAX_LENGTH)
    return text


# --- titles ---------------------------------------------------------------------------------

_LEADING_ARTICLES = frozenset({"the", "a", "an"})


def normalize_title(text: object) -> str:
    """A key for spotting duplicate requests: two spellings of one title give the same key.

    Case-folded and NFKC-normalised (full-width and compatibility forms unified), punctuation,
    symbols and control characters turned into spaces, spaces collapsed and a leading English
    article dropped. Never raises; a non-string gives "".
    """
    if not isinstance(text, str):
        return ""
    text = unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", text).casefold())
    # Letters (L), marks (M) and numbers (N) carry meaning; punctuation (P), symbols (S),
    # separators (Z) and other (C) only separate words.
    text = "".join(ch if unicodedata.category(ch)[0] in "LMN" else " " for ch in text)
    words = text.split()
    if len(words) > 1 and words[0] in _LEADING_ARTICLES:
        words = words[1:]
    return " ".join(words)
