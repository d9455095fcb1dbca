"""Tables of good and bad values for the ILL request field validators and normalisers."""

from datetime import date

import pytest
from django.core.exceptions import ValidationError

from requests_app import validators as v
from tests.validation import JUNK, english_message, error_code

# Worked examples used throughout. ISBN 978-7-302-12345-3: 9+21+8+21+3+0+2+3+2+9+4+15 = 97,
# so the check digit is 3. Its ISBN-10 twin 7-302-12345-4: the weighted sum of the first nine
# digits is 161 = 11*14 + 7, so the check digit is 11 - 7 = 4.
ISBN13 = "978-7-302-12345-3"
ISBN10 = "7-302-12345-4"


# --- ISSN ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("0264-1615", "0264-1615"),
        ("02641615", "0264-1615"),
        ("  0264-1615  ", "0264-1615"),
        ("０２６４－１６１５", "0264-1615"),
        ("０２６４－１６１５\u3000", "0264-1615"),
        ("0264 1615", "0264-1615"),
        ("0264\u20131615", "0264-1615"),  # en dash pasted from a PDF
        ("ISSN 0264-1615", "0264-1615"),
        ("issn: 0264-1615", "0264-1615"),
        ("2049-369x", "2049-369X"),  # check digit 10 is X, in either case
        ("2049-369X", "2049-369X"),
        ("0028-0836", "0028-0836"),  # Nature
        ("1000-4157", "1000-4157"),
    ],
)
def test_issn_valid(value, expected):
    assert v.normalize_issn(value) == expected


@pytest.mark.parametrize(
    ("value", "code"),
    [
        ("0264-1616", "issn_check_digit"),
        ("0264-1614", "issn_check_digit"),
        ("2049-3690", "issn_check_digit"),
        ("1234-567X", "issn_check_digit"),
        ("0264-161", "issn_format"),
        ("0264-16155", "issn_format"),
        ("0264-16I5", "issn_format"),
        ("X264-1615", "issn_format"),
        ("0264/1615", "issn_format"),
        ("٠٢٦٤-١٦١٥", "issn_format"),  # Arabic-Indic digits are not ASCII digits
        ("0" * 10_000, "issn_format"),
        *[(junk, "issn_format") for junk in JUNK],
    ],
)
def test_issn_invalid(value, code):
    assert error_code(v.normalize_issn, value) == code


# --- ISBN ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (ISBN13, "9787302123453"),
        ("9787302123453", "9787302123453"),
        ("978 7 302 12345 3", "9787302123453"),
        ("ISBN 978-7-302-12345-3", "9787302123453"),
        ("ISBN-13: 978-7-302-12345-3", "9787302123453"),
        ("９７８－７－３０２－１２３４５－３", "9787302123453"),
        (ISBN10, "7302123454"),  # an ISBN-10 stays an ISBN-10
        ("ISBN-10: 7302123454", "7302123454"),
        ("0-8044-2957-X", "080442957X"),
        ("0-8044-2957-x", "080442957X"),
        ("979-10-90636-07-1", "9791090636071"),
        ("978-0-306-40615-7", "9780306406157"),
    ],
)
def test_isbn_valid(value, expected):
    assert v.normalize_isbn(value) == expected


@pytest.mark.parametrize(
    ("value", "code"),
    [
        ("978-7-302-12345-4", "isbn_check_digit"),
        ("7-302-12345-5", "isbn_check_digit"),
        ("0-8044-2957-1", "isbn_check_digit"),
        ("977-7-302-12345-3", "isbn_prefix"),
        ("123-4-567-89012-8", "isbn_prefix"),
        ("978-7-302-12345", "isbn_format"),
        ("978-7-302-12345-33", "isbn_format"),
        ("978730212345X", "isbn_format"),  # X only ends an ISBN-10
        ("73021234X4", "isbn_format"),
        ("ISBN", "isbn_format"),
        ("9" * 10_000, "isbn_format"),
        *[(junk, "isbn_format") for junk in JUNK],
    ],
)
def test_isbn_invalid(value, code):
    assert error_code(v.normalize_isbn, value) == code


# --- DOI -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("10.1108/02641610410538478", "10.1108/02641610410538478"),
        ("  10.1108/02641610410538478\u3000", "10.1108/02641610410538478"),
        ("doi:10.1108/02641610410538478", "10.1108/02641610410538478"),
        ("DOI: 10.1108/02641610410538478", "10.1108/02641610410538478"),
        ("info:doi/10.1108/02641610410538478", "10.1108/02641610410538478"),
        ("https://doi.org/10.1108/02641610410538478", "10.1108/02641610410538478"),
        ("http://dx.doi.org/10.1108/02641610410538478", "10.1108/02641610410538478"),
        ("https://dx.doi.org/10.1108/02641610410538478", "10.1108/02641610410538478"),
        ("doi.org/10.1108/02641610410538478", "10.1108/02641610410538478"),
        ("HTTPS://DOI.ORG/10.1000/ABC", "10.1000/ABC"),
        # Percent-encoding belongs to the URL form only.
        ("https://doi.org/10.1002%2F(SICI)1097-4571", "10.1002/(SICI)1097-4571"),
        ("10.1000/100%25", "10.1000/100%25"),
        # Registrant subdivisions, long registrants, odd but printable suffixes.
        ("10.1000.10/123456", "10.1000.10/123456"),
        ("10.12345/abc", "10.12345/abc"),
        ("10.1002/(SICI)1097-4571(199806)49:8<693::AID-ASI4>3.0.CO;2-0", None),
        ("10.1000/中文后缀", "10.1000/中文后缀"),
        ("10.1000/a/b/c", "10.1000/a/b/c"),
    ],
)
def test_doi_valid(value, expected):
    assert v.normalize_doi(value) == (expected or value)


