"""/healthz for the load balancer: database, migrations, the mail queue (issue 15.2)."""

import json
import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from django.core.management import call_command
from django.db import connection, transaction
from django.db.migrations.recorder import MigrationRecorder
from django.test import Client
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from core.mail import send_email

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]
CONTEXT = {"reader": {"name": "Li Wen"}}


@pytest.fixture
def db_queue(settings):
    # django-tasks resets its backends when TASKS changes (setting_changed).
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    settings.HEALTH_MAIL_MAX_AGE = 600


def _get(client=None, **headers):
    response = (client or Client()).get("/healthz", headers=headers)
    return response, json.loads(response.content)


def test_healthy_server_answers_200_small_json_never_cached_no_session(
    db_queue, django_assert_num_queries
):
    # The database, the applied migrations, the oldest e-mail waiting: three queries.
    with django_assert_num_queries(3):
        response, body = _get()
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert body == {
        "status": "ok",
        "checks": {"database": "ok", "migrations": "ok", "mail_queue": "ok"},
    }
    assert "no-store" in response["Cache-Control"]
    assert not response.cookies  # no session, no CSRF or language cookie
    assert len(response.content) < 200


def test_a_load_balancer_probing_by_ip_over_plain_http_gets_the_answer(db_queue, settings):
    settings.SECURE_SSL_REDIRECT = True
    # Any other page: a host not in ALLOWED_HOSTS is a 400, plain HTTP a redirect.
    assert Client().get("/help/", headers={"host": "10.0.0.7"}).status_code == 400
    assert Client().get("/help/").status_code == 301
    response, body = _get(host="10.0.0.7")
    assert response.status_code == 200
    assert body["status"] == "ok"


def test_a_signed_in_visitor_gets_the_same_answer_and_no_session_is_read(
    client_a, db_queue, django_assert_num_queries
):
    with django_assert_num_queries(3):
        response, body = _get(client_a)
    assert body["status"] == "ok"


def test_an_old_email_waiting_in_the_queue_fails_the_check(
    db_queue, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        send_email("reader_confirmed", to="li@example.org", context=CONTEXT, language="en")
    # Just queued: the worker has time.
    response, body = _get()
    assert response.status_code == 200
    # Waiting for longer than HEALTH_MAIL_MAX_AGE: no worker is sending.
    DBTaskResult.objects.update(enqueued_at=timezone.now() - timedelta(minutes=11))
    response, body = _get()
    assert response.status_code == 503
    assert body == {
        "status": "failing",
        "checks": {"database": "ok", "migrations": "ok", "mail_queue": "failing"},
    }
    assert "no-store" in response["Cache-Control"]


def test_a_retry_waiting_for_its_time_is_not_late_but_one_due_long_ago_is(
    db_queue, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        send_email("reader_confirmed", to="li@example.org", context=CONTEXT, language="en")
    long_ago = timezone.now() - timedelta(hours=2)
    DBTaskResult.objects.update(enqueued_at=long_ago, run_after=timezone.now() + timedelta(hours=1))
    assert _get()[0].status_code == 200
    DBTaskResult.objects.update(run_after=timezone.now() - timedelta(minutes=11))
    assert _get()[0].status_code == 503


# The worker closes connections it finds inside a transaction: autocommit, as in production.
@pytest.mark.django_db(transaction=True)
def test_sent_emails_do_not_count(db_queue):
    with transaction.atomic():
        send_email("reader_confirmed", to="li@example.org", context=CONTEXT, language="en")
    DBTaskResult.objects.update(enqueued_at=timezone.now() - timedelta(hours=1))
    call_command("db_worker", "--batch", "--no-startup-delay", verbosity=0)
    assert _get()[0].status_code == 200


def test_a_migration_not_applied_fails_the_check_and_migrate_mends_it_at_once(db_queue):
    # As after a deploy whose `migrate` was forgotten: this code knows a migration the
    # database has not recorded. The next check, without restarting, sees it applied again.
    recorder = MigrationRecorder(connection)
    last = recorder.migration_qs.filter(app="requests_app").order_by("-id").first()
    last.delete()
    response, body = _get()
    assert response.status_code == 503
    assert body["checks"]["migrations"] == "failing"
    recorder.record_applied(last.app, last.name)
    assert _get()[0].status_code == 200


def test_migrations_newer_than_the_code_do_not_fail_an_old_server(db_queue):
    # During a rolling upgrade the database is migrated first; old servers keep serving.
    MigrationRecorder(connection).record_applied("requests_app", "9999_from_a_newer_release")
    assert _get()[0].status_code == 200


PROBE = """
import json, django
django.setup()
from django.test import Client
response = Client().get("/healthz")
print(json.dumps([response.status_code, json.loads(response.content)]))
"""


def test_an_unreachable_database_fails_the_check():
    # The production settings in a process of their own, pointed at a port nobody listens on.
    env = {
        "PATH": os.environ.get("PATH", ""),
        "DJANGO_SETTINGS_MODULE": "illgateway.settings",
        "SECRET_KEY": "health-probe-secret-key-0123456789-abcdefghijklmn",
        "ALLOWED_HOSTS": "ill.example.edu.cn",
        "DATABASE_URL": "postgres://nobody@127.0.0.1:1/nothing",
    }
    result = subprocess.run(
        [sys.executable, "-c", PROBE],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    status, body = json.loads(result.stdout.strip().splitlines()[-1])
    assert status == 503
    assert body == {"status": "failing", "checks": {"database": "failing"}}
    # The operator's log says why; the body does not.
    assert "Connection refused" in result.stderr or "connection" in result.stderr.lower()
