"""The Content-Security-Policy header, and our templates give it nothing to refuse (issue 7.5).
The browser check of the main pages is tests/e2e/test_content_security_policy.py."""

import re
from pathlib import Path

import pytest
from django.template import loader

ROOT = Path(__file__).resolve().parents[2]
INLINE = [
    re.compile(r"<style", re.I),
    re.compile(r"\sstyle\s*=", re.I),
    re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.I),
    re.compile(r"\son[a-z]+\s*=", re.I),
    re.compile(r"javascript:", re.I),
]


def test_no_template_has_inline_script_style_or_event_handlers():
    found = []
    for path in sorted((ROOT / "templates").rglob("*.html")):
        if "emails" in path.parts:
            continue  # e-mails are not web pages: mail clients need inline styles
        text = path.read_text()
        found += [f"{path.relative_to(ROOT)}: {p.pattern}" for p in INLINE if p.search(text)]
    assert not found


@pytest.mark.django_db
@pytest.mark.parametrize("who", ["client_anon", "client_a", "client_staff"])
def test_every_page_has_the_policy(request, who):
    client = request.getfixturevalue(who)
    for url in ["/", "/accounts/login/", "/profile/", "/admin/", "/no-such-page/"]:
        policy = client.get(url)["Content-Security-Policy"]
        directives = dict(part.strip().split(" ", 1) for part in policy.split(";"))
        for name in ("default-src", "script-src", "style-src", "img-src", "font-src"):
            assert directives[name] == "'self'", (url, name)
        assert directives["object-src"] == "'none'"
        assert directives["frame-ancestors"] == "'none'"


def test_the_server_error_page_links_its_style():
    html = loader.get_template("500.html").render()
    assert 'rel="stylesheet"' in html and "error.css" in html
