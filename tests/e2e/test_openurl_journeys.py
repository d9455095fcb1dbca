"""Citation links in a browser, through login (issue 14, items 1 and 4): a GBK citation arrives
as Chinese, and a reader still waiting for confirmation has it kept until confirmed."""

from playwright.sync_api import expect

from readers.services import reader_confirm
from requests_app.models import IllRequest
from tests.factories import PASSWORD, PendingReaderFactory, ReaderFactory, StaffFactory

# CNKI-style 0.1 link, the title 中文 and the journal 中国图书馆学报 in GBK.
GBK_LINK = (
    "/openurl?sid=CNKI:ZGTS&genre=article&atitle=%D6%D0%CE%C4"
    "&title=%D6%D0%B9%FA%CD%BC%CA%E9%B9%DD%D1%A7%B1%A8&issn=1001-8867&date=2020"
)


def _log_in_from_here(page, username):
    page.locator("#id_login").fill(username)
    page.locator("#id_password").fill(PASSWORD)
    page.locator("main form[action^='/accounts/login/'] button[type=submit]").click()


def test_a_gbk_citation_link_leads_through_login_to_a_chinese_form(page):
    ReaderFactory(user__username="gbk-reader")
    page.goto(GBK_LINK)
    page.wait_for_url(lambda url: "/accounts/login/?next=/openurl" in url)
    expect(page.locator("main")).to_contain_text("链接中的文献信息将为您保留")
    _log_in_from_here(page, "gbk-reader")
    page.wait_for_url("**/requests/new/")
    expect(page.locator("#id_article_title")).to_have_value("中文")
    expect(page.locator("#id_publication_title")).to_have_value("中国图书馆学报")
    expect(page.locator("#id_document_type")).to_have_value("journal_article")
    assert "\ufffd" not in page.content()
    assert not IllRequest.objects.exists()


def test_a_pending_reader_keeps_the_citation_until_confirmed(page):
    pending = PendingReaderFactory(user__username="waiting-reader")
    page.goto(GBK_LINK)
    page.wait_for_url(lambda url: "/accounts/login/" in url)
    _log_in_from_here(page, "waiting-reader")
    page.wait_for_url("**/")
    expect(page.locator(".messages")).to_contain_text("已保留链接中的文献信息")

    reader_confirm(reader=pending, actor=StaffFactory())
    page.goto("/requests/new/")
    expect(page.locator("#id_article_title")).to_have_value("中文")
    expect(page.locator(".messages")).to_contain_text("注册等待确认期间")
