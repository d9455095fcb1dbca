"""parse_openurl against real-looking link-resolver URLs, every mapping rule, and junk."""

import json
import random
from urllib.parse import parse_qs, urlencode

import pytest
from django.http import QueryDict
from django.utils import translation

from requests_app import openurl
from requests_app.forms import IllRequestForm
from requests_app.models import IllRequest
from requests_app.openurl import MAX_LENGTHS, parse_openurl

ARTICLE_TITLE = "Licence to Deny? Publisher restrictions on document delivery"
JOURNAL = "Interlending & Document Supply"
DOI = "10.1108/02641610410538478"

# What SFX sends for an OpenURL 0.1 article link.
SFX_01_ARTICLE = (
    "genre=article&atitle=Licence+to+Deny%3F+Publisher+restrictions+on+document+delivery"
    "&title=Interlending+%26+Document+Supply&issn=0264-1615&volume=32&issue=2&spage=94"
    "&epage=101&date=2004&aulast=Hackett"
)

# The same article as an OpenURL 1.0 KEV context object, as SFX and 360 Link send it.
KEV_10_JOURNAL = (
    "url_ver=Z39.88-2004&ctx_ver=Z39.88-2004&ctx_enc=info%3Aofi%2Fenc%3AUTF-8"
    "&rfr_id=info%3Asid%2Fsfxit.com%3Acitation"
    "&rft_val_fmt=info%3Aofi%2Ffmt%3Akev%3Amtx%3Ajournal&rft.genre=article"
    "&rft.atitle=Licence+to+Deny%3F+Publisher+restrictions+on+document+delivery"
    "&rft.jtitle=Interlending+%26+Document+Supply&rft.stitle=Interlending+Doc+Supply"
    "&rft.issn=02641615&rft.volume=32&rft.issue=2&rft.spage=94&rft.epage=101"
    "&rft.date=2004-06-01&rft.aulast=Hackett&rft.aufirst=Tim&rft.au=Hackett%2C+Tim"
    "&rft_id=info%3Adoi%2F10.1108%2F02641610410538478&rft_id=info%3Apmid%2F15000000"
)

KEV_10_BOOK = (
    "url_ver=Z39.88-2004&ctx_ver=Z39.88-2004&rfr_id=info%3Asid%2Fprimo.exlibrisgroup.com"
    "&rft_val_fmt=info%3Aofi%2Ffmt%3Akev%3Amtx%3Abook&rft.genre=book"
    "&rft.btitle=%E4%BF%A1%E6%81%AF%E6%A3%80%E7%B4%A2%E5%AF%BC%E8%AE%BA"  # 信息检索导论
    "&rft.isbn=978-7-302-12345-3&rft.pub=%E6%B8%85%E5%8D%8E%E5%A4%A7%E5%AD%A6%E5%87%BA%E7%89%88"
    "%E7%A4%BE"  # 清华大学出版社
    "&rft.place=%E5%8C%97%E4%BA%AC&rft.date=2006&rft.edition=%E7%AC%AC2%E7%89%88"  # 北京, 第2版
    "&rft.au=%E5%BC%A0%E4%B8%89&rft.au=%E6%9D%8E%E5%9B%9B"  # 张三, 李四
    "&rft.language=chi"
)

OPENURL_01_BOOK = (
    "sid=google&genre=book&title=Introduction+to+Information+Retrieval&isbn=0521865719"
    "&aulast=Manning&aufirst=Christopher+D.&date=2008&pub=Cambridge+University+Press"
    "&place=Cambridge"
)


JOURNAL_FMT = "info:ofi/fmt:kev:mtx:journal"
BOOK_FMT = "info:ofi/fmt:kev:mtx:book"


def query(query_string: str) -> QueryDict:
    return QueryDict(query_string)


@pytest.fixture(autouse=True)
def english():
    with translation.override("en"):
        yield


# --- realistic resolver URLs ----------------------------------------------------------------


def test_sfx_openurl_01_article():
    assert parse_openurl(query(SFX_01_ARTICLE)) == {
        "document_type": "journal_article",
        "service_type": "copy",
        "publication_title": JOURNAL,
        "article_title": ARTICLE_TITLE,
        "author": "Hackett",
        "volume_issue": "32(2)",
        "pages": "94-101",
        "year": "2004",
        "issn": "0264-1615",
    }