@pytest.mark.parametrize(
    "value",
    [
        "10.123/abc",  # registrant shorter than 4 digits
        "10.abcd/abc",
        "11.1108/abc",
        "10.1108",
        "10.1108/",
        "10.1108/abc def",
        "10.1108/abc\x00",
        "10.1108/abc\u200b",  # an invisible character is not printable
        "doi:",
        "https://doi.org/",
        "https://example.org/10.1108/abc",
        "urn:doi:10.1108/abc",
        "10.1108/" + "a" * 1000,
        *JUNK,
    ],
)
def test_doi_invalid(value):
    assert error_code(v.normalize_doi, value) == "doi_format"
    assert error_code(v.doi_key, value) == "doi_format"


def test_doi_key_folds_ascii_case_only():
    key = v.doi_key("https://doi.org/10.1108/02641610410538478X")
    assert key == "10.1108/02641610410538478x"
    assert v.doi_key("doi:10.1000/ABC") == v.doi_key("10.1000/abc")
    # The DOI Handbook folds ASCII only; other letters keep their case.
    assert v.doi_key("10.1000/ÄBC") == "10.1000/Äbc"
    assert v.normalize_doi("10.1000/ABC") == "10.1000/ABC"


# --- year ------------------------------------------------------------------------------------

TODAY = date(2025, 6, 30)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2004", "2004"),
        (" 2004 ", "2004"),
        ("２００４", "2004"),
        (2004, "2004"),
        ("1400", "1400"),
        ("2025", "2025"),
        ("2026", "2026"),  # next year: journals date issues ahead
    ],
)
def test_year_valid(value, expected):
    assert v.normalize_year(value, today=TODAY) == expected


@pytest.mark.parametrize(
    ("value", "code"),
    [
        ("1399", "year_range"),
        ("2027", "year_range"),
        ("0000", "year_range"),
        (1399, "year_range"),
        ("204", "year_format"),
        ("20045", "year_format"),
        ("2004a", "year_format"),
        ("2004-05", "year_format"),
        ("二〇〇四", "year_format"),
        ("-2004", "year_format"),
        ("2" * 10_000, "year_format"),
        *[(junk, "year_format") for junk in JUNK],
    ],
)
def test_year_invalid(value, code):
    assert error_code(v.normalize_year, value, today=TODAY) == code


def test_year_range_follows_the_calendar():
    this_year = date.today().year
    assert v.normalize_year(str(this_year + 1)) == str(this_year + 1)
    assert error_code(v.normalize_year, str(this_year + 2)) == "year_range"


def test_year_range_error_gives_the_range():
    with pytest.raises(ValidationError) as caught:
        v.normalize_year("1300", today=TODAY)
    assert caught.value.params == {"min_year": 1400, "max_year": 2026}


# Every item is fine, but together they are longer than the 50 characters the field allows.
LONG_PAGES = "1-2, 3-4, 5-6, 7-8, 9-10, 11-12, 13-14, 15-16, 17-18, 19-20"

# --- pages -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("94-101", "94-101"),
        ("94–101", "94-101"),  # en dash
        ("94—101", "94-101"),  # em dash
        ("94 - 101", "94-101"),
        ("９４－１０１", "94-101"),
        ("94~101", "94-101"),
        ("94～101", "94-101"),
        ("94", "94"),
        ("e1234", "e1234"),
        ("S12-S15", "S12-S15"),
        ("A5-A7", "A5-A7"),
        ("xii-xx", "xii-xx"),
        ("XII", "XII"),
        ("xii-5", "xii-5"),  # front matter into the text: nothing to compare
        ("94-101, 110-112", "94-101, 110-112"),
        ("94-101,110-112", "94-101, 110-112"),
        ("94-101；110", "94-101, 110"),  # full-width semicolon
        ("94-101、110", "94-101, 110"),  # ideographic comma
        ("94-101, ", "94-101"),
        ("pp. 94-101", "94-101"),
        ("p. 94", "94"),
        ("94-94", "94-94"),
    ],
)
def test_pages_valid(value, expected):
    assert v.normalize_pages(value) == expected


