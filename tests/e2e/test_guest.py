"""The public account in a browser (seed 2.3, issue 13): the seed's journey for a private
individual, and two guests side by side who cannot reach each other's requests."""

import re
from decimal import Decimal

import pytest
from django.core import mail
from django.core.management import call_command
from playwright.sync_api import expect

from requests_app.models import Delivery, IllRequest
from tests.factories import PASSWORD, StaffFactory
from tests.requests_app.pdfs import make_pdf

LINK_RE = re.compile(r"https?://[^/\s]+(/guest/r/\d+/[0-9a-f]+/)")


@pytest.fixture
def public_account(transactional_db):
    call_command("public_account", verbosity=0)


@pytest.fixture
def new_page(browser, live_server):
    """Another browser of its own (its own cookies), as a second person would use."""
    contexts = []

    def make():
        context = browser.new_context(
            base_url=live_server.url,
            locale="zh-CN",
            viewport={"width": 1200, "height": 900},
            accept_downloads=True,
        )
        context.set_default_timeout(10_000)
        contexts.append(context)
        return context.new_page()

    yield make
    for context in contexts:
        context.close()


def log_in_as_guest(page):
    """Step 1: the login page says how individuals get in; log in with what it shows."""
    page.goto("/accounts/login/")
    hint = page.locator("#public-heading").locator("xpath=..")
    username = hint.locator("kbd").nth(0).inner_text()
    password = hint.locator("kbd").nth(1).inner_text()
    assert (username, password) == ("passing", "passing")
    page.locator("#id_login").fill(username)
    page.locator("#id_password").fill(password)
    page.locator("main form[action='/accounts/login/'] button[type=submit]").click()
    page.wait_for_url("**/")


def fill_request(page, *, article_title, name, email):
    """Step 3: document, ILL options and the contact block, as the seed's example."""
    page.locator("#id_document_type").select_option("journal_article")
    page.get_by_label("出版物名称").fill("Interlending & Document Supply")
    page.locator("#id_volume_issue").fill("32(2)")
    page.locator("#id_article_title").fill(article_title)
    page.locator("#id_year").fill("2004")
    page.locator("#id_pages").fill("94-101")
    page.get_by_label("ISSN").fill("0264-1615")
    page.locator("#id_language").fill("English")
    page.locator("#id_delivery_method").select_option("email")
    page.locator("#id_max_cost").fill("0")
    page.locator("#id_urgency_0").check()
    page.locator("#id_contact_name").fill(name)
    page.locator("#id_contact_address").fill("北京市海淀区清华园 1 号")
    page.locator("#id_contact_postal_code").fill("100084")
    page.locator("#id_contact_email").fill(email)
    page.locator("#id_contact_phone").fill("13800138000")


def submit_request(page, *, article_title, name, email) -> IllRequest:
    # Step 2: 申请管理 → 提交申请.
    page.locator("nav.main-nav summary", has_text="申请管理").click()
    page.get_by_role("link", name="提交申请").click()
    page.wait_for_url("**/guest/requests/new/")
    fill_request(page, article_title=article_title, name=name, email=email)
    # Step 4: submit.
    page.locator("main form[method=post] button[type=submit]").first.click()
    page.wait_for_url("**/guest/r/**")
    return IllRequest.objects.get(article_title=article_title)


def link_for(email):
    bodies = [m.body for m in mail.outbox if m.to == [email]]
    links = [LINK_RE.search(body).group(1) for body in bodies if LINK_RE.search(body)]
    assert links, f"no private link e-mailed to {email}"
    return links[-1]


def log_in_as_staff(page):
    StaffFactory(username="ill-staff")
    page.goto("/admin/")
    page.locator("#id_login").fill("ill-staff")
    page.locator("#id_password").fill(PASSWORD)
    page.locator("main form[action^='/accounts/login/'] button[type=submit]").click()
    page.wait_for_url("**/admin/")


