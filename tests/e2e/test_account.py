"""The prepaid account in a browser: staff record a deposit and deliver; the reader's balance
drops by the request's total and the reader prints the receipt for reimbursement."""

from decimal import Decimal

from playwright.sync_api import expect

from tests.e2e.conftest import log_in
from tests.factories import PASSWORD, FeeLineFactory, IllRequestFactory, ReaderFactory, StaffFactory


def test_deposit_delivery_balance_and_printed_receipt(page):
    StaffFactory(username="ill-staff")
    reader = ReaderFactory(user__username="paying-reader", name="付款读者")
    ill_request = IllRequestFactory(
        reader=reader, status="in_process", article_title="馆际互借与文献传递研究"
    )
    FeeLineFactory(request=ill_request, kind="supplier", amount=Decimal("15.50"))
    FeeLineFactory(request=ill_request, kind="copy", amount=Decimal("4.50"))

    # Staff: the reader's admin page → record a deposit of 50 yuan paid in cash.
    page.goto("/admin/")
    page.wait_for_url(lambda url: "/accounts/login/?next=" in url)
    page.locator("#id_login").fill("ill-staff")
    page.locator("#id_password").fill(PASSWORD)
    page.locator("main form[action^='/accounts/login/'] button[type=submit]").click()
    page.wait_for_url("**/admin/")
    page.goto(f"/admin/readers/reader/{reader.pk}/change/")
    page.get_by_role("link", name="记录付款或帐目").click()
    page.locator("#id_kind").select_option("deposit")
    page.locator("#id_amount").fill("50")
    page.locator("#id_method").select_option("cash")
    page.locator("#id_note").fill("服务台现金")
    page.get_by_role("button", name="记录").click()
    expect(page.locator(".messagelist")).to_contain_text("余额 50.00")

    # Staff deliver the copy: its total of 20.00 is charged in the same step.
    page.goto(f"/admin/requests_app/illrequest/{ill_request.pk}/transition/?to=delivered")
    page.locator("#content form input[type=submit]").click()
    expect(page.locator(".messagelist")).to_contain_text(str(ill_request.number))

    # The reader: the balance is 50 − 20 = 30, the statement names the request.
    page.context.clear_cookies()
    log_in(page, "paying-reader", PASSWORD)
    page.get_by_role("link", name="帐户管理").click()
    expect(page.locator("h1")).to_have_text("帐户管理")
    expect(page.locator("[data-balance]")).to_have_text("30.00 元")
    expect(page.locator(".ledger-table")).to_contain_text(str(ill_request.number))
    expect(page.locator(".ledger-table")).to_contain_text("-20.00")

    # …and prints the receipt for reimbursement.
    page.get_by_role("link", name="打印报销凭证").click()
    page.get_by_role("button", name="显示").click()
    receipt = page.locator(".receipt")
    expect(receipt).to_contain_text("付款读者")
    expect(receipt).to_contain_text("馆际互借与文献传递研究")
    expect(receipt.locator("[data-total]")).to_have_text("20.00")
    page.evaluate("window.__printed = false; window.print = () => { window.__printed = true; }")
    page.get_by_role("button", name="打印").click()
    assert page.evaluate("window.__printed") is True
    page.emulate_media(media="print")
    expect(page.locator(".site-header")).to_be_hidden()
    expect(page.locator("form.filter-form")).to_be_hidden()
    expect(receipt).to_be_visible()
