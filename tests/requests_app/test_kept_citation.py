"""A citation link that reaches a reader not yet confirmed is kept for them (issue 14, item 4)."""

import pytest
from django.urls import reverse

from readers.services import reader_confirm
from requests_app.models import KeptCitation
from requests_app.views import KEPT_CITATIONS_MAX

pytestmark = pytest.mark.django_db

PUBMED = "/openurl?sid=Entrez:PubMed&id=pmid:19204306&id=doi:10.1056/NEJMoa0807646"
GBK_ARTICLE = "/openurl?genre=article&atitle=%D6%D0%CE%C4&title=Nature"


def test_a_pending_reader_is_told_the_citation_is_kept_not_refused(client_pending, pending_reader):
    response = client_pending.get(PUBMED, HTTP_ACCEPT_LANGUAGE="en", follow=True)
    assert response.status_code == 200
    assert response.redirect_chain == [(reverse("home"), 302)]
    html = response.content.decode()
    assert "kept" in html and "confirm" in html
    kept = KeptCitation.objects.get(reader=pending_reader)
    assert kept.data["document_type"] == "journal_article"
    assert "PMID: 19204306" in kept.data["remarks"]


def test_once_confirmed_the_kept_citation_fills_the_form_once(
    client_pending, pending_reader, staff
):
    client_pending.get(GBK_ARTICLE)
    client_pending.get(PUBMED)
    reader_confirm(reader=pending_reader, actor=staff)

    page = client_pending.get(reverse("request_submit"), HTTP_ACCEPT_LANGUAGE="en")
    form = page.context["form"]
    # The first one kept comes first, GBK read as Chinese.
    assert form["article_title"].value() == "中文"
    assert form["publication_title"].value() == "Nature"
    html = page.content.decode()
    assert "kept while your registration was being confirmed" in html
    assert "1 more" in html

    form = client_pending.get(reverse("request_submit")).context["form"]
    assert "PMID: 19204306" in form["remarks"].value()
    assert not KeptCitation.objects.exists()
    form = client_pending.get(reverse("request_submit")).context["form"]
    assert form["remarks"].value() in (None, "")


def test_a_fresh_link_wins_over_a_kept_one(client_pending, pending_reader, staff):
    client_pending.get(GBK_ARTICLE)
    reader_confirm(reader=pending_reader, actor=staff)
    client_pending.get(PUBMED)
    form = client_pending.get(reverse("request_submit")).context["form"]
    assert "PMID: 19204306" in form["remarks"].value()
    assert KeptCitation.objects.filter(reader=pending_reader).count() == 1


def test_another_reader_never_gets_a_kept_citation(client_pending, client_b):
    client_pending.get(GBK_ARTICLE)
    form = client_b.get(reverse("request_submit")).context["form"]
    assert form["article_title"].value() in (None, "")
    assert KeptCitation.objects.count() == 1


def test_staff_without_a_profile_are_still_refused(client_staff):
    assert client_staff.get(GBK_ARTICLE).status_code == 403
    assert not KeptCitation.objects.exists()


def test_a_link_without_a_citation_keeps_nothing(client_pending):
    response = client_pending.get("/openurl?foo=bar")
    assert response.status_code == 302
    assert not KeptCitation.objects.exists()


def test_only_so_many_are_kept(client_pending, pending_reader):
    for number in range(KEPT_CITATIONS_MAX + 3):
        client_pending.get(f"/openurl?atitle=Article+{number}")
    kept = KeptCitation.objects.filter(reader=pending_reader)
    assert kept.count() == KEPT_CITATIONS_MAX
    # The newest are kept.
    assert kept.filter(data__article_title=f"Article {KEPT_CITATIONS_MAX + 2}").exists()


def test_the_login_page_says_a_citation_from_a_link_is_kept(client_anon):
    response = client_anon.get(GBK_ARTICLE, HTTP_ACCEPT_LANGUAGE="en", follow=True)
    html = response.content.decode()
    assert "citation from the link will be kept" in html
    plain = client_anon.get(reverse("account_login"), HTTP_ACCEPT_LANGUAGE="en")
    assert "citation from the link will be kept" not in plain.content.decode()


def test_the_form_query_count_with_and_without_a_kept_citation(
    client_pending, pending_reader, staff, django_assert_num_queries
):
    client_pending.get(GBK_ARTICLE)
    reader_confirm(reader=pending_reader, actor=staff)
    with django_assert_num_queries(QUERIES_WITH_KEPT):
        client_pending.get(reverse("request_submit"))
    with django_assert_num_queries(QUERIES_WITHOUT_KEPT):
        client_pending.get(reverse("request_submit"))


QUERIES_WITH_KEPT = 7
QUERIES_WITHOUT_KEPT = 6
