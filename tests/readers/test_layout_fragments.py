"""The layout's kept fragments (templates/base.html, `{% cache %}`): each visitor still sees
their own navigation, badge, language, forms and tokens, whoever the process served before."""

import re

import pytest
from django.test import Client
from django.utils import timezone

from tests.factories import NoticeFactory, PendingReaderFactory, ReaderFactory, StaffFactory

pytestmark = pytest.mark.django_db


def signed_in(user, **kwargs):
    client = Client(**kwargs)
    client.force_login(user)
    return client


def nav(client, path="/", language="en"):
    html = client.get(path, HTTP_ACCEPT_LANGUAGE=language).content.decode()
    return html[html.index("<header") : html.index("</header>")]


def test_one_process_serves_each_kind_of_visitor_its_own_navigation():
    confirmed = signed_in(ReaderFactory().user)
    pending = signed_in(PendingReaderFactory().user)
    staff = signed_in(StaffFactory())
    anonymous = Client()
    for _round in range(2):  # the second round is served from the kept fragments
        header = nav(confirmed)
        assert "Submit request" in header and "Profile" in header and "Log out" in header
        assert 'href="/admin/"' not in header
        header = nav(pending)
        assert "Profile" in header and "Log out" in header
        assert "Submit request" not in header and "Legacy data" not in header
        header = nav(staff)
        assert 'href="/admin/"' in header and "Log out" in header
        assert "Profile" not in header and "Submit request" not in header
        header = nav(anonymous)
        assert "Log in" in header and "Fee schedule" in header
        assert "Log out" not in header and "csrfmiddlewaretoken" in header


def test_the_unread_badge_follows_the_count():
    reader = ReaderFactory()
    client = signed_in(reader.user)
    assert 'class="badge"' not in nav(client)
    first = NoticeFactory(reader=reader)
    assert re.search(r'class="badge"[^>]*>1</span>', nav(client))
    NoticeFactory(reader=reader)
    assert re.search(r'class="badge"[^>]*>2</span>', nav(client))
    first.read_at = timezone.now()
    first.save()
    assert re.search(r'class="badge"[^>]*>1</span>', nav(client))


def test_each_language_has_its_own_fragments():
    client = signed_in(ReaderFactory().user)
    for _round in range(2):
        english = nav(client, language="en")
        assert "Submit request" in english and "提交申请" not in english
        assert 'value="en" lang="en" aria-current="true"' in english
        chinese = nav(client, language="zh-hans")
        assert "提交申请" in chinese and "Submit request" not in chinese
        assert 'value="zh-hans" lang="zh-Hans" aria-current="true"' in chinese


def test_the_forms_carry_this_page_and_this_visitors_token():
    reader = ReaderFactory()
    client = signed_in(reader.user, enforce_csrf_checks=True)
    nav(client, "/help/")  # fills the fragments
    header = nav(client, "/requests/")
    assert '<input type="hidden" name="next" value="/requests/">' in header
    tokens = re.findall(r'name="csrfmiddlewaretoken" value="([^"]+)"', header)
    assert len(tokens) == 2  # the language switch's and the log-out's
    switched = client.post(
        "/i18n/setlang/",
        {"csrfmiddlewaretoken": tokens[0], "language": "en", "next": "/requests/"},
    )
    assert switched.status_code == 302 and switched["Location"] == "/requests/"
    logged_out = client.post("/accounts/logout/", {"csrfmiddlewaretoken": tokens[1]})
    assert logged_out.status_code == 302
    assert "Log in" in nav(client)


def test_a_changed_setting_shows_at_once(settings):
    client = Client()
    assert "Example Library" not in nav(client)
    settings.LIBRARY_NAME = "Example Library"
    header = nav(client)
    assert '<span class="brand__library">Example Library</span>' in header
