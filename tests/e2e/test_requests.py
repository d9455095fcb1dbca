"""Request journeys: the seed's worked example submitted, listed and cancelled; an OpenURL
arriving while logged out, through login, into the prefilled form; staff's status buttons."""

import pytest
from playwright.sync_api import expect

from requests_app.models import IllRequest
from tests.e2e.conftest import log_in
from tests.factories import PASSWORD, IllRequestFactory, ReaderFactory, StaffFactory


def test_a_reader_submits_the_worked_example_sees_it_listed_and_cancels_it(page):
    ReaderFactory(user__username="seed-reader", email="seed-reader@example.org")
    log_in(page, "seed-reader", PASSWORD)

    page.goto("/requests/new/")
    page.locator("#id_service_type_0").check()  # copy, non-returnable
    page.locator("#id_document_type").select_option("journal_article")
    page.get_by_label("出版物名称").fill("Interlending & Document Supply")
    page.locator("#id_volume_issue").fill("32(2)")
    page.locator("#id_article_title").fill(
        "Licence to Deny? Publisher restrictions on document delivery"
    )
    page.locator("#id_year").fill("2004")
    page.locator("#id_pages").fill("94-101")
    page.get_by_label("ISSN").fill("0264-1615")
    page.locator("#id_language").fill("English")
    page.locator("#id_delivery_method").select_option("email")
    page.locator("#id_max_cost").fill("0")
    page.locator("#id_urgency_0").check()  # normal
    # The contact block came from the profile.
    expect(page.locator("#id_contact_email")).to_have_value("seed-reader@example.org")
    page.locator("main form[method=post] button[type=submit]").click()

    ill_request = IllRequest.objects.get()
    page.wait_for_url(f"**/requests/{ill_request.number}/")
    expect(page.locator("h1")).to_contain_text(str(ill_request.number))

    page.goto("/requests/")
    row = page.locator("table.request-table tbody tr").first
    expect(row.locator("td").nth(0)).to_have_text(str(ill_request.number))
    expect(row.locator("td").nth(2)).to_contain_text("Interlending & Document Supply")
    expect(row.locator("td").nth(6)).to_have_text("用户申请尚未处理")

    row.locator("td").nth(8).get_by_role("link").first.click()
    page.wait_for_url(f"**/requests/{ill_request.number}/cancel/")
    page.locator("main form button[type=submit]").click()
    page.wait_for_url(f"**/requests/{ill_request.number}/")
    ill_request.refresh_from_db()
    assert ill_request.status == "cancelled"
    page.goto("/requests/")
    expect(page.locator("table.request-table tbody tr").first.locator("td").nth(6)).to_have_text(
        "已取消"
    )


def test_an_openurl_opened_while_logged_out_leads_through_login_to_the_prefilled_form(page):
    ReaderFactory(user__username="openurl-reader")
    page.goto(
        "/openurl?url_ver=Z39.88-2004&rft_val_fmt=info:ofi/fmt:kev:mtx:journal&rft.genre=article"
        "&rft.atitle=Licence+to+Deny%3F&rft.jtitle=Interlending+%26+Document+Supply"
        "&rft.issn=0264-1615&rft.volume=32&rft.issue=2&rft.spage=94&rft.epage=101&rft.date=2004"
    )
    page.wait_for_url(lambda url: "/accounts/login/?next=/openurl" in url)
    page.locator("#id_login").fill("openurl-reader")
    page.locator("#id_password").fill(PASSWORD)
    page.locator("main form[action^='/accounts/login/'] button[type=submit]").click()
    page.wait_for_url("**/requests/new/")
    expect(page.locator("#id_article_title")).to_have_value("Licence to Deny?")
    expect(page.locator("#id_publication_title")).to_have_value("Interlending & Document Supply")
    expect(page.locator("#id_issn")).to_have_value("0264-1615")
    expect(page.locator("#id_volume_issue")).to_have_value("32(2)")
    expect(page.locator("#id_pages")).to_have_value("94-101")
    assert not IllRequest.objects.exists()


def _overlap(a, b):
    return not (
        a["x"] + a["width"] <= b["x"]
        or b["x"] + b["width"] <= a["x"]
        or a["y"] + a["height"] <= b["y"]
        or b["y"] + b["height"] <= a["y"]
    )


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_the_status_buttons_leave_the_admin_heading_readable(page, language):
    StaffFactory(username="ill-staff")
    ill_request = IllRequestFactory(status="submitted")  # the status with the most next steps
    page.set_viewport_size({"width": 1280, "height": 900})
    page.set_extra_http_headers({"Accept-Language": language})
    # The back office's door leads through the portal's (throttled) login form and back.
    page.goto("/admin/")
    page.wait_for_url(lambda url: "/accounts/login/?next=" in url)
    page.locator("#id_login").fill("ill-staff")
    page.locator("#id_password").fill(PASSWORD)
    page.locator("main form[action^='/accounts/login/'] button[type=submit]").click()
    page.wait_for_url("**/admin/")

    page.goto(f"/admin/requests_app/illrequest/{ill_request.pk}/change/")
    buttons = page.locator("a[href*='/transition/?to=']")
    expect(buttons).to_have_count(6)
    headings = [page.locator("#content > h1"), page.locator("#content > h2")]
    for heading in headings:
        expect(heading).to_be_visible()
    for button in buttons.all():
        box = button.bounding_box()
        for heading in headings:
            assert not _overlap(box, heading.bounding_box()), button.inner_text()
    buttons.first.click()
    page.wait_for_url("**/transition/?to=in_process")
    expect(page.locator("#id_to")).to_have_value("in_process")
