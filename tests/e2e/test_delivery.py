"""Electronic delivery in the browser: staff attach the PDF on the request's admin page, the
reader follows the e-mail's link, accepts the copyright statement, downloads the file, and both
see one download counted."""

import re

from django.core import mail
from playwright.sync_api import expect

from requests_app.models import Delivery
from tests.e2e.conftest import log_in
from tests.factories import PASSWORD, IllRequestFactory, ReaderFactory, StaffFactory
from tests.requests_app.pdfs import make_pdf


def test_staff_deliver_a_pdf_and_the_reader_accepts_the_statement_and_downloads_it(
    page, browser, live_server
):
    StaffFactory(username="ill-staff")
    reader = ReaderFactory(user__username="pdf-reader", email="pdf-reader@example.org")
    ill_request = IllRequestFactory(reader=reader, status="in_process")

    # Staff: the request's page → attach the PDF → delivered.
    log_in(page, "ill-staff", PASSWORD)
    page.goto(f"/admin/requests_app/illrequest/{ill_request.pk}/change/")
    page.get_by_role("link", name="上传 PDF 并传递").click()
    page.get_by_label("PDF 文件").set_input_files(
        files=[{"name": "论文全文.pdf", "mimeType": "application/pdf", "buffer": make_pdf()}]
    )
    mail.outbox.clear()
    page.get_by_role("button", name="上传并传递").click()
    page.wait_for_url(f"**/admin/requests_app/illrequest/{ill_request.pk}/change/")
    expect(page.locator(".messagelist")).to_contain_text("已传递")
    expect(page.locator(".delivery-downloads")).to_have_text("0 / 5")

    # The reader: the e-mail's link, after logging in.
    [ready] = [m for m in mail.outbox if "可以下载" in m.subject]
    link = re.search(r"https?://\S+/requests/\d+/", ready.body)[0]
    path = link[link.index("/requests/") :]
    reader_context = browser.new_context(
        base_url=live_server.url, locale="zh-CN", accept_downloads=True
    )
    reader_context.set_default_timeout(10_000)
    reader_page = reader_context.new_page()
    log_in(reader_page, "pdf-reader", PASSWORD)
    reader_page.goto(path)
    section = reader_page.locator("section.delivery")
    expect(section).to_contain_text("论文全文.pdf")
    section.get_by_role("link", name="阅读版权声明并下载").click()
    reader_page.wait_for_url(f"**/requests/{ill_request.number}/delivery/")
    expect(reader_page.locator("h1")).to_have_text("版权声明")
    reader_page.get_by_label("我已阅读并接受版权声明。").check()
    with reader_page.expect_download() as download_info:
        reader_page.get_by_role("button", name="接受并下载").click()
    download = download_info.value
    assert download.suggested_filename == "论文全文.pdf"
    with open(download.path(), "rb") as saved:
        assert saved.read() == make_pdf()

    # One download, shown to the reader and to staff.
    reader_page.goto(path)
    expect(reader_page.locator("#delivery-downloads")).to_have_text("1 / 5")
    expect(reader_page.get_by_role("button", name=re.compile("下载 PDF"))).to_be_visible()
    page.reload()
    expect(page.locator(".delivery-downloads")).to_have_text(re.compile(r"^1 / 5 · 最近一次 "))
    assert Delivery.objects.get().downloads == 1
    reader_context.close()