def test_kev_10_journal_article():
    assert parse_openurl(query(KEV_10_JOURNAL)) == {
        "document_type": "journal_article",
        "service_type": "copy",
        "publication_title": JOURNAL,
        "article_title": ARTICLE_TITLE,
        "author": "Hackett, Tim",
        "volume_issue": "32(2)",
        "pages": "94-101",
        "year": "2004",
        "issn": "0264-1615",
        "doi": DOI,
        # The PMID the link carries is kept for staff (issue 14).
        "remarks": "Sent by: sfxit.com:citation; PMID: 15000000",
    }


def test_kev_10_book():
    assert parse_openurl(query(KEV_10_BOOK)) == {
        "document_type": "book",
        "service_type": "loan",
        "publication_title": "信息检索导论",
        "author": "张三; 李四",
        "year": "2006",
        "isbn": "9787302123453",
        "publisher": "清华大学出版社",
        "place": "北京",
        "edition": "第2版",
        "language": "chi",
        "remarks": "Sent by: primo.exlibrisgroup.com",
    }


def test_openurl_01_book():
    assert parse_openurl(query(OPENURL_01_BOOK)) == {
        "document_type": "book",
        "service_type": "loan",
        "publication_title": "Introduction to Information Retrieval",
        "author": "Manning, Christopher D.",
        "year": "2008",
        "isbn": "0521865719",
        "publisher": "Cambridge University Press",
        "place": "Cambridge",
        "remarks": "Sent by: google",
    }


def test_kev_10_book_chapter():
    data = parse_openurl(
        query(
            "url_ver=Z39.88-2004&rft_val_fmt=info%3Aofi%2Ffmt%3Akev%3Amtx%3Abook"
            "&rft.genre=bookitem&rft.atitle=Evaluation+in+information+retrieval"
            "&rft.btitle=Introduction+to+Information+Retrieval&rft.spage=151&rft.epage=175"
            "&rft.isbn=9780521865715&rft.aulast=Manning&rft.auinit=C.D."
        )
    )
    assert data == {
        "document_type": "book_chapter",
        "service_type": "copy",
        "publication_title": "Introduction to Information Retrieval",
        "article_title": "Evaluation in information retrieval",
        "author": "Manning, C.D.",
        "pages": "151-175",
        "isbn": "9780521865715",
    }


def test_google_scholar_style_link():
    data = parse_openurl(
        query(
            "sid=google&auinit=T&aulast=Hackett&atitle=Licence+to+deny%3F"
            "&id=doi%3A10.1108%2F02641610410538478&title=Interlending+%26+Document+Supply"
            "&volume=32&issue=2&date=2004&spage=94&issn=0264-1615"
        )
    )
    assert data["author"] == "Hackett, T"
    assert data["doi"] == DOI
    assert data["pages"] == "94"
    assert data["document_type"] == "journal_article"  # no genre, but a journal title + ISSN


def test_plain_dict_of_lists_gives_the_same_result():
    for query_string in (SFX_01_ARTICLE, KEV_10_JOURNAL, KEV_10_BOOK, OPENURL_01_BOOK):
        from_dict = parse_openurl(parse_qs(query_string, keep_blank_values=True))
        assert from_dict == parse_openurl(query(query_string))


def test_dict_of_single_strings():
    assert parse_openurl({"atitle": " Title ", "volume": "32"}) == {
        "article_title": "Title",
        "volume_issue": "32",
    }


def test_values_are_plain_strings():
    data = parse_openurl(query(KEV_10_JOURNAL))
    assert all(type(value) is str for value in data.values())
    json.dumps(data)  # the view may keep it in the session


