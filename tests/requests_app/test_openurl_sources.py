"""OpenURLs as the common sources send them, and citations in GBK/GB18030 (issue 14, items 1–2).

Every query here goes through ``read_openurl`` with the raw, still percent-encoded query string,
as the view gets it: Django's ``request.GET`` would already have turned GBK bytes into U+FFFD.
"""

from urllib.parse import quote

import pytest
from django.utils import translation

from requests_app.openurl import decode_query_string, parse_openurl, read_openurl

REPLACEMENT = "\ufffd"


@pytest.fixture(autouse=True)
def english():
    with translation.override("en"):
        yield


def gbk(text: str) -> str:
    return quote(text.encode("gb18030"))


def no_replacement_characters(data):
    return all(REPLACEMENT not in value for value in data.values())


# --- item 1: GBK / GB18030 percent-encoding -------------------------------------------------


def test_the_quoted_gbk_title_is_read_as_chinese():
    # The exact case of the issue: 中文 in GBK.
    data, unreadable = read_openurl("rft.atitle=%D6%D0%CE%C4")
    assert data["article_title"] == "中文"
    assert unreadable == []


def test_a_cnki_style_01_link_in_gbk():
    # CNKI's link resolver links (0.1, GBK, as SFX receives them from CNKI's "OpenURL" button).
    query = (
        f"sid=CNKI:ZGTS&genre=article&atitle={gbk('数字图书馆馆际互借服务研究')}"
        f"&title={gbk('中国图书馆学报')}&issn=1001-8867&date=2020&volume=46&issue=3"
        f"&spage=4&epage=18&aulast={gbk('王')}&aufirst={gbk('小明')}"
    )
    data, unreadable = read_openurl(query)
    assert unreadable == []
    assert data == {
        "document_type": "journal_article",
        "service_type": "copy",
        "article_title": "数字图书馆馆际互借服务研究",
        "publication_title": "中国图书馆学报",
        "author": "王, 小明",
        "volume_issue": "46(3)",
        "pages": "4-18",
        "year": "2020",
        "issn": "1001-8867",
        "remarks": "Sent by: CNKI:ZGTS",
    }


def test_a_single_gbk_character_that_is_also_valid_utf8_follows_the_rest_of_the_query():
    # 小 in GBK is D0 A1, which alone is valid UTF-8 (Cyrillic С); the rest of the query is GBK.
    query = f"rft.atitle={gbk('中文')}&rft.au={gbk('小')}"
    data, _unreadable = read_openurl(query)
    assert data["author"] == "小"


def test_the_declared_charset_wins():
    # Latin-1 bytes that are valid GB18030 too: the declared encoding decides.
    query = "url_ver=Z39.88-2004&ctx_enc=info%3Aofi%2Fenc%3AISO-8859-1&rft.aulast=M%FCller%E9"
    data, unreadable = read_openurl(query)
    assert data["author"] == "Mülleré"
    assert unreadable == []


@pytest.mark.parametrize("key", ["charset", "ctx_enc"])
@pytest.mark.parametrize("name", ["gb2312", "GBK", "GB18030", "info:ofi/enc:GB2312"])
def test_a_declared_chinese_charset(key, name):
    data, _ = read_openurl(f"{key}={quote(name)}&atitle=%D6%D0%CE%C4")
    assert data["article_title"] == "中文"


def test_utf8_declared_but_gbk_sent_prefills_nothing_from_the_broken_keys():
    query = "ctx_enc=info%3Aofi%2Fenc%3AUTF-8&rft.atitle=%D6%D0%CE%C4&rft.issn=1001-8867"
    data, unreadable = read_openurl(query)
    assert "article_title" not in data
    assert data["issn"] == "1001-8867"
    assert unreadable == ["atitle"]


def test_bytes_that_are_neither_utf8_nor_gb18030_are_left_out_and_named():
    # 0xFF is not a byte of either encoding.
    data, unreadable = read_openurl("genre=article&atitle=%FF%FE%FD&title=Nature")
    assert "article_title" not in data
    assert data["publication_title"] == "Nature"
    assert unreadable == ["atitle"]
    assert no_replacement_characters(data)