def test_the_seeds_journey_for_a_private_individual(page, new_page, public_account):
    title = "Licence to Deny? Publisher restrictions on document delivery"
    log_in_as_guest(page)
    ill_request = submit_request(page, article_title=title, name="张三", email="zhang@example.org")
    expect(page.locator("h1")).to_contain_text(str(ill_request.number))

    # Step 5: 申请管理 → 申请列表 shows the request, its number and 取消; no warning about
    # other people's requests is needed, and the page says how to find the request again.
    page.locator("nav.main-nav summary", has_text="申请管理").click()
    page.get_by_role("link", name="申请列表").click()
    page.wait_for_url("**/guest/requests/")
    row = page.locator("table.request-table tbody tr")
    expect(row).to_have_count(1)
    expect(row.locator("td").nth(0)).to_have_text(str(ill_request.number))
    expect(row.locator("td").nth(5)).to_have_text("用户申请尚未处理")
    expect(row.locator("td").nth(7).get_by_role("link")).to_contain_text("取消")
    expect(page.locator("main")).to_contain_text("私人链接")
    # No 帐户管理 and no 旧版系统数据查询 for the shared account.
    expect(page.locator("nav.main-nav")).not_to_contain_text("帐户管理")
    expect(page.locator("nav.main-nav")).not_to_contain_text("旧版系统数据查询")

    # Step 6: the office confirms it can supply; the guest is e-mailed the amount and fee page.
    ill_request.fee_lines.create(kind="supplier", amount=Decimal("12.00"))
    office = new_page()
    log_in_as_staff(office)
    office.goto(f"/admin/requests_app/illrequest/{ill_request.pk}/change/")
    expect(office.locator(".guest-marker")).to_contain_text("zhang@example.org")
    office.locator("a[href$='/transition/?to=delivered']").click()
    office.locator("input[type=submit]").click()
    office.wait_for_url(f"**/illrequest/{ill_request.pk}/change/")
    ill_request.refresh_from_db()
    assert ill_request.status == "awaiting_payment"
    email = [m for m in mail.outbox if m.to == ["zhang@example.org"]][-1]
    assert "12.00" in email.body and "/fees/" in email.body

    # The guest logs out; the private link opens the request from a fresh browser.
    page.locator("nav.main-nav button", has_text="关闭").click()
    elsewhere = new_page()
    elsewhere.goto(link_for("zhang@example.org"))
    expect(elsewhere.locator("main")).to_contain_text("可以提供，待付款")
    expect(elsewhere.locator("main")).to_contain_text("12.00")

    # The guest pays at the office; staff record it and the request is delivered.
    office.get_by_role("link", name=re.compile("登记访客付款|Record the guest")).click()
    office.locator("#id_amount").fill("12.00")
    office.locator("#id_method").select_option("cash")
    office.locator("input[type=submit]").click()
    office.wait_for_url(f"**/illrequest/{ill_request.pk}/change/")
    elsewhere.reload()
    expect(elsewhere.locator("dl.facts").first).to_contain_text("已传递")


def test_two_guests_side_by_side_cannot_reach_each_others_requests(page, new_page, public_account):
    second = new_page()
    log_in_as_guest(page)
    log_in_as_guest(second)
    mine = submit_request(page, article_title="First guest's article", name="甲", email="a@e.org")
    theirs = submit_request(
        second, article_title="Second guest's article", name="乙", email="b@e.org"
    )
    my_link, their_link = link_for("a@e.org"), link_for("b@e.org")

    # Each list shows only its own browser's request.
    page.goto("/guest/requests/")
    expect(page.locator("main")).to_contain_text("First guest's article")
    expect(page.locator("main")).not_to_contain_text("Second guest's article")
    second.goto("/guest/requests/")
    expect(second.locator("main")).to_contain_text("Second guest's article")
    expect(second.locator("main")).not_to_contain_text("First guest's article")

    # By number on the readers' pages, or with my own link's key: nothing.
    for url in [
        f"/requests/{theirs.number}/",
        f"/requests/{theirs.number}/cancel/",
        their_link.replace(str(theirs.number), str(mine.number), 1)
        .replace(their_link.split("/")[-2], my_link.split("/")[-2])
        .replace(f"/{mine.number}/", f"/{theirs.number}/"),
    ]:
        response = page.goto(url)
        assert response.status in (403, 404), url
        expect(page.locator("main")).not_to_contain_text("Second guest's article")

    # A tampered link is a 404.
    key = their_link.split("/")[-2]
    tampered = their_link.replace(key, key[:-1] + ("0" if key[-1] != "0" else "1"))
    assert page.goto(tampered).status == 404

    # The first guest's own link works after logging out, and from a fresh browser it cancels.
    page.goto("/")
    page.locator("nav.main-nav button", has_text="关闭").click()
    assert page.goto(my_link).status == 200
    fresh = new_page()
    fresh.goto(my_link)
    fresh.get_by_role("link", name="取消").click()
    fresh.locator("main form button[type=submit]").click()
    fresh.wait_for_url(f"**{my_link}")
    mine.refresh_from_db()
    theirs.refresh_from_db()
    assert (mine.status, theirs.status) == ("cancelled", "submitted")