# --- mapping rules -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("params", "document_type", "service_type"),
    [
        ({"genre": "article"}, "journal_article", "copy"),
        ({"genre": "journal"}, "journal_article", "copy"),
        ({"genre": "issue"}, "journal_article", "copy"),
        ({"genre": "ARTICLE"}, "journal_article", "copy"),
        ({"genre": "proceeding"}, "conference_paper", "copy"),
        ({"genre": "conference"}, "conference_paper", "copy"),
        ({"genre": "book"}, "book", "loan"),
        ({"genre": "bookitem"}, "book_chapter", "copy"),
        ({"genre": "chapter"}, "book_chapter", "copy"),
        ({"genre": "dissertation"}, "thesis", "copy"),
        ({"genre": "report"}, "report", "copy"),
        ({"genre": "preprint"}, "other", "copy"),
        ({"genre": "unknown"}, "other", "copy"),
        ({"genre": "document"}, "other", "copy"),
        ({"rft.genre": "article", "rft_val_fmt": JOURNAL_FMT}, "journal_article", "copy"),
        ({"rft.genre": "article", "rft_val_fmt": BOOK_FMT}, "book_chapter", "copy"),
        ({"rft.genre": "journal", "rft_val_fmt": BOOK_FMT}, "book", "loan"),
        ({"rft.genre": "proceeding", "rft_val_fmt": BOOK_FMT}, "conference_paper", "copy"),
        ({"rft.genre": "report", "rft_val_fmt": BOOK_FMT}, "report", "copy"),
        ({"rft_val_fmt": "info:ofi/fmt:kev:mtx:dissertation"}, "thesis", "copy"),
        ({"rft_val_fmt": "info:ofi/fmt:kev:mtx:patent"}, "patent", "copy"),
        ({"rft_val_fmt": "info:ofi/fmt:kev:mtx:patent", "rft.genre": "article"}, "patent", "copy"),
        ({"rft_val_fmt": "info:ofi/fmt:xml:xsd:book"}, "book", "loan"),
        # No genre: the format decides, then whether a part of the work is named.
        ({"rft_val_fmt": JOURNAL_FMT}, "journal_article", "copy"),
        ({"rft_val_fmt": BOOK_FMT}, "book", "loan"),
        ({"rft_val_fmt": BOOK_FMT, "rft.atitle": "Ch. 1"}, "book_chapter", "copy"),
        # Neither: the identifiers and titles decide.
        ({"isbn": "9787302123453"}, "book", "loan"),
        ({"btitle": "A book", "atitle": "A chapter"}, "book_chapter", "copy"),
        ({"issn": "0264-1615"}, "journal_article", "copy"),
        ({"rft.jtitle": "A journal"}, "journal_article", "copy"),
    ],
)
def test_document_and_service_type(params, document_type, service_type):
    data = parse_openurl({key: [value] for key, value in params.items()})
    assert (data.get("document_type"), data.get("service_type")) == (document_type, service_type)


@pytest.mark.parametrize(
    "params",
    [
        {},
        {"genre": "nonsense"},
        {"title": "Just a title"},
        {"rft_val_fmt": "info:ofi/fmt:kev:mtx:sch_svc"},
    ],
)
def test_no_document_type_when_nothing_says(params):
    data = parse_openurl({key: [value] for key, value in params.items()})
    assert "document_type" not in data
    assert "service_type" not in data


@pytest.mark.parametrize(
    ("query_string", "expected"),
    [
        ("jtitle=J&btitle=B&title=T&stitle=S", "J"),
        ("btitle=B&title=T&stitle=S", "B"),
        ("title=T&stitle=S", "T"),
        ("stitle=S", "S"),
        ("rft.title=New&title=Old", "New"),  # the 1.0 key wins over the 0.1 one
        ("title=First&title=Second", "First"),
    ],
)
def test_publication_title(query_string, expected):
    assert parse_openurl(query(query_string))["publication_title"] == expected


@pytest.mark.parametrize(
    ("query_string", "expected"),
    [
        ("aulast=Hackett", "Hackett"),
        ("aulast=Hackett&aufirst=Tim", "Hackett, Tim"),
        ("aulast=Hackett&auinit=T.", "Hackett, T."),
        ("aulast=Hackett&auinit1=T", "Hackett, T"),
        ("aulast=Hackett&aufirst=Tim&auinit=T", "Hackett, Tim"),
        ("au=Hackett, Tim&au=Smith, Jane", "Hackett, Tim; Smith, Jane"),
        ("rft.au=Hackett, Tim&rft.au=Hackett, Tim", "Hackett, Tim"),
        # The first author given as aulast/aufirst and again in au appears once, as in au.
        ("aulast=Hackett&aufirst=Tim&au=Hackett, T.&au=Smith, Jane", "Hackett, T.; Smith, Jane"),
        ("aulast=Hackett&au=Tim Hackett", "Tim Hackett"),
        ("aulast=Hackett&aufirst=Tim&au=Smith, Jane", "Hackett, Tim; Smith, Jane"),
        ("aucorp=IFLA", "IFLA"),
        ("aucorp=IFLA&aulast=Hackett", "Hackett"),
        ("aufirst=Tim", None),
    ],
)
def test_author(query_string, expected):
    assert parse_openurl(query(query_string.replace(" ", "+"))).get("author") == expected