def test_unknown_keys_with_broken_bytes_are_not_reported():
    data, unreadable = read_openurl("vendor_junk=%FF&atitle=ok")
    assert data == {"article_title": "ok"}
    assert unreadable == []


def test_utf8_stays_utf8():
    data, unreadable = read_openurl("rft.atitle=" + quote("中文 and ñ"))
    assert data["article_title"] == "中文 and ñ"
    assert unreadable == []


def test_a_replacement_character_already_in_a_value_is_never_kept():
    # As a QueryDict would hand it over, or a resolver that already broke it.
    assert parse_openurl({"atitle": ["����"], "title": ["Nature"]}) == {
        "publication_title": "Nature"
    }
    data, _ = read_openurl("atitle=" + quote("ab\ufffdcd") + "&title=Nature")
    assert "article_title" not in data


def test_decode_query_string_takes_bytes_and_plus_signs():
    query, unreadable = decode_query_string(b"atitle=a+b%20c&au=%D6%D0")
    assert query == {"atitle": ["a b c"], "au": ["中"]}
    assert unreadable == []


# --- item 2: PubMed and the other common sources --------------------------------------------


def test_pubmed_keeps_the_pmid_and_infers_article_and_copy():
    # The case: PubMed's LinkOut sends only identifiers.
    data, _ = read_openurl("sid=Entrez:PubMed&id=pmid:19204306&id=doi:10.1056/NEJMoa0807646")
    assert data == {
        "document_type": "journal_article",
        "service_type": "copy",
        "doi": "10.1056/NEJMoa0807646",
        "remarks": "Sent by: Entrez:PubMed; PMID: 19204306",
    }


def test_pubmed_pmid_alone_is_still_an_article():
    data, _ = read_openurl("sid=Entrez:PubMed&id=pmid:19204306")
    assert data["document_type"] == "journal_article"
    assert data["service_type"] == "copy"
    assert "PMID: 19204306" in data["remarks"]


def test_pubmed_10_kev():
    data, _ = read_openurl(
        "url_ver=Z39.88-2004&rfr_id=info%3Asid%2FEntrez%3APubMed"
        "&rft_id=info%3Apmid%2F19204306&rft_id=info%3Adoi%2F10.1056%2FNEJMoa0807646"
    )
    assert "PMID: 19204306" in data["remarks"]
    assert data["document_type"] == "journal_article"
    assert data["doi"] == "10.1056/NEJMoa0807646"


def test_a_doi_alone_does_not_decide_the_type():
    # A DOI names books and chapters as well as articles.
    data, _ = read_openurl("id=doi:10.1108/02641610410538478")
    assert "document_type" not in data


def test_not_a_pmid_is_not_kept():
    data, _ = read_openurl("id=pmid:12ab&title=Nature")
    assert "PMID" not in data.get("remarks", "")


def test_a_wanfang_style_link():
    # Wanfang Data sends 0.1 in UTF-8 with its own sid and the journal's Chinese title.
    query = (
        "sid=Wanfang:WF&genre=article&atitle="
        + quote("高校图书馆文献传递服务调查")
        + "&title="
        + quote("图书情报工作")
        + "&issn=0252-3116&date=2019-05&volume=63"
        "&issue=10&pages=45-52&au=" + quote("李华") + "&au=" + quote("陈静")
    )
    data, unreadable = read_openurl(query)
    assert unreadable == []
    assert data == {
        "document_type": "journal_article",
        "service_type": "copy",
        "article_title": "高校图书馆文献传递服务调查",
        "publication_title": "图书情报工作",
        "author": "李华; 陈静",
        "volume_issue": "63(10)",
        "pages": "45-52",
        "year": "2019",
        "issn": "0252-3116",
        "remarks": "Sent by: Wanfang:WF",
    }


