"""Browser journeys: Playwright driving Debian's Chromium against Django's live server.

Where Chromium is missing the journeys are skipped with a reason, unless REQUIRE_BROWSER=1
(as in CI), where a missing browser is a failure.
"""

import json
import os
from pathlib import Path

import pytest

from core.sso_config import providers_from_env
from tests.dev_oidc_idp import DevOIDCProvider
from tests.e2e.accessibility import check_every_page

# Playwright's sync API runs an event loop in the test thread; Django's ORM, used by the test to
# arrange data, would otherwise refuse to run next to it.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
LAUNCH_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]


def pytest_collection_modifyitems(items):
    here = Path(__file__).parent
    for item in items:
        if here in Path(item.fspath).parents:
            item.add_marker(pytest.mark.browser)


@pytest.fixture(scope="session")
def browser():
    if not Path(CHROMIUM).exists():
        message = f"Chromium is not installed at {CHROMIUM} (apt-get install chromium)"
        if os.environ.get("REQUIRE_BROWSER") == "1":
            pytest.fail(message + "; REQUIRE_BROWSER=1 makes that a failure")
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=LAUNCH_ARGS
        )
        yield browser
        browser.close()


@pytest.fixture
def page(browser, live_server, transactional_db):
    context = browser.new_context(
        base_url=live_server.url, locale="zh-CN", viewport={"width": 1200, "height": 900}
    )
    context.set_default_timeout(10_000)
    # Every reader page the journey visits is checked with axe-core at both widths (issue 14).
    page = check_every_page(context.new_page(), live_server.url)
    yield page
    context.close()


def log_in(page, username, password):
    page.goto("/accounts/login/")
    page.locator("#id_login").fill(username)
    page.locator("#id_password").fill(password)
    page.locator("main form[action='/accounts/login/'] button[type=submit]").click()
    page.wait_for_url("**/")


@pytest.fixture(scope="session")
def e2e_dev_idp(live_server, tmp_path_factory):
    """The development OpenID Connect provider, for the gateway's live server."""
    with DevOIDCProvider(
        tmp_path_factory.mktemp("e2e_dev_idp"),
        client_id="ill-gateway-e2e",
        secret="e2e-secret",
        redirect_uris=[f"{live_server.url}/accounts/oidc/campus/login/callback/"],
    ) as idp:
        yield idp


@pytest.fixture
def campus_idp(settings, e2e_dev_idp):
    """The gateway's campus login ("统一认证登录") goes to the development IdP."""
    settings.SOCIALACCOUNT_PROVIDERS = providers_from_env(
        json.dumps(
            [
                {
                    "id": "campus",
                    "label": "统一认证登录",
                    "server_url": e2e_dev_idp.issuer,
                    "client_id": "ill-gateway-e2e",
                    "secret": "e2e-secret",
                }
            ]
        ),
        "",
    )
    return e2e_dev_idp