@pytest.mark.parametrize(
    ("query_string", "expected"),
    [
        ("volume=32&issue=2", "32(2)"),
        ("volume=32", "32"),
        ("issue=2", "(2)"),
        ("volume=32&issue=(2)", "32(2)"),
        ("rft.volume=32&rft.issue=2-3", "32(2-3)"),
        ("volume=&issue=", None),
        ("volume=" + "9" * 100, "9" * 50),
    ],
)
def test_volume_issue(query_string, expected):
    assert parse_openurl(query(query_string)).get("volume_issue") == expected


@pytest.mark.parametrize(
    ("query_string", "expected"),
    [
        ("spage=94&epage=101", "94-101"),
        ("spage=94", "94"),
        ("spage=94&epage=94", "94"),
        ("epage=101", None),
        ("pages=94%E2%80%93101", "94-101"),  # en dash, normalised
        ("rft.pages=94-101&spage=1&epage=2", "1-2"),  # spage/epage are the more exact
        ("rft.artnum=e1234", "e1234"),
        ("spage=S12&epage=S15", "S12-S15"),
        ("spage=101&epage=94", "101-94"),  # wrong, but passed on for the form to report
        ("pages=see+note", "see note"),
        ("spage=" + "1" * 100, "1" * 50),
    ],
)
def test_pages(query_string, expected):
    assert parse_openurl(query(query_string)).get("pages") == expected


@pytest.mark.parametrize(
    ("query_string", "expected"),
    [
        ("date=2004", "2004"),
        ("date=2004-06-01", "2004"),
        ("rft.date=2004-06&date=1999", "2004"),
        ("date=Summer+2004", "2004"),
        ("date=%EF%BC%92%EF%BC%90%EF%BC%90%EF%BC%94", "2004"),  # full-width ２００４
        ("date=20040601", None),
        ("date=abc", None),
        ("date=04", None),
        ("date=", None),
    ],
)
def test_year(query_string, expected):
    assert parse_openurl(query(query_string)).get("year") == expected


@pytest.mark.parametrize(
    ("query_string", "expected"),
    [
        ("issn=0264-1615", "0264-1615"),
        ("issn=02641615", "0264-1615"),
        ("rft.issn=2049-369x", "2049-369X"),
        ("eissn=0264-1615", "0264-1615"),
        ("issn=0264-1616&eissn=0028-0836", "0028-0836"),  # the first valid one
        ("issn=0264-1616", "0264-1616"),  # invalid: as sent, the form will say why
        ("rft_id=urn%3AISSN%3A0264-1615", "0264-1615"),
        ("issn=" + "1" * 100, None),  # a cut-off identifier would be a wrong one
        ("issn=", None),
    ],
)
def test_issn(query_string, expected):
    assert parse_openurl(query(query_string)).get("issn") == expected


@pytest.mark.parametrize(
    ("query_string", "expected"),
    [
        ("isbn=978-7-302-12345-3", "9787302123453"),
        ("rft.isbn=7-302-12345-4", "7302123454"),
        ("rft_id=urn%3AISBN%3A9787302123453", "9787302123453"),
        ("isbn=978-7-302-12345-4", "978-7-302-12345-4"),
        ("isbn=978-7-302-12345-4&isbn=9787302123453", "9787302123453"),
    ],
)
def test_isbn(query_string, expected):
    assert parse_openurl(query(query_string)).get("isbn") == expected


