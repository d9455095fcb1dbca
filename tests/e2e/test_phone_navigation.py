"""The navigation on a phone folds behind a menu button, with and without JavaScript (issue 14,
item 7); on a wide screen it is all there."""

import pytest
from playwright.sync_api import expect

from tests.factories import PASSWORD, ReaderFactory

PHONE = {"width": 390, "height": 844}


@pytest.fixture
def reader(transactional_db):
    return ReaderFactory(user__username="phone-reader")


def _log_in(page):
    page.goto("/accounts/login/")
    page.locator("#id_login").fill("phone-reader")
    page.locator("#id_password").fill(PASSWORD)
    page.locator("main form[action='/accounts/login/'] button[type=submit]").click()
    page.wait_for_url("**/")


@pytest.mark.parametrize("javascript", [True, False])
def test_the_phone_menu_opens_and_closes(browser, live_server, reader, javascript):
    context = browser.new_context(
        base_url=live_server.url, locale="zh-CN", viewport=PHONE, java_script_enabled=javascript
    )
    page = context.new_page()
    try:
        _log_in(page)
        button = page.locator("label.main-nav__button")
        profile = page.locator("#main-nav-list a", has_text="个人管理")
        expect(button).to_be_visible()
        expect(profile).to_be_hidden()
        # The folded navigation takes little of the first screen.
        header = page.locator(".site-header").bounding_box()
        assert header["height"] < 0.2 * PHONE["height"]

        button.click()
        expect(profile).to_be_visible()
        button.click()
        expect(profile).to_be_hidden()
        # By keyboard: the toggle takes the focus and Space opens the menu.
        page.locator("#main-nav-toggle").focus()
        page.keyboard.press("Space")
        expect(profile).to_be_visible()
        if javascript:
            page.keyboard.press("Escape")
            expect(profile).to_be_hidden()
            expect(page.locator("#main-nav-toggle")).to_be_focused()
    finally:
        context.close()


def test_a_wide_screen_shows_the_navigation_without_a_button(page, reader):
    page.set_viewport_size({"width": 1280, "height": 900})
    _log_in(page)
    expect(page.locator("label.main-nav__button")).to_be_hidden()
    expect(page.locator("#main-nav-list a", has_text="个人管理")).to_be_visible()
