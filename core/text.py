"""What typed or pasted text may contain: one rule for every form, the models and OpenURL.

Invisible characters have no place in a reader's name or a book title: control characters
(C0 and C1, DEL), bidirectional overrides and isolates (U+202A–202E, U+2066–2069), which can make
a text display in another order than it is stored, zero-width characters and the other
formatting characters (Unicode category Cf: U+200B–200F, U+2060, U+FEFF, the soft hyphen…), lone
surrogates, U+FFFD (the mark of bytes that were not text) and the non-characters U+FFFE/U+FFFF.

Control characters that separate words (tab, newline, NUL…) become a space, so that words stay
apart; the rest go. Multi-line text keeps its line breaks, as "\\n".
"""

import re
import unicodedata

_LINE_BREAKS = re.compile(r"\r\n|[\r\n\u2028\u2029]")
_REMOVED = {"\ufffd", "\ufffe", "\uffff"}


def _character(ch: str) -> str:
    if ch in _REMOVED:
        return ""
    category = unicodedata.category(ch)
    if category in ("Cc", "Cs", "Zl", "Zp"):
        return " "
    if category == "Cf":
        return ""
    return ch


def clean_text(value: str, *, multiline: bool = False) -> str:
    """`value` without the characters above; line breaks kept (as "\\n") when `multiline`."""
    if not value:
        return value
    if value.isascii() and value.isprintable():
        return value
    if multiline:
        return "\n".join(
            "".join(_character(ch) for ch in line) for line in _LINE_BREAKS.split(value)
        )
    return "".join(_character(ch) for ch in value)


def has_unwanted_characters(value: str, *, multiline: bool = False) -> bool:
    """Whether clean_text would change `value` (for checks and tests)."""
    return clean_text(value, multiline=multiline) != value