@pytest.mark.parametrize(
    ("value", "code"),
    [
        ("101-94", "pages_order"),
        ("S15-S12", "pages_order"),
        ("xx-xii", "pages_order"),
        ("94-101, 112-110", "pages_order"),
        ("1234-56", "pages_order"),  # abbreviated ranges are ambiguous
        ("abc", "pages_format"),
        ("94-", "pages_format"),
        ("-94", "pages_format"),
        ("94-101-110", "pages_format"),
        ("94 101", "pages_format"),
        ("12 pp", "pages_format"),
        ("x1", "pages_format"),
        ("iiii", "pages_format"),
        ("1.5", "pages_format"),
        (",", "pages_format"),
        (LONG_PAGES, "pages_too_long"),
        ("1" * 10_000, "pages_too_long"),
        *[(junk, "pages_format") for junk in JUNK],
    ],
)
def test_pages_invalid(value, code):
    assert error_code(v.normalize_pages, value) == code


def test_pages_order_error_names_the_range():
    with pytest.raises(ValidationError) as caught:
        v.normalize_pages("94-101, 112–110")
    assert caught.value.params == {"range": "112-110"}


# --- volume and issue -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("32(2)", "32(2)"),
        ("  32 (2) ", "32 (2)"),
        ("３２（２）", "32(2)"),
        ("第32卷第2期", "第32卷第2期"),
        ("Vol. 32, No. 2", "Vol. 32, No. 2"),
        ("32\t(2)\x00", "32 (2)"),
        ("", ""),
        ("x" * 50, "x" * 50),
    ],
)
def test_volume_issue_valid(value, expected):
    assert v.normalize_volume_issue(value) == expected


@pytest.mark.parametrize("value", ["x" * 51, "1" * 10_000])
def test_volume_issue_too_long(value):
    assert error_code(v.normalize_volume_issue, value) == "volume_issue_too_long"


# --- titles ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("first", "second"),
    [
        (
            "Licence to Deny? Publisher restrictions on document delivery",
            "licence to deny: publisher restrictions on document delivery.",
        ),
        ("The Journal of Documentation", "Journal of documentation"),
        ("A Study of ILL", "study of ILL"),
        ("An Overview", "overview"),
        ("Interlending & Document Supply", "Interlending  Document Supply"),
        ("ＩＬＬ　Ｒｅｖｉｅｗ", "ILL Review"),
        ("《图书情报工作》", "图书情报工作"),
        ("Straße", "STRASSE"),
        ("Title\x00with\tjunk", "title with junk"),
    ],
)
def test_normalize_title_matches_duplicates(first, second):
    assert v.normalize_title(first) == v.normalize_title(second)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("The Journal of Documentation", "journal of documentation"),
        ("  Licence to Deny?  ", "licence to deny"),
        ("The", "the"),  # an article alone is the whole title
        ("A", "a"),
        ("Theory of Everything", "theory of everything"),
        ("Café", "café"),
        ("", ""),
        ("!?…", ""),
        (None, ""),
        (42, ""),
    ],
)
def test_normalize_title(text, expected):
    assert v.normalize_title(text) == expected


def test_normalize_title_keeps_different_titles_apart():
    assert v.normalize_title("Information Retrieval") != v.normalize_title("Information Science")
    assert v.normalize_title("图书馆") != v.normalize_title("图书")


# --- messages ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("function", "value", "message"),
    [
        (v.normalize_issn, "0264-1616", "The ISSN check digit is wrong; check the number."),
        (v.normalize_issn, "0264-161", "An ISSN has 8 characters, like 0264-1615."),
        (v.normalize_isbn, "978-7-302-12345-4", "The ISBN check digit is wrong; check the number."),
        (v.normalize_isbn, "977-7-302-12345-3", "A 13-digit ISBN starts with 978 or 979."),
        (
            v.normalize_isbn,
            "12345",
            "An ISBN has 10 or 13 digits (an ISBN-10 may end in X), like 978-7-302-12345-3.",
        ),
        (
            v.normalize_doi,
            "10.1/x",
            "A DOI starts with 10., at least 4 digits and a slash, like 10.1108/02641610410538478.",
        ),
        (v.normalize_year, "04", "Enter the year as 4 digits, like 2004."),
        (v.normalize_pages, "101-94", "The page range 101-94 ends before it starts."),
        (v.normalize_pages, LONG_PAGES, "Pages can be at most 50 characters long."),
        (
            v.normalize_volume_issue,
            "1" * 60,
            "Volume and issue can be at most 50 characters long.",
        ),
    ],
)
def test_messages(function, value, message):
    assert english_message(function, value) == message


def test_year_range_message():
    message = english_message(v.normalize_year, "1300", today=TODAY)
    assert message == "Enter a year between 1400 and 2026."


def test_every_code_has_a_message():
    codes = set()
    for function, value in [
        (v.normalize_issn, "x"),
        (v.normalize_issn, "0264-1616"),
        (v.normalize_isbn, "x"),
        (v.normalize_isbn, "9770000000000"),
        (v.normalize_isbn, "978-7-302-12345-4"),
        (v.normalize_doi, "x"),
        (v.normalize_year, "x"),
        (v.normalize_year, "1000"),
        (v.normalize_pages, "x1"),
        (v.normalize_pages, "2-1"),
        (v.normalize_pages, LONG_PAGES),
        (v.normalize_volume_issue, "1" * 60),
    ]:
        codes.add(error_code(function, value))
    assert codes == set(v.MESSAGES)