def test_staff_deliver_a_pdf_to_a_guest_who_downloads_it_through_the_private_link(
    page, new_page, public_account
):
    log_in_as_guest(page)
    ill_request = submit_request(
        page, article_title="A guest's delivered article", name="张三", email="zhang@example.org"
    )
    ill_request.fee_lines.create(kind="supplier", amount=Decimal("12.00"))

    # Staff attach the PDF as for a reader; the guest has not paid, so the file waits.
    office = new_page()
    log_in_as_staff(office)
    office.goto(f"/admin/requests_app/illrequest/{ill_request.pk}/change/")
    office.get_by_role("link", name="上传 PDF 并传递").click()
    office.get_by_label("PDF 文件").set_input_files(
        files=[{"name": "论文全文.pdf", "mimeType": "application/pdf", "buffer": make_pdf()}]
    )
    office.get_by_role("button", name="上传并传递").click()
    office.wait_for_url(f"**/illrequest/{ill_request.pk}/change/")
    expect(office.locator(".messagelist")).to_contain_text("登记访客付款")
    ill_request.refresh_from_db()
    assert ill_request.status == "awaiting_payment"
    assert not [m for m in mail.outbox if "可以下载" in m.subject]

    # The guest pays at the office: staff record it, the request is delivered and the guest
    # is e-mailed the private link to the file.
    office.get_by_role("link", name="登记访客付款").click()
    office.locator("#id_amount").fill("12.00")
    office.locator("#id_method").select_option("cash")
    office.locator("input[type=submit]").click()
    office.wait_for_url(f"**/illrequest/{ill_request.pk}/change/")
    [ready] = [m for m in mail.outbox if "可以下载" in m.subject]
    assert ready.to == ["zhang@example.org"]
    link = LINK_RE.search(ready.body).group(1)
    assert link == ill_request.guest_link_path()

    # From a fresh browser, not logged in: the link, the statement, the download.
    page.locator("nav.main-nav button", has_text="关闭").click()
    elsewhere = new_page()
    elsewhere.goto(link)
    section = elsewhere.locator("section.delivery")
    expect(section).to_contain_text("论文全文.pdf")
    expect(elsewhere.locator("#delivery-downloads")).to_have_text("0 / 5")
    section.get_by_role("link", name="阅读版权声明并下载").click()
    elsewhere.wait_for_url(f"**{link}delivery/")
    elsewhere.get_by_label("我已阅读并接受版权声明。").check()
    with elsewhere.expect_download() as download_info:
        elsewhere.get_by_role("button", name="接受并下载").click()
    download = download_info.value
    assert download.suggested_filename == "论文全文.pdf"
    with open(download.path(), "rb") as saved:
        assert saved.read() == make_pdf()

    # One download counted, for the guest and for staff.
    elsewhere.goto(link)
    expect(elsewhere.locator("#delivery-downloads")).to_have_text("1 / 5")
    expect(elsewhere.get_by_role("button", name=re.compile("下载 PDF"))).to_be_visible()
    office.reload()
    expect(office.locator(".delivery-downloads")).to_have_text(re.compile(r"^1 / 5 · 最近一次 "))
    assert Delivery.objects.get().downloads == 1
