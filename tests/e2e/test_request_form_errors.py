"""Correcting the request form in a browser (issue 14, item 3): the error summary takes the focus,
each of its links takes the keyboard to its field; two columns on a wide screen, one on a phone."""

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import log_in
from tests.factories import PASSWORD, ReaderFactory


def _submit_empty(page):
    page.goto("/requests/new/")
    page.locator("#id_contact_email").fill("")
    page.locator("main form.request-form button[type=submit]").click()
    page.wait_for_load_state()


def test_the_error_summary_takes_the_focus_and_its_links_focus_the_fields(page):
    ReaderFactory(user__username="form-reader")
    log_in(page, "form-reader", PASSWORD)
    _submit_empty(page)

    summary = page.locator(".error-summary")
    expect(summary).to_be_focused()
    expect(summary.locator("h2")).to_have_text("请修改以下问题：")

    summary.locator("a[href='#id_publication_title']").click()
    expect(page.locator("#id_publication_title")).to_be_focused()
    # The radio group's error link goes to its first radio.
    page.locator(".error-summary a[href='#id_service_type_0']").click()
    expect(page.locator("#id_service_type_0")).to_be_focused()
    # A field fixed and the form sent again: the rest is still listed, what was typed kept.
    page.locator("#id_publication_title").fill("Interlending & Document Supply")
    page.locator("main form.request-form button[type=submit]").click()
    page.wait_for_load_state()
    expect(page.locator("#id_publication_title")).to_have_value("Interlending & Document Supply")
    expect(page.locator(".error-summary a[href='#id_publication_title']")).to_have_count(0)


@pytest.mark.parametrize(("width", "columns"), [(1280, 2), (390, 1)])
def test_two_columns_on_a_wide_screen_one_on_a_phone(page, width, columns):
    ReaderFactory(user__username="layout-reader")
    page.set_viewport_size({"width": width, "height": 900})
    log_in(page, "layout-reader", PASSWORD)
    page.goto("/requests/new/")
    # The seed's pairs: 文献类型 beside 著者.
    first = page.locator("#id_document_type").bounding_box()
    second = page.locator("#id_author").bounding_box()
    side_by_side = abs(first["y"] - second["y"]) < 5 and second["x"] > first["x"] + 100
    assert side_by_side is (columns == 2)
    # Nothing sticks out sideways on the phone.
    assert page.evaluate("document.documentElement.scrollWidth") <= width


def test_the_date_field_shows_the_focus_ring_when_reached_by_keyboard(page):
    ReaderFactory(user__username="date-reader")
    log_in(page, "date-reader", PASSWORD)
    page.goto("/requests/new/")
    page.locator("#id_calis_oid").focus()
    # Tab on through the fields until the valid-until date (its parts and calendar button).
    for _ in range(6):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.id") == "id_valid_until":
            break
    date = page.locator("#id_valid_until")
    expect(date).to_be_focused()
    for _ in range(4):  # year, month, day, then the calendar button: the ring stays on
        assert date.evaluate("e => getComputedStyle(e).outlineStyle") == "solid"
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.id") != "id_valid_until":
            break
