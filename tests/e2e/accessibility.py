"""axe-core on every reader page the browser journeys visit (issue 14, item 12).

`check_every_page(page, live_server_url)` makes the page run axe-core (bundled by
axe-playwright-python, injected from the local package: no download) after each navigation
the journey waits for — `goto`, `reload`, `wait_for_url`, `wait_for_load_state` — at the
width it has and at the other of the two widths we support (1280×900 and a 390×844 phone).
A serious or critical violation fails the journey there, naming the page, the width, the
language and the elements. The back office (/admin/) and other origins (the development
identity provider) are not reader pages and are not checked.
"""

from __future__ import annotations

import functools
from urllib.parse import urlsplit

from axe_playwright_python.sync_playwright import Axe

WIDE = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}
FAILING_IMPACTS = frozenset({"serious", "critical"})
NOT_READER_PAGES = ("/admin/", "/static/")

_AXE = Axe()


class AccessibilityViolation(AssertionError):
    pass


def serious_violations(page) -> list[dict]:
    """axe-core's serious and critical violations on the page as it is now."""
    results = _AXE.run(page)
    return [v for v in results.response["violations"] if v.get("impact") in FAILING_IMPACTS]


def describe(violations: list[dict]) -> str:
    lines = []
    for violation in violations:
        lines.append(f"- {violation['id']} ({violation['impact']}): {violation['help']}")
        for node in violation["nodes"][:5]:
            lines.append(f"    {node.get('html', '')[:200]}")
    return "\n".join(lines)


def check_page(page, *, checked: set | None = None) -> None:
    """Run axe at this width and the other one; raise on serious or critical violations."""
    url = page.url
    original = page.viewport_size or WIDE
    other = PHONE if original["width"] > PHONE["width"] else WIDE
    for viewport in (original, other):
        if viewport is not original:
            page.set_viewport_size(viewport)
        try:
            language = page.evaluate("document.documentElement.lang")
            key = (
                url,
                viewport["width"],
                language,
                page.evaluate("document.body.innerHTML.length"),
            )
            if checked is not None and key in checked:
                continue
            violations = serious_violations(page)
            if checked is not None:
                checked.add(key)
        finally:
            if viewport is not original:
                page.set_viewport_size(original)
        if violations:
            raise AccessibilityViolation(
                f"axe-core: {len(violations)} serious/critical violation(s) on {url} "
                f"at {viewport['width']}px, lang={language}:\n{describe(violations)}"
            )


def _is_reader_page(url: str, origin: str) -> bool:
    parts = urlsplit(url)
    if f"{parts.scheme}://{parts.netloc}" != origin:
        return False
    return not parts.path.startswith(NOT_READER_PAGES)


def check_every_page(page, origin: str):
    """Make the page check itself with axe after every navigation the journey waits for."""
    origin = origin.rstrip("/")
    checked: set = set()
    wait_for_load_state = page.wait_for_load_state

    def after(method):
        @functools.wraps(method)
        def wrapper(*args, **kwargs):
            result = method(*args, **kwargs)
            if _is_reader_page(page.url, origin):
                wait_for_load_state()
                check_page(page, checked=checked)
            return result

        return wrapper

    for name in ("goto", "reload", "wait_for_url", "wait_for_load_state", "go_back"):
        setattr(page, name, after(getattr(page, name)))
    page.axe_checked = checked
    return page
