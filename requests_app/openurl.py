"""Turn an incoming OpenURL into initial data for the ILL request form.

Link resolvers (SFX, 360 Link, Primo, Google Scholar's "Find it" links, CNKI...) send readers to
us with the citation in the query string, either as OpenURL 0.1 (``genre=article&atitle=...``)
or as OpenURL 1.0 key/encoded-value pairs (``url_ver=Z39.88-2004&rft.atitle=...``); many send a
mixture. ``parse_openurl`` reads both and fills in what it can, so the reader only checks and
submits.

The query string is entirely outside our control, so this module never raises: unknown keys,
empty and absurdly long values and control characters are ignored or trimmed, and values the
form will reject anyway (a bad ISSN, say) are passed on as sent so the form can say what is
wrong with them.
"""

from __future__ import annotations

import codecs
import re
import unicodedata
from collections.abc import Callable, Iterable, Mapping
from itertools import islice
from urllib.parse import parse_qsl

from django.core.exceptions import ValidationError
from django.utils.translation import gettext

from core.text import clean_text
from core.validators import to_halfwidth
from requests_app.forms import IllRequestForm
from requests_app.validators import (
    normalize_doi,
    normalize_isbn,
    normalize_issn,
    normalize_pages,
)

__all__ = ["MAX_LENGTHS", "decode_query_string", "parse_openurl", "read_openurl"]

# The request form's max_length for each field we fill in (the model's, or for ISSN and ISBN
# what may be typed): initial data longer than that would only produce an error the reader did
# not cause.
MAX_LENGTHS = {
    name: IllRequestForm.base_fields[name].max_length
    for name in (
        "publication_title",
        "article_title",
        "author",
        "publisher",
        "place",
        "edition",
        "volume_issue",
        "pages",
        "year",
        "issn",
        "isbn",
        "doi",
        "language",
        "remarks",
    )
}

# The OpenURL keys we read (0.1 names; 1.0 names are the same after "rft."). Everything else,
# including the many vendor extensions, is ignored.
_KNOWN_KEYS = frozenset(
    {
        "genre",
        "atitle",
        "title",
        "jtitle",
        "stitle",
        "btitle",
        "au",
        "aulast",
        "aufirst",
        "auinit",
        "auinit1",
        "aucorp",
        "volume",
        "issue",
        "spage",
        "epage",
        "pages",
        "artnum",
        "date",
        "issn",
        "eissn",
        "isbn",
        "doi",
        "id",
        "pub",
        "publisher",
        "place",
        "edition",
        "language",
        "sid",
        "fmt",
        "pmid",
    }
)
# 1.0 keys outside the rft. namespace that carry the same meaning as a 0.1 key.
_KEY_ALIASES = {"rft_id": "id", "rfr_id": "sid", "rft_val_fmt": "fmt"}

# No real citation element is anywhere near this long; cutting junk early keeps parsing cheap.
_MAX_RAW_VALUE = 2000
# More values than this for one key is junk too (a paper with 500 authors is cited "et al.").
_MAX_VALUES_PER_KEY = 30

_GENRE_TYPES = {
    "article": "journal_article",
    "journal": "journal_article",
    "issue": "journal_article",
    "proceeding": "conference_paper",
    "conference": "conference_paper",
    "book": "book",
    "bookitem": "book_chapter",
    "chapter": "book_chapter",
    "dissertation": "thesis",
    "thesis": "thesis",
    "report": "report",
    "patent": "patent",
    "standard": "standard",
    "preprint": "other",
    "document": "other",
    "unknown": "other",
}
# In the book format an "article" is a part of the book, and a "journal" is at most a book.
_BOOK_FORMAT_GENRE_TYPES = {
    "article": "book_chapter",
    "journal": "book",
    "issue": "book",
}
# Formats whose metadata format fixes the type (they have no rft.genre).
_FORMAT_TYPES = {"dissertation": "thesis", "patent": "patent"}

