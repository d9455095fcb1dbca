"""E-mail: rendered in the reader's language, sent after commit, retried when the server fails."""

import pytest
from django.core import mail
from django.core.management import call_command
from django.db import transaction

from core.mail import send_email
from tests.mail_backends import FlakyEmailBackend

pytestmark = pytest.mark.django_db

CONTEXT = {"reader": {"name": "Li Wen", "rejection_reason": "x"}}


@pytest.fixture
def flaky(settings):
    settings.EMAIL_BACKEND = "tests.mail_backends.FlakyEmailBackend"
    FlakyEmailBackend.attempts = 0
    FlakyEmailBackend.failures = 0
    yield FlakyEmailBackend
    FlakyEmailBackend.failures = 0


def test_email_is_sent_when_the_transaction_commits(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        send_email("reader_confirmed", to="li@example.org", context=CONTEXT, language="en")
        assert mail.outbox == []
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["li@example.org"]
    assert "Account confirmation notice" in message.subject
    assert "Dear Li Wen," in message.body
    assert message.alternatives[0].mimetype == "text/html"


def test_email_is_rendered_in_the_readers_language(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        send_email("reader_confirmed", to="li@example.org", context=CONTEXT, language="zh-hans")
    assert "账户确认通知" in mail.outbox[0].subject
    assert "尊敬的 Li Wen" in mail.outbox[0].body


def test_text_body_is_not_html_escaped(django_capture_on_commit_callbacks):
    context = {"reader": {"name": "O'Brien & Sons"}}
    with django_capture_on_commit_callbacks(execute=True):
        send_email("reader_confirmed", to="o@example.org", context=context, language="en")
    assert "O'Brien & Sons" in mail.outbox[0].body
    assert "O&#x27;Brien &amp; Sons" in mail.outbox[0].alternatives[0].content


@pytest.mark.django_db(transaction=True)
def test_a_rolled_back_change_sends_nothing():
    with pytest.raises(RuntimeError), transaction.atomic():
        send_email("reader_confirmed", to="li@example.org", context=CONTEXT, language="en")
        raise RuntimeError("the change failed")
    assert mail.outbox == []


def test_a_failing_mail_server_is_retried_until_it_answers(
    flaky, django_capture_on_commit_callbacks
):
    flaky.failures = 2
    with django_capture_on_commit_callbacks(execute=True):
        send_email("reader_confirmed", to="li@example.org", context=CONTEXT, language="en")
    assert flaky.attempts == 3
    assert len(mail.outbox) == 1


def test_retries_stop_after_the_limit_and_the_page_is_not_broken(
    flaky, settings, django_capture_on_commit_callbacks
):
    settings.MAIL_MAX_ATTEMPTS = 3
    flaky.failures = 10
    with django_capture_on_commit_callbacks(execute=True):
        send_email("reader_confirmed", to="li@example.org", context=CONTEXT, language="en")
    assert flaky.attempts == 3
    assert mail.outbox == []


@pytest.fixture
def database_queue(settings):
    # django-tasks resets its backends when TASKS changes (setting_changed).
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}


# The worker closes connections it finds inside a transaction, as a test's would be: these
# tests run in autocommit, like the worker in production.
@pytest.mark.django_db(transaction=True)
def test_in_production_emails_wait_in_the_database_queue_for_the_worker(database_queue):
    from django_tasks_db.models import DBTaskResult

    with transaction.atomic():
        send_email("reader_confirmed", to="li@example.org", context=CONTEXT, language="en")
    assert mail.outbox == []
    assert DBTaskResult.objects.count() == 1
    call_command("db_worker", "--batch", "--no-startup-delay", verbosity=0)
    assert len(mail.outbox) == 1


@pytest.mark.django_db(transaction=True)
def test_in_production_the_email_is_queued_in_the_changes_own_transaction(database_queue):
    """One commit for the change and its e-mail (issue 14): the row is written before the
    commit, so it is rolled back with a change that fails, and never seen without it."""
    from django_tasks_db.models import DBTaskResult

    with pytest.raises(RuntimeError), transaction.atomic():
        send_email("reader_confirmed", to="li@example.org", context=CONTEXT, language="en")
        assert DBTaskResult.objects.count() == 1
        raise RuntimeError("the change failed")
    assert DBTaskResult.objects.count() == 0
    call_command("db_worker", "--batch", "--no-startup-delay", verbosity=0)
    assert mail.outbox == []


@pytest.mark.django_db(transaction=True)
def test_in_production_a_failed_send_is_queued_again_for_later(database_queue, flaky):
    from django_tasks_db.models import DBTaskResult

    flaky.failures = 1
    with transaction.atomic():
        send_email("reader_confirmed", to="li@example.org", context=CONTEXT, language="en")
    call_command("db_worker", "--batch", "--no-startup-delay", verbosity=0)
    assert mail.outbox == []
    retry = DBTaskResult.objects.order_by("-enqueued_at").first()
    assert retry.run_after is not None
    assert retry.args_kwargs["kwargs"]["attempt"] == 2


@pytest.mark.django_db(transaction=True)
def test_an_email_queued_before_the_mail_module_moved_is_still_delivered(database_queue):
    """Queued rows name their task by import path; an upgrade must not strand them."""
    from django_tasks_db.models import DBTaskResult

    with transaction.atomic():
        send_email("reader_confirmed", to="li@example.org", context=CONTEXT, language="en")
    DBTaskResult.objects.update(task_path="illgateway.mail.deliver_email")
    call_command("db_worker", "--batch", "--no-startup-delay", verbosity=0)
    assert len(mail.outbox) == 1
