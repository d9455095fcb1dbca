"""The request list at 1280 px and on a 390 px phone (issue 14, item 6)."""

from decimal import Decimal

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import log_in
from tests.factories import PASSWORD, FeeLineFactory, IllRequestFactory, ReaderFactory

LONG_TITLE = "Interlending & Document Supply: " + "a very long journal title " * 6

# How many lines a cell's text takes.
LINES = """cell => {
  const range = document.createRange();
  range.selectNodeContents(cell);
  const rects = [...range.getClientRects()].filter(r => r.width > 1);
  const tops = new Set(rects.map(r => Math.round(r.top)));
  return tops.size;
}"""


@pytest.fixture
def listed(page):
    reader = ReaderFactory(user__username="list-reader")
    ill_request = IllRequestFactory(
        reader=reader, publication_title=LONG_TITLE, user_reference="WL-2026-001"
    )
    FeeLineFactory(request=ill_request, amount=Decimal("10"))
    log_in(page, "list-reader", PASSWORD)
    return ill_request


def test_numbers_dates_and_amounts_stay_on_one_line_at_1280(page, listed):
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto("/requests/")
    cells = page.locator("table.request-table tbody tr").first.locator("td")
    expect(cells.nth(7)).to_have_text("10.00")
    for index in (0, 3, 7):  # number, date, fee
        assert cells.nth(index).evaluate(LINES) == 1, index
    for link in cells.nth(8).locator("a").all():  # 取消, 再次申请: each in one piece
        assert link.evaluate(LINES) == 1
    for header in page.locator("table.request-table thead th").all():
        assert header.evaluate(LINES) == 1
    fee = cells.nth(7)
    assert fee.evaluate("c => getComputedStyle(c).textAlign") == "right"


def test_phone_cards_label_their_values(page, listed):
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto("/requests/")
    row = page.locator("table.request-table tbody tr").first
    before = "c => getComputedStyle(c, '::before').content"
    cells = row.locator("td")
    assert cells.nth(0).evaluate(before) == '"申请号"'
    assert cells.nth(1).evaluate(before) == '"参考号"'
    assert cells.nth(7).evaluate(before) == '"总费用"'
    expect(cells.nth(1)).to_have_text("WL-2026-001")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