_DOI_ID_RE = re.compile(r"^(?:info:doi/|doi:|https?://(?:dx\.)?doi\.org/)", re.IGNORECASE)
_ISSN_ID_RE = re.compile(r"^urn:issn:", re.IGNORECASE)
_ISBN_ID_RE = re.compile(r"^urn:isbn:", re.IGNORECASE)
_YEAR_RE = re.compile(r"(?<![0-9])[0-9]{4}(?![0-9])")
_PMID_ID_RE = re.compile(r"^(?:info:pmid/|pmid:)\s*([0-9]{1,9})$", re.IGNORECASE)
_PMID_RE = re.compile(r"^[0-9]{1,9}$")
_OCLC_ID_RE = re.compile(r"^info:oclcnum/\s*([0-9]{1,12})$", re.IGNORECASE)

REPLACEMENT_CHARACTER = "\ufffd"
# The keys that declare the query's character encoding: 1.0's ctx_enc ("info:ofi/enc:UTF-8")
# and the charset key several Chinese databases add to 0.1 links.
_CHARSET_KEYS = ("ctx_enc", "charset", "rft.charset")
# Encodings that GB18030 contains: decoding with the superset reads every byte they can send.
_GB_ALIASES = {"gb2312", "gbk", "cp936", "euc-cn", "euccn", "gb_2312-80", "hz"}
# A raw query string longer than this is cut: no citation needs it, and parsing stays cheap.
_MAX_QUERY_STRING = 100_000
_MAX_PAIRS = 1000


def read_openurl(query_string: str | bytes) -> tuple[dict[str, str], list[str]]:
    """The form's initial data from a raw (still percent-encoded) query string.

    Returns the data and the OpenURL keys (without "rft.") whose bytes could not be read in
    any encoding: those are left out rather than shown as "����", and the caller says so.
    """
    query, unreadable = decode_query_string(query_string)
    known = [key for key in unreadable if key in _KNOWN_KEYS]
    return parse_openurl(query), list(dict.fromkeys(known))


def decode_query_string(query_string: str | bytes) -> tuple[dict[str, list[str]], list[str]]:
    """Split a raw query string into values, decoding each one's bytes in the right encoding.

    Django's ``request.GET`` decodes as UTF-8 and turns anything else into U+FFFD, but several
    Chinese databases send GBK/GB18030. The encoding is, in this order: the one the query
    declares (``ctx_enc`` / ``charset``); UTF-8 if every value is valid UTF-8; GB18030 if every
    value decodes to clean text with it; failing all that, each value on its own. A value that
    cannot be read is dropped and its key (lower case, without "rft.") is returned.
    """
    if isinstance(query_string, bytes):
        query_string = query_string.decode("latin-1")
    if not isinstance(query_string, str):
        return {}, []
    # WSGI hands the query string over as Latin-1 text of the raw bytes; a str that is not
    # (a test client's, say) is taken as UTF-8.
    try:
        raw = query_string[:_MAX_QUERY_STRING].encode("latin-1")
    except UnicodeEncodeError:
        raw = query_string[:_MAX_QUERY_STRING].encode("utf-8", errors="ignore")
    pairs = [
        (key.encode("latin-1"), value.encode("latin-1"))
        for key, value in parse_qsl(
            raw.decode("latin-1"), keep_blank_values=True, encoding="latin-1"
        )[:_MAX_PAIRS]
    ]
    decoded_keys = [_normal_key(key.decode("utf-8", errors="ignore")) for key, _ in pairs]
    codec = _declared_codec(
        value.decode("latin-1")
        for key, (_, value) in zip(decoded_keys, pairs, strict=True)
        if key in _CHARSET_KEYS
    )
    values = [value for _, value in pairs]
    if codec is None:
        # Valid UTF-8 is UTF-8, even when what it says is junk (a resolver's own U+FFFD):
        # read as GB18030 it would only become other junk ("锟斤拷").
        if all(_strict(value, "utf-8") is not None for value in values):
            codec = "utf-8"
        elif all(_decode(value, "gb18030") is not None for value in values):
            codec = "gb18030"
    query: dict[str, list[str]] = {}
    unreadable: list[str] = []
    for key, value in zip(decoded_keys, values, strict=True):
        if codec is not None:
            text = _decode(value, codec)
        elif _strict(value, "utf-8") is not None:
            text = _decode(value, "utf-8")
        else:
            text = _decode(value, "gb18030")
        if text is None:
            unreadable.append(key.removeprefix("rft."))
            continue
        query.setdefault(key, []).append(text)
    return query, unreadable


