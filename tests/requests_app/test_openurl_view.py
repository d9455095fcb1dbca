"""`GET /openurl`: a citation from a database or link resolver opens the prefilled form."""

from urllib.parse import quote

import pytest

from requests_app.models import IllRequest

pytestmark = pytest.mark.django_db

# As SFX sends an OpenURL 0.1 link for the worked example.
OPENURL_01 = (
    "/openurl?sid=EBSCO:lxh&genre=article&atitle=Licence%20to%20Deny%3F%20Publisher%20restrictions"
    "%20on%20document%20delivery&title=Interlending%20%26%20Document%20Supply&issn=02641615"
    "&volume=32&issue=2&spage=94&epage=101&date=2004&aulast=Hackett&aufirst=Tim"
    "&id=doi:10.1108/02641610410538478"
)
# As a 1.0 KEV link resolver (Primo, 360 Link) sends it, for a book.
OPENURL_10_BOOK = (
    "/openurl?url_ver=Z39.88-2004&ctx_ver=Z39.88-2004&rft_val_fmt=info%3Aofi%2Ffmt%3Akev%3Amtx"
    "%3Abook&rft.genre=book&rft.btitle=Information%20Retrieval&rft.au=Manning%2C%20Christopher"
    "&rft.pub=Cambridge%20University%20Press&rft.place=Cambridge&rft.date=2008"
    "&rft.isbn=978-0-521-86571-5&rfr_id=info%3Asid%2Fprimo.exlibrisgroup.com"
)


def open_form(client, url):
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"] == "/requests/new/"
    return client.get("/requests/new/").context["form"]


def test_an_openurl_01_article_prefills_the_form(client_a, reader_a):
    form = open_form(client_a, OPENURL_01)
    assert form["document_type"].value() == "journal_article"
    assert form["service_type"].value() == "copy"
    assert form["publication_title"].value() == "Interlending & Document Supply"
    assert form["article_title"].value().startswith("Licence to Deny?")
    assert form["volume_issue"].value() == "32(2)"
    assert form["pages"].value() == "94-101"
    assert form["issn"].value() == "0264-1615"
    assert form["doi"].value() == "10.1108/02641610410538478"
    assert form["year"].value() == "2004"
    # The profile still fills the contact block.
    assert form["contact_email"].value() == reader_a.email


def test_an_openurl_10_book_prefills_the_form(client_a):
    form = open_form(client_a, OPENURL_10_BOOK)
    assert form["document_type"].value() == "book"
    assert form["publication_title"].value() == "Information Retrieval"
    assert form["isbn"].value() == "9780521865715"
    assert form["publisher"].value() == "Cambridge University Press"


def test_an_openurl_10_article_with_info_doi(client_a):
    url = (
        "/openurl?url_ver=Z39.88-2004&rft_val_fmt=info:ofi/fmt:kev:mtx:journal&rft.genre=article"
        "&rft.atitle=Licence+to+Deny&rft.jtitle=Interlending+%26+Document+Supply"
        "&rft_id=info:doi/10.1108/02641610410538478&rft.spage=94&rft.epage=101"
    )
    form = open_form(client_a, url)
    assert form["doi"].value() == "10.1108/02641610410538478"
    assert form["pages"].value() == "94-101"


def test_nothing_is_submitted_without_a_click(client_a):
    open_form(client_a, OPENURL_01)
    assert not IllRequest.objects.exists()


def test_the_citation_is_used_once(client_a):
    open_form(client_a, OPENURL_01)
    assert client_a.get("/requests/new/").context["form"]["article_title"].value() in (None, "")


@pytest.mark.parametrize(
    "query",
    [
        "",
        "?foo=bar&baz=%01%7F",
        "?issn=not-an-issn&isbn=123&doi=nonsense&date=yesterday&spage=z&epage=a",
        "?atitle=" + "x" * 5000,
        "?rft.genre=%FF%FE&rft.au=" + quote("\ud800", errors="surrogatepass"),
        "?genre=article&genre=book&title=a&title=b",
        "?id=doi:&rft_id=&url_ver=Z39.88-2004",
    ],
)
def test_junk_is_ignored_never_a_500(client_a, query):
    response = client_a.get("/openurl" + query)
    assert response.status_code == 302
    assert client_a.get("/requests/new/").status_code == 200


def test_a_nul_in_an_openurl_is_a_bad_request_page(client_a):
    # Every query string with a NUL is refused before any view (illgateway.middleware).
    response = client_a.get("/openurl?foo=bar&atitle=a%00b")
    assert response.status_code == 400
    assert client_a.get("/requests/new/").status_code == 200


def test_an_openurl_survives_the_login_redirect(client_anon, reader_a, password):
    response = client_anon.get(OPENURL_01)
    assert response.status_code == 302
    login_url = response["Location"]
    assert login_url.startswith("/accounts/login/?next=/openurl%3F")
    response = client_anon.post(
        login_url, {"login": "reader-a", "password": password}, follow=False
    )
    assert response.status_code == 302
    assert response["Location"].startswith("/openurl?")
    form = open_form(client_anon, response["Location"])
    assert form["issn"].value() == "0264-1615"


def test_post_is_not_allowed(client_a):
    assert client_a.post("/openurl").status_code == 405


# --- issue 14: GBK citations, unreadable parts, PubMed --------------------------------------


def test_a_gbk_citation_prefills_chinese_not_replacement_characters(client_a):
    response = client_a.get("/openurl?rft.atitle=%D6%D0%CE%C4")
    assert response.status_code == 302
    page = client_a.get("/requests/new/")
    assert page.context["form"]["article_title"].value() == "中文"
    assert "\ufffd" not in page.content.decode()


def test_an_unreadable_part_is_left_out_and_the_reader_is_told(client_a):
    client_a.get(
        "/openurl?ctx_enc=info:ofi/enc:UTF-8&rft.atitle=%D6%D0%CE%C4&rft.issn=1001-8867",
        HTTP_ACCEPT_LANGUAGE="en",
    )
    page = client_a.get("/requests/new/")
    html = page.content.decode()
    assert "\ufffd" not in html
    assert page.context["form"]["article_title"].value() in (None, "")
    assert page.context["form"]["issn"].value() == "1001-8867"
    assert "could not be read" in html
    # The banner does not claim the citation was filled in when part of it was not.
    assert "has been filled in: check it and submit" not in html


def test_an_entirely_unreadable_citation_is_said_so(client_a):
    client_a.get("/openurl?atitle=%FF%FE", HTTP_ACCEPT_LANGUAGE="en")
    html = client_a.get("/requests/new/").content.decode()
    assert "could not be read" in html
    assert "\ufffd" not in html


def test_pubmed_prefills_type_service_and_pmid(client_a):
    client_a.get("/openurl?sid=Entrez:PubMed&id=pmid:19204306&id=doi:10.1056/NEJMoa0807646")
    form = client_a.get("/requests/new/").context["form"]
    assert form["document_type"].value() == "journal_article"
    assert form["service_type"].value() == "copy"
    assert "PMID: 19204306" in form["remarks"].value()
