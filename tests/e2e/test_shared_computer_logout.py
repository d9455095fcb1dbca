"""A library terminal: logging out of the gateway ends the campus login, so the next person at
the computer is not signed in as the previous reader."""

from playwright.sync_api import expect


def test_the_next_person_at_the_terminal_gets_the_campus_login_page(page, campus_idp):
    page.goto("/accounts/login/")
    page.get_by_role("button", name="统一认证登录").click()
    page.get_by_role("button", name="Li Wen, history student (full profile)").click()
    expect(page.locator("h1")).to_have_text("本校读者注册")
    page.get_by_text("注册新帐户").click()
    page.get_by_label("证件名称").select_option("student_card")
    page.get_by_label("证件号码").fill("2023010123")
    page.get_by_label("电话号码").fill("13800000000")
    page.get_by_role("button", name="注册").click()
    expect(page.get_by_role("status")).to_contain_text("等待馆际互借处确认")

    # The IdP would sign this browser straight in again: logging out of the gateway ends that.
    page.get_by_role("button", name="关闭").click()
    expect(page.locator("main")).to_contain_text("您已退出网关，也已退出统一认证（统一认证登录）")

    # The IdP's own session ended too: the next press of the campus button asks who signs in.
    page.goto("/accounts/login/")
    page.get_by_role("button", name="统一认证登录").click()
    expect(
        page.get_by_role("button", name="Li Wen, history student (full profile)")
    ).to_be_visible()
