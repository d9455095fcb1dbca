"""The foundation journey: landing page, login, a pinned notice, the language switch, logout."""

import io

from django.core.management import call_command
from playwright.sync_api import expect

from tests.e2e.conftest import log_in


def test_demo_reader_reads_a_pinned_notice_in_both_languages_and_logs_out(page):
    call_command("demo_data", "--i-know-this-is-not-production", stdout=io.StringIO())

    page.goto("/")
    expect(page.locator("h1")).to_have_text("馆际互借读者网关")
    expect(page.get_by_role("link", name="新版馆际互借读者网关上线")).to_be_visible()

    log_in(page, "demo-reader", "demo-password")
    expect(page.locator("h1")).to_have_text("留言板")
    nav = page.get_by_role("navigation", name="主导航")
    for label in ["个人管理", "申请管理", "帐户管理", "关闭", "帮助", "关于", "旧版系统数据查询"]:
        expect(nav.get_by_text(label, exact=True)).to_be_visible()
    # The pinned notice is first on the board, though older than others.
    first_row = page.locator("table.notice-table tbody tr").first
    expect(first_row).to_contain_text("置顶")
    first_row.get_by_role("link").click()
    expect(page.locator("h1")).to_have_text("新版馆际互借读者网关上线")
    expect(page.locator("main")).to_contain_text("关联原有帐户")

    page.get_by_role("button", name="English").click()
    expect(page.locator("h1")).to_have_text("The new ILL reader gateway is live")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.get_by_role("navigation", name="Main navigation")).to_contain_text("My requests")

    page.get_by_role("button", name="简体中文").click()
    expect(page.locator("h1")).to_have_text("新版馆际互借读者网关上线")

    # The requests menu opens with the keyboard too (details/summary, no script needed).
    summary = page.get_by_text("申请管理", exact=True)
    summary.focus()
    page.keyboard.press("Enter")
    expect(page.get_by_role("link", name="提交申请")).to_be_visible()
    page.keyboard.press("Escape")
    expect(page.get_by_role("link", name="提交申请")).to_be_hidden()
    expect(summary).to_be_focused()

    page.get_by_role("button", name="关闭").click()
    page.wait_for_url("**/")
    expect(page.get_by_role("link", name="校外用户登录")).to_be_visible()
    page.goto("/profile/")
    expect(page).to_have_url("/accounts/login/?next=/profile/")
