"""The set-based import's quick cleaning of plain rows (`legacy_copy.plain_request`) gives
what `clean_request` gives them, and its title key what `normalize_title` gives."""

import csv
import string
from datetime import datetime
from decimal import Decimal

import pytest

from requests_app.legacy_copy import CLEANED, plain_request, title_key
from requests_app.legacy_import import REQUEST_COLUMNS, RowError, clean_request
from requests_app.validators import normalize_title
from tests.requests_app.test_legacy_import import AWKWARD_ROWS, generate

PLAIN = dict(zip(REQUEST_COLUMNS, [
    "10001", "7", "复制", "期刊论文", "Nature", "On cells", "A. Author", "12(3)", "2001",
    "1-10", "0028-0836", "", "2001-05-06 07:08:09", "已传递", "12.5", "", "British Library",
], strict=True))  # fmt: skip

VARIANTS = [
    {},
    {"status": "已完成", "service": "借调", "return_date": "2004-02-29"},
    {"status": "已完成"},
    {"submitted_at": "1992-01-01 00:00:00", "total_fee": ""},
    {"submitted_at": "1991-12-31 23:59:59"},  # summer time years: not plain
    {"submitted_at": "2000-02-29 12:00:00"},
    {"submitted_at": "1900-02-29 12:00:00"},
    {"submitted_at": "2001-02-29 12:00:00"},
    {"submitted_at": "2001-04-31 12:00:00"},
    {"submitted_at": "2001-13-01 12:00:00"},
    {"submitted_at": "2001-01-01 24:00:00"},
    {"return_date": "2001-02-29"},
    {"return_date": "0000-01-01"},
    {"request_no": "2147483647", "user_id": "2147483648"},
    {"request_no": "0010001"},
    {"request_no": "１２３"},
    {"isbn": "978-7-111-12345-6", "issn": "1234-567x"},
    {"isbn": "978-7-111-12345-67"},
    {"total_fee": "00000001.5"},
    {"total_fee": "123456789"},
    {"total_fee": "-1"},
    {"year": "19999"},
    {"title": "  ", "article_title": ""},
    {"title": "x" * 255, "article_title": " " + "y" * 255 + " "},
    {"author": "z" * 256},
    {"volume_issue": "v" * 51},
    {"pages": "p" * 51},
    {"title": "Tab\there, back\\slash \\N, line\nbreak", "article_title": ""},
    {"title": "The\u3000Ｆｕｌｌ－width Title 中文", "article_title": ""},
    {"article_title": "\tThe  A-Z of it! ", "supplier": "\u3000Lib\u3000"},
    {"service": " 复制 "},
    {"doc_type": "未知"},
]


def _cells(row: dict) -> tuple:
    return tuple(row[name] for name in REQUEST_COLUMNS)


def _as_clean(values: list) -> dict:
    """A plain row's text, read back as `clean_request` gives it."""
    clean = dict(zip(CLEANED, values, strict=True))
    clean["number"], clean["user_id"] = int(clean["number"]), int(clean["user_id"])
    clean["submitted_at"] = datetime.fromisoformat(clean["submitted_at"])
    clean["total_fee"] = Decimal(clean["total_fee"]).quantize(Decimal("0.01"))
    clean["return_date"] = (
        datetime.strptime(clean["return_date"], "%Y-%m-%d").date() if clean["return_date"] else None
    )
    return clean


def _check(row: dict) -> bool:
    """Whether the row was plain; if so, its cleaning agrees with clean_request's."""
    values = plain_request(_cells(row))
    if values is None:
        return False
    expected = clean_request(row)
    expected["title_key"] = normalize_title(
        expected["article_title"] or expected["publication_title"]
    )[:255]
    assert _as_clean(values) == expected, row
    assert _as_clean(values)["submitted_at"].utcoffset() == expected["submitted_at"].utcoffset()
    return True


def test_a_plain_row_is_cleaned_as_clean_request_cleans_it():
    plain = [_check(PLAIN | variant) for variant in VARIANTS]
    assert plain[:4] == [True] * 4
    assert plain[4] is False  # 1991: left to clean_request
    assert sum(plain) >= 10  # every other variant is plain too, or a defect


@pytest.mark.parametrize("variant", VARIANTS)
def test_a_row_clean_request_rejects_is_never_plain(variant):
    row = PLAIN | variant
    try:
        clean_request(row)
    except RowError:
        assert plain_request(_cells(row)) is None


def test_every_row_of_a_dirty_export_agrees(tmp_path):
    generate(tmp_path, accounts=50, requests=2000, seed=3)
    with (tmp_path / "requests.csv").open(encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.DictReader(handle))
    rows += [dict(zip(REQUEST_COLUMNS, row, strict=True)) for row in AWKWARD_ROWS]
    plain = 0
    for row in rows:
        try:
            plain += _check(row)
        except RowError:
            assert plain_request(_cells(row)) is None
    assert plain > 1500


@pytest.mark.parametrize(
    "title",
    [
        string.printable,
        "".join(map(chr, range(128))),
        "The Lancet",
        "the",
        "A",
        "An  apple",
        "Theory of Everything",
        "--The--(Journal)",
        "a b",
        "x" * 300,
        "THE NEW  ENGLAND\tJOURNAL\x1fOF MEDICINE",
        "Ｔｈｅ title",
        "《图书馆杂志》",
    ],
)
def test_the_title_key_is_normalize_titles(title):
    assert title_key(title) == normalize_title(title)[:255]