@pytest.mark.parametrize(
    ("query_string", "expected"),
    [
        ("rft_id=info%3Adoi%2F10.1108%2F02641610410538478", DOI),
        ("id=doi%3A10.1108%2F02641610410538478", DOI),
        ("id=https%3A%2F%2Fdoi.org%2F10.1108%2F02641610410538478", DOI),
        ("id=http%3A%2F%2Fdx.doi.org%2F10.1108%2F02641610410538478", DOI),
        ("rft.doi=10.1108%2F02641610410538478", DOI),
        ("doi=10.1108/02641610410538478", DOI),
        ("id=pmid%3A15000000&id=doi%3A10.1108%2F02641610410538478", DOI),
        ("rft_id=info%3Apmid%2F15000000", None),
        ("rft_id=info%3Adoi%2F10.12%2Fx", "10.12/x"),  # invalid: as sent, for the form
        ("rft_id=info%3Adoi%2F10.1108%2F" + "a" * 193, None),
        # The model's limit of 200 characters, as in the form.
        ("rft_id=info%3Adoi%2F10.1108%2F" + "a" * 192, "10.1108/" + "a" * 192),
        ("id=info%3Adoi%2F", None),
    ],
)
def test_doi(query_string, expected):
    assert parse_openurl(query(query_string)).get("doi") == expected


@pytest.mark.parametrize(
    ("query_string", "expected"),
    [
        ("rfr_id=info%3Asid%2Fsfxit.com%3Acitation", "Sent by: sfxit.com:citation"),
        ("sid=CNKI%3ACJFD", "Sent by: CNKI:CJFD"),
        ("rfr_id=info%3Asid%2Fprimo&sid=google", "Sent by: primo"),
        ("sid=", None),
    ],
)
def test_remarks_name_the_source(query_string, expected):
    assert parse_openurl(query(query_string)).get("remarks") == expected


def test_publisher_place_edition_language():
    data = parse_openurl(
        query("pub=Emerald&place=Bradford&rft.edition=2nd+ed.&rft.language=eng&publisher=X")
    )
    assert (data["publisher"], data["place"], data["edition"], data["language"]) == (
        "Emerald",
        "Bradford",
        "2nd ed.",
        "eng",
    )


# --- junk ------------------------------------------------------------------------------------


def test_unknown_keys_and_empty_values_are_ignored():
    data = parse_openurl(
        query(
            "url_ver=Z39.88-2004&ctx_tim=2004-06-01T12%3A00%3A00Z&svc.fulltext=yes"
            "&req_id=info%3Aip%2F10.0.0.1&foo=bar&rft.unknown=1&atitle=&title=+++&volume="
            "&rft_dat=%3Cxml%2F%3E&sfx.ignore_date_threshold=1"
        )
    )
    assert data == {}


def test_keys_are_case_insensitive_and_trimmed():
    assert parse_openurl({"RFT.ATitle": ["Title"], " issn ": ["0264-1615"]}) == {
        "article_title": "Title",
        "issn": "0264-1615",
        "document_type": "journal_article",
        "service_type": "copy",
    }


def test_long_values_are_cut_to_the_form_field_lengths():
    long = "x" * 10_000
    data = parse_openurl(
        {
            key: [long]
            for key in ("atitle", "jtitle", "au", "pub", "place", "rft.edition", "volume", "pages")
        }
    )
    assert data["article_title"] == "x" * 255
    assert data["publication_title"] == "x" * 255
    assert data["author"] == "x" * 255
    assert data["publisher"] == "x" * 255
    assert data["place"] == "x" * 255
    assert data["edition"] == "x" * 255
    assert data["volume_issue"] == "x" * 50
    assert data["pages"] == "x" * 50


def test_a_doi_has_one_limit_everywhere():
    assert MAX_LENGTHS["doi"] == IllRequestForm().fields["doi"].max_length == 200
    assert IllRequest._meta.get_field("doi").max_length == 200
    assert MAX_LENGTHS["remarks"] == IllRequest._meta.get_field("remarks").max_length


def test_truncation_does_not_leave_trailing_spaces():
    title = "word " * 51 + "end"  # character 255 is the space after the 51st "word"
    assert parse_openurl({"atitle": [title]})["article_title"] == ("word " * 51).rstrip()


def test_control_characters_are_removed():
    data = parse_openurl(
        query("atitle=Licence%00to%09Deny%0D%0A%3F&au=Hack%C2%ADett&title=%E2%80%8BJournal%07")
    )
    assert data["article_title"] == "Licence to Deny ?"
    assert data["author"] == "Hackett"  # a soft hyphen inside a word is not a word break
    assert data["publication_title"] == "Journal"


