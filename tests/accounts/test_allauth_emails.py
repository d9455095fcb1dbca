"""allauth's e-mails go out like the gateway's own: in the reader's language, signed by the
office, never greeting from the host name, queued after commit and retried."""

import re
from pathlib import Path

import pytest
from allauth.account.adapter import get_adapter
from allauth.core.context import request_context
from django.conf import settings
from django.core import mail
from django.test import RequestFactory
from django.utils import translation

from tests.factories import PendingReaderFactory, ReaderFactory, UserFactory

pytestmark = pytest.mark.django_db

CJK = re.compile(r"[\u4e00-\u9fff]")
ALLAUTH_EMAILS = sorted(
    path.name.removesuffix("_subject.txt")
    for path in (Path(__import__("allauth").__file__).parent / "templates/account/email").glob(
        "*_subject.txt"
    )
)


@pytest.fixture
def render(django_capture_on_commit_callbacks):
    def render(prefix, language, user):
        mail.outbox.clear()
        with django_capture_on_commit_callbacks(execute=True):
            _send(prefix, language, user)
        (message,) = mail.outbox  # queued until the transaction commits, then delivered
        return message

    return render


def _send(prefix, language, user):
    """What the adapter sends for allauth e-mail `prefix`, as the worker would deliver it."""
    request = RequestFactory().get("/", HTTP_HOST="127.0.0.1:8300")
    context = {
        "user": user,
        "password_reset_url": "http://127.0.0.1:8000/accounts/password/reset/key/x/",
        "activate_url": "http://127.0.0.1:8000/accounts/confirm-email/x/",
        "signup_url": "http://127.0.0.1:8000/accounts/signup/",
        "password_reset_url_": "",
        "code": "123456",
        "username": user.username if user else "",
        "timestamp": "2026-11-28 10:00",
        "ip": "192.0.2.1",
        "user_agent": "Firefox",
        "from_email": "old@example.org",
        "to_email": "new@example.org",
        "deleted_email": "old@example.org",
    }
    with request_context(request), translation.override(language):
        get_adapter(request).send_mail(f"account/email/{prefix}", "li@example.org", context)


def test_every_allauth_email_is_known():
    assert "password_reset_key" in ALLAUTH_EMAILS
    assert "unknown_account" in ALLAUTH_EMAILS
    assert len(ALLAUTH_EMAILS) >= 10


@pytest.mark.parametrize("prefix", ALLAUTH_EMAILS)
@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_each_allauth_email_reads_as_the_gateways_in_the_readers_language(render, prefix, language):
    reader = ReaderFactory(language=language, name="Li Wen")
    # The page was asked in the other language: the reader's choice for e-mails wins.
    page_language = "en" if language == "zh-hans" else "zh-hans"
    message = render(prefix, page_language, reader.user)

    text = f"{message.subject}\n{message.body}"
    assert "127.0.0.1:8300" not in text
    assert "Hello from" not in text
    assert not message.subject.startswith("[")
    assert message.from_email == settings.DEFAULT_FROM_EMAIL
    if language == "en":
        assert message.subject.endswith("· ILL Reader Gateway")
        assert "Interlibrary loan and document delivery office" in message.body
        assert not CJK.search(text), text
    else:
        assert message.subject.endswith("· 馆际互借读者网关")
        assert "馆际互借" in message.body
        assert "Interlibrary loan" not in message.body
        assert "Hello" not in text


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_someone_not_logged_in_gets_the_language_they_browse_in(render, language):
    message = render("unknown_account", language, None)
    assert bool(CJK.search(message.body)) == (language == "zh-hans")


def test_the_library_name_signs_the_email_when_set(render, settings):
    settings.LIBRARY_NAME = "Example University Library"
    message = render("password_reset_key", "en", ReaderFactory(language="en", name="Li Wen").user)
    assert message.subject.endswith("· Example University Library")
    assert "Example University Library" in message.body


def test_a_password_reset_is_queued_after_commit_in_the_readers_language(
    client, django_capture_on_commit_callbacks
):
    reader = ReaderFactory(language="en", email="li@example.org", user__email="li@example.org")
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        client.post(
            "/accounts/password/reset/", {"email": "li@example.org"}, HTTP_ACCEPT_LANGUAGE="zh"
        )
        assert mail.outbox == []  # not sent while the request is still running
    for callback in callbacks:
        callback()
    (message,) = mail.outbox
    assert message.to == [reader.email]
    assert "/accounts/password/reset/key/" in message.body
    assert not CJK.search(message.body)


def test_a_failing_mail_server_does_not_lose_a_password_reset(
    client, settings, django_capture_on_commit_callbacks
):
    from tests.mail_backends import FlakyEmailBackend

    settings.EMAIL_BACKEND = "tests.mail_backends.FlakyEmailBackend"
    FlakyEmailBackend.attempts = 0
    FlakyEmailBackend.failures = 1
    try:
        PendingReaderFactory(email="p@example.org", user__email="p@example.org")
        UserFactory(username="other")
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post("/accounts/password/reset/", {"email": "p@example.org"})
        assert response.status_code == 302
        assert FlakyEmailBackend.attempts == 2
        assert len(mail.outbox) == 1
    finally:
        FlakyEmailBackend.failures = 0