def _normal_key(key: str) -> str:
    return key.strip().lower()


def _declared_codec(declarations: Iterable[str]) -> str | None:
    """The Python codec of the first declared encoding we know ("info:ofi/enc:GB2312")."""
    for declaration in declarations:
        name = declaration.strip().lower().rsplit(":", 1)[-1].strip()
        if not name:
            continue
        if name in _GB_ALIASES:
            return "gb18030"
        try:
            return codecs.lookup(name).name
        except LookupError:
            continue
    return None


def _strict(value: bytes, codec: str) -> str | None:
    try:
        return value.decode(codec)
    except (UnicodeDecodeError, LookupError):
        return None


def _decode(value: bytes, codec: str) -> str | None:
    """The value in this encoding if it decodes to clean text, else None."""
    text = _strict(value, codec)
    return text if text is not None and _is_clean(text) else None


def _is_clean(text: str) -> bool:
    """No replacement, private-use, unassigned or control characters (tab and newline aside)."""
    for char in text:
        if char in "\t\n\r":
            continue
        if char == REPLACEMENT_CHARACTER or unicodedata.category(char) in ("Cc", "Co", "Cn", "Cs"):
            return False
    return True


def parse_openurl(query: object) -> dict[str, str]:
    """Map an OpenURL 0.1 or 1.0 (KEV) query onto the request form's initial data.

    ``query`` is a ``QueryDict`` (``request.GET``) or a plain ``dict[str, list[str]]`` as from
    ``urllib.parse.parse_qs``. The result holds only the keys we found a value for, from:
    document_type, service_type, publication_title, article_title, author, volume_issue, pages,
    year, issn, isbn, doi, publisher, place, edition, language, remarks. All values are plain
    strings (safe to keep in a session).
    """
    fields = _collect_fields(query)
    data: dict[str, str] = {}

    pmid = _pmid(fields)
    document_type = _document_type(fields) or ("journal_article" if pmid else "")
    if document_type:
        data["document_type"] = document_type
        data["service_type"] = "loan" if document_type == "book" else "copy"

    data["publication_title"] = _first(fields, "jtitle", "btitle", "title", "stitle")
    data["article_title"] = _first(fields, "atitle")
    data["author"] = _author(fields)
    data["volume_issue"] = _volume_issue(fields)
    data["pages"] = _pages(fields)
    data["year"] = _year(fields)
    data["issn"] = _identifier(fields, "issn", ("issn", "eissn"), _ISSN_ID_RE, normalize_issn)
    data["isbn"] = _identifier(fields, "isbn", ("isbn",), _ISBN_ID_RE, normalize_isbn)
    data["doi"] = _doi(fields)
    data["publisher"] = _first(fields, "pub", "publisher")
    data["place"] = _first(fields, "place")
    data["edition"] = _first(fields, "edition")
    data["language"] = _first(fields, "language")
    remarks = []
    source = _source(fields)
    if source:
        remarks.append(gettext("Sent by: %(source)s") % {"source": source})
    # Identifiers the form has no field for: staff look the work up by them (the admin links a
    # PMID to PubMed).
    if pmid:
        remarks.append(f"PMID: {pmid}")
    oclc = _oclc_number(fields)
    if oclc:
        remarks.append(f"OCLC: {oclc}")
    data["remarks"] = "; ".join(remarks)

    return {key: _truncate(value, MAX_LENGTHS.get(key)) for key, value in data.items() if value}


# --- reading the query ----------------------------------------------------------------------