def test_lone_surrogates_and_odd_value_types_are_survived():
    data = parse_openurl(
        {
            "atitle": ["Title\udcff"],
            "jtitle": [None, 42, b"Bytes \xff title"],
            "volume": 32,
            "issue": [["nested"]],
            17: ["non-string key"],
            "au": iter(["Iterated, Author"]),
        }
    )
    assert data["article_title"] == "Title"
    # Bytes that are not UTF-8 are not read at all: no U+FFFD, no half a title (issue 14).
    assert "publication_title" not in data
    assert data["author"] == "Iterated, Author"
    assert "volume_issue" not in data  # 32 and ["nested"] are not strings


@pytest.mark.parametrize("junk", [None, "", "genre=article", 42, ["genre", "article"], object()])
def test_non_mappings_give_nothing(junk):
    assert parse_openurl(junk) == {}


def test_repeated_keys_take_the_first_value():
    data = parse_openurl(query("atitle=One&atitle=Two&volume=1&volume=2&date=abc&date=2004"))
    assert data["article_title"] == "One"
    assert data["volume_issue"] == "1"
    assert data["year"] == "2004"  # the first date with a year in it


def test_too_many_values_for_one_key_are_capped():
    # (Django's QueryDict itself refuses more than 1000 fields, so use a plain dict.)
    data = parse_openurl({"au": [f"Author{i}" for i in range(10_000)]})
    assert data["author"].startswith("Author0; Author1; ")
    assert len(data["author"]) <= 255


# --- fuzz ------------------------------------------------------------------------------------

KEYS = [
    *(f"rft.{key}" for key in sorted(openurl._KNOWN_KEYS)),
    *sorted(openurl._KNOWN_KEYS),
    "rft_id",
    "rfr_id",
    "rft_val_fmt",
    "url_ver",
    "",
    "rft.",
    "rft..atitle",
]
ALPHABET = (
    "0123456789-–—~,;.:/()?&=%+ xXeSiIvV"
    "\x00\x07\t\n\r\u200b\u00ad\ufeff\u3000\uff10\uff0d\ud800"
    "aAzZ图书馆第卷期页转"
)
VALUE_SHAPES = [
    "info:doi/10.1108/",
    "doi:",
    "https://doi.org/",
    "urn:ISSN:",
    "urn:ISBN:",
    "info:sid/",
    "info:ofi/fmt:kev:mtx:",
    "10.1234/",
    "0264-161",
    "978-7-302-",
    "",
]


def random_value(rng: random.Random) -> str:
    length = rng.choice([0, 1, 3, 10, 60, 300, 3000])
    return rng.choice(VALUE_SHAPES) + "".join(rng.choice(ALPHABET) for _ in range(length))


@pytest.mark.parametrize("seed", range(300))
def test_fuzz_never_raises(seed):
    rng = random.Random(seed)
    params: dict[str, list[str]] = {}
    for _ in range(rng.randint(0, 25)):
        key = rng.choice(KEYS) if rng.random() < 0.9 else random_value(rng)[:20]
        params.setdefault(key, []).extend(random_value(rng) for _ in range(rng.randint(1, 3)))

    data = parse_openurl(params)
    assert set(data) <= set(MAX_LENGTHS) | {"document_type", "service_type"}
    for key, value in data.items():
        assert type(value) is str
        assert value == value.strip() and value
        assert len(value) <= MAX_LENGTHS.get(key, 20), key
        assert value.isprintable(), (key, value)

    # The same junk through a real query string must not raise either.
    encoded = urlencode(
        [
            (key.encode("utf-8", "surrogatepass"), value.encode("utf-8", "surrogatepass"))
            for key, values in params.items()
            for value in values
        ]
    )
    assert isinstance(parse_openurl(query(encoded)), dict)


def test_fuzz_random_query_strings():
    rng = random.Random(20040601)
    for _ in range(200):
        raw = "".join(
            rng.choice("=&%+;rft.atitlejgenre0123456789abcdefABCDEF\x00 ") for _ in range(80)
        )
        assert isinstance(parse_openurl(query(raw)), dict)
        assert isinstance(parse_openurl(parse_qs(raw, keep_blank_values=True)), dict)
