"""Every main page keeps to the Content-Security-Policy in Chromium: no inline script or style, no
other origin, the admin included (issue 7.5). A page that breaks the policy is reported by the
browser (a `securitypolicyviolation` event and a console error), and the test fails on either."""

import pytest
from django.utils import timezone

from accounts.legacy import LegacyAccount
from tests.e2e.conftest import log_in
from tests.e2e.test_campus_registration import campus_login
from tests.factories import (
    PASSWORD,
    IllRequestFactory,
    NoticeFactory,
    PendingReaderFactory,
    ReaderFactory,
    StaffFactory,
)

# Runs before the page's own scripts, in every page: collects what the browser refused.
RECORD_VIOLATIONS = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (event) => {
  window.__cspViolations.push(
    `${event.violatedDirective} ${event.blockedURI} ${event.sourceFile}:${event.lineNumber}`
  );
});
"""


class Violations:
    def __init__(self, page):
        self.page = page
        self.console = []
        page.add_init_script(RECORD_VIOLATIONS)
        page.on("console", self._on_console)

    def _on_console(self, message):
        text = message.text
        if "Content Security Policy" in text or "Content-Security-Policy" in text:
            self.console.append(text)

    def visit(self, url):
        response = self.page.goto(url)
        assert response is not None, url
        policy = response.headers.get("content-security-policy", "")
        assert "default-src 'self'" in policy and "unsafe-inline" not in policy, (url, policy)
        # Let deferred scripts run and the admin's widgets build themselves.
        self.page.wait_for_load_state("load")
        reported = self.page.evaluate("window.__cspViolations")
        assert not reported, (url, reported)
        assert not self.console, (url, self.console)
        return response


@pytest.fixture
def cast(transactional_db):
    reader = ReaderFactory(user__username="csp-reader")
    PendingReaderFactory(user__username="csp-pending")
    ill_request = IllRequestFactory(reader=reader)
    notice = NoticeFactory()
    StaffFactory(username="csp-staff")
    return {"reader": reader, "request": ill_request, "notice": notice}


def test_public_pages_keep_to_the_policy(page, cast):
    violations = Violations(page)
    for url in [
        "/",
        "/help/",
        "/about/",
        "/fees/",
        "/accounts/login/",
        "/accounts/signup/",
        "/accounts/password/reset/",
        "/no-such-page/",
        "/requests/?q=%00",
    ]:
        violations.visit(url)


def test_reader_pages_keep_to_the_policy(page, cast):
    violations = Violations(page)
    log_in(page, "csp-reader", PASSWORD)
    number = cast["request"].number
    for url in [
        "/",
        f"/notices/{cast['notice'].pk}/",
        "/profile/",
        "/requests/",
        "/requests/new/",
        f"/requests/{number}/",
        f"/requests/{number}/cancel/",
        "/account/",
        "/account/old-system/",
        "/link/old-account/",
        "/accounts/password/change/",
        "/accounts/logout/",
    ]:
        violations.visit(url)
    # A form sent back with its errors (the error summary takes the focus by script).
    violations.visit("/requests/new/")
    page.locator("#id_publication_title").fill("")
    page.locator("main form[method=post] button[type=submit]").click()
    page.wait_for_load_state("load")
    assert not page.evaluate("window.__cspViolations")
    assert not violations.console


def test_admin_pages_keep_to_the_policy(page, cast):
    violations = Violations(page)
    log_in(page, "csp-staff", PASSWORD)
    reader, ill_request = cast["reader"], cast["request"]
    old = LegacyAccount.objects.create(
        user_id=1, username="old-csp", balance=0, status="active", created_at=timezone.now()
    )
    for url in [
        "/admin/",
        "/admin/readers/reader/",
        f"/admin/readers/reader/{reader.pk}/change/",
        "/admin/readers/registrationtoconfirm/",
        "/admin/readers/notice/",
        "/admin/readers/notice/add/",
        f"/admin/readers/notice/{cast['notice'].pk}/change/",
        "/admin/readers/page/",
        "/admin/requests_app/illrequest/",
        "/admin/requests_app/illrequest/?status__exact=submitted&q=x",
        f"/admin/requests_app/illrequest/{ill_request.pk}/change/",
        f"/admin/requests_app/illrequest/{ill_request.pk}/transition/",
        "/admin/auth/user/",
        # The raw-id lookup window of a request's or notice's reader.
        "/admin/readers/reader/?_to_field=id&_popup=1",
        "/admin/accounts/legacyaccount/",
        f"/admin/accounts/legacyaccount/{old.pk}/change/",
        f"/admin/accounts/legacyaccount/{old.pk}/link/",
        f"/admin/accounts/legacyaccount/{old.pk}/move-balance/",
    ]:
        violations.visit(url)
    # The admin's widgets: the calendar and clock of a date field, built by its scripts.
    violations.visit("/admin/readers/notice/add/")
    page.locator(".datetimeshortcuts a").first.click()
    page.locator(".calendarbox, .clockbox").first.wait_for(state="attached")
    assert not page.evaluate("window.__cspViolations")
    assert not violations.console


def test_the_campus_sign_up_keeps_to_the_policy(page, campus_idp):
    # The SSO button posts to the portal, which redirects to the identity provider: the policy
    # must not stop that redirect (no form-action), and the sign-up page keeps to it.
    violations = Violations(page)
    campus_login(page)
    page.wait_for_url("**/accounts/3rdparty/signup/")
    assert not page.evaluate("window.__cspViolations")
    assert not violations.console
    violations.visit("/accounts/3rdparty/signup/")


def test_the_public_accounts_pages_keep_to_the_policy(page, cast):
    from django.core.management import call_command

    from requests_app.models import IllRequest

    call_command("public_account", verbosity=0)
    violations = Violations(page)
    violations.visit("/accounts/login/")
    log_in(page, "passing", "passing")
    violations.visit("/guest/requests/new/")
    page.locator("#id_document_type").select_option("journal_article")
    page.locator("#id_publication_title").fill("Interlending & Document Supply")
    page.locator("#id_article_title").fill("Licence to Deny?")
    page.locator("#id_max_cost").fill("0")
    page.locator("#id_contact_name").fill("张三")
    page.locator("#id_contact_address").fill("北京")
    page.locator("#id_contact_email").fill("zhang@example.org")
    page.locator("#id_contact_phone").fill("13800138000")
    page.locator("main form[method=post] button[type=submit]").first.click()
    page.wait_for_url("**/guest/r/**")
    link = IllRequest.objects.get(is_guest=True).guest_link_path()
    for url in ["/guest/requests/", link, link + "cancel/", "/guest/links/", "/profile/"]:
        violations.visit(url)
