"""Expiry (SPEC 4.7): `manage.py expire_requests` ends submitted requests past their date."""

import datetime
import io
from collections import Counter

import pytest
from django.core import mail
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from requests_app.models import IllRequest, Status, StatusChange
from requests_app.services import request_expire_due
from tests.factories import IllRequestFactory

pytestmark = pytest.mark.django_db

TODAY = datetime.date(2030, 6, 15)


def test_only_submitted_requests_past_their_date_expire():
    due = IllRequestFactory(valid_until=TODAY - datetime.timedelta(days=1))
    today = IllRequestFactory(valid_until=TODAY)
    no_date = IllRequestFactory(valid_until=None)
    in_process = IllRequestFactory(
        valid_until=TODAY - datetime.timedelta(days=1), status=Status.IN_PROCESS
    )
    assert request_expire_due(today=TODAY) == [due.number]
    for ill_request, status in [
        (due, "expired"),
        (today, "submitted"),
        (no_date, "submitted"),
        (in_process, "in_process"),
    ]:
        ill_request.refresh_from_db()
        assert ill_request.status == status
    change = StatusChange.objects.get()
    assert change.actor is None and change.to_status == "expired"


def test_running_twice_changes_nothing_more(django_capture_on_commit_callbacks):
    IllRequestFactory(valid_until=TODAY - datetime.timedelta(days=3))
    with django_capture_on_commit_callbacks(execute=True):
        assert len(request_expire_due(today=TODAY)) == 1
        assert request_expire_due(today=TODAY) == []
    assert StatusChange.objects.count() == 1
    assert len(mail.outbox) == 1


def test_the_command_expires_by_the_local_date_and_says_how_many():
    yesterday = timezone.localdate() - datetime.timedelta(days=1)
    requests = IllRequestFactory.create_batch(3, valid_until=yesterday)
    out = io.StringIO()
    call_command("expire_requests", stdout=out)
    assert "Expired 3 request(s)" in out.getvalue()
    # A count, not every number: 20,000 numbers on a terminal help nobody.
    assert all(str(r.number) not in out.getvalue() for r in requests)
    out = io.StringIO()
    call_command("expire_requests", stdout=out)
    assert "No request" in out.getvalue()


def due_batch_selects(queries):
    """The queries that pick a batch of due requests (one per batch, each in its transaction)."""
    return [
        q["sql"]
        for q in queries
        if '"valid_until" <' in q["sql"]
        and 'ORDER BY "requests_app_illrequest"."valid_until"' in q["sql"]
    ]


@pytest.mark.parametrize(("due", "batch", "selects"), [(5, 2, 3), (4, 2, 3), (3, 500, 1)])
def test_requests_expire_in_batches_each_in_one_transaction(due, batch, selects):
    IllRequestFactory.create_batch(due, valid_until=TODAY - datetime.timedelta(days=2))
    with CaptureQueriesContext(connection) as captured:
        expired = request_expire_due(today=TODAY, batch_size=batch)
    assert len(expired) == due
    assert Counter(IllRequest.objects.values_list("status", flat=True)) == {"expired": due}
    picks = due_batch_selects(captured.captured_queries)
    assert len(picks) == selects
    assert all(f"LIMIT {batch}" in sql for sql in picks)
    if connection.features.has_select_for_update_skip_locked:
        assert all("FOR UPDATE" in sql and "SKIP LOCKED" in sql for sql in picks)
    # Each batch is its own transaction: inside the test's transaction, a savepoint each.
    savepoints = [q for q in captured.captured_queries if q["sql"].startswith("SAVEPOINT")]
    assert len(savepoints) >= selects


def test_a_batched_run_keeps_the_history_and_the_e_mails_and_is_idempotent(
    django_capture_on_commit_callbacks,
):
    requests = IllRequestFactory.create_batch(7, valid_until=TODAY - datetime.timedelta(days=1))
    with django_capture_on_commit_callbacks(execute=True):
        assert sorted(request_expire_due(today=TODAY, batch_size=3)) == sorted(
            r.number for r in requests
        )
    with django_capture_on_commit_callbacks(execute=True):
        assert request_expire_due(today=TODAY, batch_size=3) == []
    changes = StatusChange.objects.filter(to_status="expired")
    assert changes.count() == 7
    assert all(c.event == "expired" and c.actor is None for c in changes)
    assert len(mail.outbox) == 7
    assert sorted(m.to[0] for m in mail.outbox) == sorted(r.contact_email for r in requests)
