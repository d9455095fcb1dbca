"""Tables of good and bad values for the validators every app uses (core.validators)."""

import pytest

from core import validators as v
from tests.validation import JUNK, english_message, error_code

# --- to_halfwidth ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("０２６４－１６１５", "0264-1615"),
        ("ＩＳＢＮ　９７８", "ISBN 978"),
        ("ａｂｃ！～", "abc!~"),
        ("plain ascii", "plain ascii"),
        # CJK text, CJK punctuation and compatibility characters are left alone.
        ("《图书馆杂志》「第一」", "《图书馆杂志》「第一」"),
        ("㈱ ① ﬁ", "㈱ ① ﬁ"),
        ("", ""),
    ],
)
def test_to_halfwidth(text, expected):
    assert v.to_halfwidth(text) == expected


# --- phone -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("13812345678", "13812345678"),
        ("+86 138 1234 5678", "+86 138 1234 5678"),
        ("+86-10-62751234", "+86-10-62751234"),
        ("(010) 6275-1234", "(010) 6275-1234"),
        ("(+86) 10 62751234", "(+86) 10 62751234"),
        ("０１０－６２７５１２３４", "010-62751234"),
        ("  010   62751234 ", "010 62751234"),
        ("010-62751234 转 8001", "010-62751234 转 8001"),
        ("010-62751234转8001", "010-62751234转8001"),
        ("010-62751234 分机 8001", "010-62751234 分机 8001"),
        ("+44 20 7946 0958 ext. 12", "+44 20 7946 0958 ext. 12"),
        ("+1 555 0100 x 12", "+1 555 0100 x 12"),
        ("12345", "12345"),
        ("1" * 20, "1" * 20),
    ],
)
def test_phone_valid(value, expected):
    assert v.normalize_phone(value) == expected


@pytest.mark.parametrize(
    ("value", "code"),
    [
        ("1234", "phone_length"),
        ("1" * 21, "phone_length"),
        ("010-6275 转 12345678901234", "phone_length"),
        ("138-1234-5678 or 139", "phone_format"),
        ("phone me", "phone_format"),
        ("86+10 62751234", "phone_format"),
        ("++86 10 62751234", "phone_format"),
        ("010.6275.1234", "phone_format"),
        ("reader@example.edu", "phone_format"),
        ("转8001", "phone_format"),
        ("1" * 10_000, "phone_format"),
        *[(junk, "phone_format") for junk in JUNK],
    ],
)
def test_phone_invalid(value, code):
    assert error_code(v.normalize_phone, value) == code


# --- postal code -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("100871", "100871"),
        (" 100871 ", "100871"),
        ("１００８７１", "100871"),
        ("SW1A 1AA", "SW1A 1AA"),
        ("sw1a  1aa", "SW1A 1AA"),
        ("02139-4307", "02139-4307"),
        ("113-0033", "113-0033"),
        ("D02 X285", "D02 X285"),
        ("751", "751"),
        ("1234567890", "1234567890"),
    ],
)
def test_postal_code_valid(value, expected):
    assert v.normalize_postal_code(value) == expected


@pytest.mark.parametrize(
    "value",
    ["12", "12345678901", "100 871 000 1", "-10087", "10087-", "1008#1", "北京100871", *JUNK],
)
def test_postal_code_invalid(value):
    assert error_code(v.normalize_postal_code, value) == "postal_code_format"


# --- messages ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("function", "value", "message"),
    [
        (
            v.normalize_phone,
            "call me",
            "Enter a phone number, digits with optional +, spaces or hyphens.",
        ),
        (v.normalize_phone, "1234", "A phone number has between 5 and 20 digits."),
        (
            v.normalize_postal_code,
            "12",
            "Enter a postal code: 6 digits in China, or 3 to 10 letters, digits, spaces or "
            "hyphens for an address abroad.",
        ),
    ],
)
def test_messages(function, value, message):
    assert english_message(function, value) == message


def test_every_code_has_a_message():
    codes = {
        error_code(function, value)
        for function, value in [
            (v.normalize_phone, "x"),
            (v.normalize_phone, "1"),
            (v.normalize_postal_code, "x"),
        ]
    }
    assert codes == set(v.MESSAGES)
