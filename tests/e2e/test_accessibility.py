"""axe-core in the browser journeys (issue 14, item 12).

Every journey's `page` checks each reader page it reaches (tests/e2e/accessibility.py). This
file makes sure the check can fail, and walks every reader page in both languages — each
checked at 1280×900 and at 390×844 — as a visitor, a pending reader and a confirmed reader
with requests in the states that have pages of their own.
"""

from decimal import Decimal

import pytest
from playwright.sync_api import expect

from requests_app.lifecycle import request_transition
from requests_app.models import FeeKind, Status
from tests.e2e.accessibility import (
    PHONE,
    WIDE,
    AccessibilityViolation,
    check_every_page,
    check_page,
)
from tests.factories import (
    PASSWORD,
    FeeLineFactory,
    IllRequestFactory,
    NoticeFactory,
    PendingReaderFactory,
    ReaderFactory,
    StaffFactory,
)


def test_the_check_fails_on_a_serious_violation(page):
    # An image without a text alternative and a button without a name: critical for axe.
    page.set_content(
        '<html lang="en"><head><title>t</title></head><body><main>'
        '<img src="data:image/gif;base64,R0lGODlhAQABAAAAACw="><button></button>'
        "</main></body></html>"
    )
    with pytest.raises(AccessibilityViolation, match="image-alt|button-name"):
        check_page(page)


@pytest.fixture
def cast(transactional_db):
    staff = StaffFactory()
    reader = ReaderFactory(user__username="tour-reader")
    PendingReaderFactory(user__username="tour-pending")
    NoticeFactory(title_zh="开放时间", title_en="Opening hours", pinned=True)
    quoted = IllRequestFactory(reader=reader, max_cost=Decimal("10"))
    request_transition(ill_request=quoted, to="in_process", actor=staff)
    request_transition(
        ill_request=quoted, to="awaiting_cost_approval", actor=staff, quote=Decimal("45")
    )
    delivered = IllRequestFactory(reader=reader, user_reference="WL-2026-001")
    FeeLineFactory(request=delivered, kind=FeeKind.COPY, amount=Decimal("10"))
    submitted = IllRequestFactory(reader=reader, status=Status.SUBMITTED)
    return {"quoted": quoted, "delivered": delivered, "submitted": submitted}


def _log_in(page, username):
    page.goto("/accounts/login/")
    page.locator("#id_login").fill(username)
    page.locator("#id_password").fill(PASSWORD)
    page.locator("main form[action='/accounts/login/'] button[type=submit]").click()
    page.wait_for_url("**/")


def _log_out(page):
    page.set_viewport_size(WIDE)
    page.locator("form[action='/accounts/logout/'] button").click()
    page.wait_for_load_state()


@pytest.mark.parametrize("locale", ["zh-CN", "en-US"])
def test_every_reader_page_passes_axe_in_both_languages_at_both_widths(
    browser, live_server, cast, locale
):
    context = browser.new_context(base_url=live_server.url, locale=locale, viewport=WIDE)
    context.set_default_timeout(10_000)
    page = check_every_page(context.new_page(), live_server.url)
    try:
        # A visitor.
        for path in ["/", "/help/", "/about/", "/fees/", "/accounts/signup/"]:
            page.goto(path)
        page.goto("/openurl?genre=article&atitle=%D6%D0%CE%C4&title=Nature")
        expect(page.locator("main")).to_contain_text(
            "将为您保留" if locale == "zh-CN" else "will be kept"
        )
        # A failed sign-up shows its error summary.
        page.locator("main form button[type=submit]").click()
        page.wait_for_load_state()

        # A pending reader.
        _log_in(page, "tour-pending")
        page.goto("/profile/")
        page.goto("/openurl?genre=article&atitle=Kept")
        _log_out(page)

        # A confirmed reader, on a phone this time (the check does the other width too).
        page.set_viewport_size(PHONE)
        _log_in(page, "tour-reader")
        for path in ["/notices/1/", "/profile/", "/requests/new/", "/requests/", "/account/"]:
            page.goto(path)
        page.goto("/account/statement/")
        page.goto("/legacy/")
        page.goto("/requests/new/")
        page.locator("#id_contact_email").fill("")
        page.locator("main form.request-form button[type=submit]").click()
        page.wait_for_load_state()
        for ill_request in cast.values():
            page.goto(ill_request.get_absolute_url())
        page.goto(f"/requests/{cast['submitted'].number}/cancel/")
        page.goto(f"/requests/{cast['quoted'].number}/decline-quote/")
        page.goto(f"/requests/{cast['delivered'].number}/copy/")
        page.goto("/openurl?sid=Entrez:PubMed&id=pmid:19204306")

        widths = {width for _url, width, _lang, _size in page.axe_checked}
        languages = {lang for _url, _width, lang, _size in page.axe_checked}
        assert widths == {WIDE["width"], PHONE["width"]}
        assert languages == {"zh-Hans" if locale == "zh-CN" else "en"}
        assert len({url for url, *_ in page.axe_checked}) >= 20
    finally:
        context.close()
