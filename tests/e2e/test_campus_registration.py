"""The campus reader's first journey: SSO → registration → pending → confirmed by staff."""

from django.core import mail
from playwright.sync_api import expect

from tests.factories import StaffFactory


def campus_login(page):
    page.goto("/accounts/login/")
    page.get_by_role("button", name="统一认证登录").click()
    page.get_by_role("button", name="Li Wen, history student (full profile)").click()


def test_campus_reader_registers_waits_and_is_confirmed_by_staff(
    page, browser, live_server, campus_idp
):
    StaffFactory(username="ill-staff")

    campus_login(page)
    expect(page.locator("h1")).to_have_text("本校读者注册")
    # Seed 1.3 step 2: a reader without an old account chooses (2).
    page.get_by_text("注册新帐户").click()
    expect(page.get_by_label("姓名")).to_have_value("Li Wen")
    expect(page.get_by_label("电子信箱")).to_have_value("li.wen@example.edu.cn")
    page.get_by_label("证件名称").select_option("student_card")
    page.get_by_label("证件号码").fill("2023010123")
    page.get_by_label("电话号码").fill("abc")
    page.get_by_role("button", name="注册").click()
    # A mistake is shown beside its field and nothing typed is lost.
    expect(page.locator("#id_phone_error")).to_be_visible()
    expect(page.get_by_label("证件号码")).to_have_value("2023010123")
    page.get_by_label("电话号码").fill("13800000000")
    page.get_by_role("button", name="注册").click()

    expect(page.get_by_role("status")).to_contain_text("等待馆际互借处确认")
    # A pending reader sees the board and the profile, not the services.
    nav = page.get_by_role("navigation", name="主导航")
    expect(nav.get_by_text("个人管理")).to_be_visible()
    expect(nav.get_by_text("申请管理")).to_have_count(0)
    page.goto("/requests/new/")
    expect(page.locator("h1")).to_have_text("暂不可用")

    staff = browser.new_context(base_url=live_server.url, locale="en-US")
    admin = staff.new_page()
    admin.goto("/admin/login/?next=/admin/readers/registrationtoconfirm/")
    admin.get_by_label("Username").fill("ill-staff")
    admin.get_by_label("Password").fill("correct-horse-battery")
    admin.get_by_role("button", name="Log in").click()
    admin.get_by_role("checkbox", name="Select this object for an action").first.check()
    admin.locator("select[name=action]").select_option("confirm_selected")
    admin.get_by_role("button", name="Go").click()
    expect(admin.locator(".messagelist")).to_contain_text("1 reader(s) confirmed")
    staff.close()

    assert [m.to for m in mail.outbox] == [["li.wen@example.edu.cn"]]
    assert "账户确认通知" in mail.outbox[0].subject

    page.get_by_role("button", name="关闭").click()
    campus_login(page)
    expect(page.locator("h1")).to_have_text("留言板")
    expect(page.get_by_role("status")).to_have_count(0)
    # Personal notices are listed apart from the office's (issue 14).
    notice = page.locator(".personal-notices li", has_text="账户确认通知")
    expect(notice).to_contain_text("未读")
    notice.get_by_role("link").click()
    expect(page.locator("main")).to_contain_text("现在可以提交申请")