def _collect_fields(query: object) -> dict[str, list[str]]:
    """Cleaned, non-empty values per OpenURL key, 1.0 ("rft.") values before 0.1 ones.

    Resolvers often send both spellings; the 1.0 one is the better-specified, so it wins.
    """
    preferred: dict[str, list[str]] = {}
    fallback: dict[str, list[str]] = {}
    for raw_key, raw_values in _items(query):
        key = raw_key.strip().lower()
        if key.startswith("rft."):
            key, target = key[4:], preferred
        elif key in _KEY_ALIASES:
            key, target = _KEY_ALIASES[key], preferred
        else:
            target = fallback
        if key not in _KNOWN_KEYS:
            continue
        values = target.setdefault(key, [])
        for raw in raw_values:
            if len(values) >= _MAX_VALUES_PER_KEY:
                break
            value = _clean(raw)
            if value:
                values.append(value)
    fields: dict[str, list[str]] = {}
    for key in preferred.keys() | fallback.keys():
        values = preferred.get(key, []) + fallback.get(key, [])
        if values:
            fields[key] = values
    return fields


def _items(query: object) -> Iterable[tuple[str, list[object]]]:
    """(key, values) pairs from a QueryDict, a dict of lists or a dict of strings."""
    if not isinstance(query, Mapping):
        return []
    lists = getattr(query, "lists", None)
    # QueryDict.items() would give only the last value of a repeated key; lists() gives all.
    pairs = lists() if callable(lists) else query.items()
    result = []
    for key, values in pairs:
        if not isinstance(key, str):
            continue
        if isinstance(values, str | bytes) or not isinstance(values, Iterable):
            values = [values]
        result.append((key, list(islice(values, _MAX_VALUES_PER_KEY))))
    return result


def _clean(raw: object) -> str:
    """The value as a single-line string without control characters, or "" if unusable.

    A value with U+FFFD in it was broken before it reached us (a wrong decoding): it is
    dropped whole, never shown or stored.
    """
    if isinstance(raw, bytes):
        raw = _decode(raw[:_MAX_RAW_VALUE], "utf-8") or ""
    if not isinstance(raw, str) or REPLACEMENT_CHARACTER in raw:
        return ""
    # Invisible characters go (core.text: the rule of every form); OpenURL values are single
    # lines with single spaces.
    return " ".join(clean_text(raw[:_MAX_RAW_VALUE]).split())


def _first(fields: Mapping[str, list[str]], *keys: str) -> str:
    for key in keys:
        if fields.get(key):
            return fields[key][0]
    return ""


def _truncate(value: str, max_length: int | None) -> str:
    if max_length is None or len(value) <= max_length:
        return value
    return value[:max_length].rstrip()


# --- individual form fields -----------------------------------------------------------------


def _format(fields: Mapping[str, list[str]]) -> str:
    """The metadata format's last word: "info:ofi/fmt:kev:mtx:journal" gives "journal"."""
    fmt = _first(fields, "fmt").lower()
    return fmt.rsplit(":", 1)[-1] if fmt else ""


def _document_type(fields: Mapping[str, list[str]]) -> str:
    fmt = _format(fields)
    if fmt in _FORMAT_TYPES:
        return _FORMAT_TYPES[fmt]
    genre = _first(fields, "genre").lower()
    if fmt == "book" and genre in _BOOK_FORMAT_GENRE_TYPES:
        return _BOOK_FORMAT_GENRE_TYPES[genre]
    if genre in _GENRE_TYPES:
        return _GENRE_TYPES[genre]
    # No (known) genre: go by the format, then by which fields are present.
    has_part = bool(fields.get("atitle"))
    if fmt == "book" or (not fmt and (fields.get("btitle") or fields.get("isbn"))):
        return "book_chapter" if has_part else "book"
    if fmt == "journal" or (not fmt and (fields.get("jtitle") or fields.get("issn"))):
        return "journal_article"
    return ""