def test_a_worldcat_book_link_keeps_the_oclc_number():
    query = (
        "url_ver=Z39.88-2004&rfr_id=info%3Asid%2Ffirstsearch.oclc.org%3AWorldCat"
        "&rft_val_fmt=info%3Aofi%2Ffmt%3Akev%3Amtx%3Abook&rft.genre=book"
        "&rft.btitle=Introduction+to+information+retrieval&rft.aulast=Manning"
        "&rft.aufirst=Christopher+D.&rft.pub=Cambridge+University+Press&rft.place=New+York"
        "&rft.date=2008&rft.isbn=9780521865715&rft_id=info%3Aoclcnum%2F190786122"
    )
    data, _ = read_openurl(query)
    assert data == {
        "document_type": "book",
        "service_type": "loan",
        "publication_title": "Introduction to information retrieval",
        "author": "Manning, Christopher D.",
        "publisher": "Cambridge University Press",
        "place": "New York",
        "year": "2008",
        "isbn": "9780521865715",
        "remarks": "Sent by: firstsearch.oclc.org:WorldCat; OCLC: 190786122",
    }


def test_a_scopus_link_with_empty_keys_and_no_genre():
    # Scopus sends every key, many empty, and no genre.
    query = (
        "sid=Elsevier:Scopus&_service_type=getFullTxt&issn=00219258&isbn=&volume=284"
        "&issue=12&spage=7556&epage=7564&pages=7556-7564&artnum=&date=2009"
        "&id=doi:10.1074%2Fjbc.M807855200&title=Journal+of+Biological+Chemistry"
        "&atitle=Molecular+basis+of+the+interaction&aufirst=J.&auinit=J.&auinit1=J&aulast=Smith"
    )
    data, _ = read_openurl(query)
    assert data == {
        "document_type": "journal_article",
        "service_type": "copy",
        "publication_title": "Journal of Biological Chemistry",
        "article_title": "Molecular basis of the interaction",
        "author": "Smith, J.",
        "volume_issue": "284(12)",
        "pages": "7556-7564",
        "year": "2009",
        "issn": "0021-9258",
        "doi": "10.1074/jbc.M807855200",
        "remarks": "Sent by: Elsevier:Scopus",
    }


def test_a_web_of_science_link():
    query = (
        "url_ver=Z39.88-2004&ctx_ver=Z39.88-2004&rfr_id=info%3Asid%2Fwww.isinet.com%3AWoK%3AWOS"
        "&rft.atitle=Licence+to+deny&rft.jtitle=INTERLENDING+%26+DOCUMENT+SUPPLY"
        "&rft.stitle=INTERLEND+DOC+SUPPLY&rft.date=2004&rft.volume=32&rft.issue=2"
        "&rft.spage=94&rft.epage=101&rft.issn=0264-1615&rft.genre=article"
        "&rft.au=Hackett%2C+T&rft_id=info%3Adoi%2F10.1108%2F02641610410538478"
        "&rft_id=info%3Apmid%2F15000000"
    )
    data, _ = read_openurl(query)
    assert data["document_type"] == "journal_article"
    assert data["publication_title"] == "INTERLENDING & DOCUMENT SUPPLY"
    assert data["author"] == "Hackett, T"
    assert data["remarks"] == "Sent by: www.isinet.com:WoK:WOS; PMID: 15000000"


def test_sfx_01_and_10_give_the_same_citation():
    sfx_01 = (
        "sid=sfx:citation&genre=article&atitle=A&title=Journal&issn=0264-1615&volume=1"
        "&issue=2&spage=3&epage=4&date=2001&aulast=Doe&aufirst=Jane"
    )
    sfx_10 = (
        "url_ver=Z39.88-2004&ctx_ver=Z39.88-2004&ctx_enc=info%3Aofi%2Fenc%3AUTF-8"
        "&rfr_id=info%3Asid%2Fsfx%3Acitation&rft_val_fmt=info%3Aofi%2Ffmt%3Akev%3Amtx%3Ajournal"
        "&rft.genre=article&rft.atitle=A&rft.jtitle=Journal&rft.issn=0264-1615&rft.volume=1"
        "&rft.issue=2&rft.spage=3&rft.epage=4&rft.date=2001&rft.aulast=Doe&rft.aufirst=Jane"
    )
    assert read_openurl(sfx_01) == read_openurl(sfx_10)