def _author(fields: Mapping[str, list[str]]) -> str:
    """Authors as "Last, First; Other Author", from au values and/or aulast + aufirst."""
    authors = list(dict.fromkeys(fields.get("au", [])))
    last = _first(fields, "aulast")
    if last:
        first = _first(fields, "aufirst", "auinit", "auinit1")
        # Resolvers often repeat the first author in au ("Hackett, Tim"); keep that form.
        if not any(_mentions(author, last) for author in authors):
            authors.insert(0, f"{last}, {first}" if first else last)
    if not authors:
        authors = fields.get("aucorp", [])[:1]
    return "; ".join(authors)


def _mentions(author: str, last_name: str) -> bool:
    return last_name.casefold() in re.split(r"[\s,.]+", author.casefold())


def _volume_issue(fields: Mapping[str, list[str]]) -> str:
    volume = _first(fields, "volume")
    # Some resolvers send the issue already in parentheses: "(2)".
    issue = _first(fields, "issue").strip("() ")
    return f"{volume}({issue})" if issue else volume


def _pages(fields: Mapping[str, list[str]]) -> str:
    start, end = _first(fields, "spage"), _first(fields, "epage")
    if start:
        pages = f"{start}-{end}" if end and end != start else start
    else:
        pages = _first(fields, "pages", "artnum")
    return _normalized_or_raw(pages, normalize_pages)


def _year(fields: Mapping[str, list[str]]) -> str:
    """The first 4-digit year in the first date that has one ("2004-06-01" gives "2004")."""
    for date in fields.get("date", []):
        match = _YEAR_RE.search(to_halfwidth(date))
        if match:
            return match.group()
    return ""


def _identifier(
    fields: Mapping[str, list[str]],
    name: str,
    keys: tuple[str, ...],
    id_prefix: re.Pattern[str],
    normalize: Callable[[str], str],
) -> str:
    """The first valid identifier, normalised; failing that, the first one sent, as sent.

    Candidates come from the named keys and from ``id``/``rft_id`` URNs (urn:ISSN:...).
    """
    candidates = [value for key in keys for value in fields.get(key, [])]
    candidates += [
        id_prefix.sub("", value).strip() for value in fields.get("id", []) if id_prefix.match(value)
    ]
    for candidate in candidates:
        try:
            return normalize(candidate)
        except ValidationError:
            continue
    # Too long to be the identifier at all: better no value than a cut-off wrong one.
    return next((c for c in candidates if len(c) <= MAX_LENGTHS[name]), "")


def _doi(fields: Mapping[str, list[str]]) -> str:
    candidates = list(fields.get("doi", []))
    candidates += [value for value in fields.get("id", []) if _DOI_ID_RE.match(value)]
    # A cut-off DOI would silently point at another work, so a too-long one is dropped.
    fits = MAX_LENGTHS["doi"]
    for candidate in candidates:
        try:
            doi = normalize_doi(candidate)
        except ValidationError:
            continue
        if len(doi) <= fits:
            return doi
    raw = (_DOI_ID_RE.sub("", c, count=1).strip() for c in candidates)
    return next((c for c in raw if c and len(c) <= fits), "")


def _pmid(fields: Mapping[str, list[str]]) -> str:
    """The PubMed ID from id=pmid:… / rft_id=info:pmid/… or a pmid key."""
    for value in fields.get("id", []):
        match = _PMID_ID_RE.match(value)
        if match:
            return match.group(1)
    return next((value for value in fields.get("pmid", []) if _PMID_RE.match(value)), "")


def _oclc_number(fields: Mapping[str, list[str]]) -> str:
    """WorldCat's record number from rft_id=info:oclcnum/…."""
    for value in fields.get("id", []):
        match = _OCLC_ID_RE.match(value)
        if match:
            return match.group(1)
    return ""


def _source(fields: Mapping[str, list[str]]) -> str:
    """Who sent the reader: rfr_id "info:sid/sfx.lib.example.edu:SFX" or 0.1 sid "CNKI:xxx"."""
    source = _first(fields, "sid")
    return re.sub(r"^info:sid/", "", source, flags=re.IGNORECASE)


def _normalized_or_raw(value: str, normalize: Callable[[str], str]) -> str:
    if not value:
        return ""
    try:
        return normalize(value)
    except ValidationError:
        return value
