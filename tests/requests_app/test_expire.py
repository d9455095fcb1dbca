"""Expiry (SPEC 4.7): `manage.py expire_requests` ends submitted requests past their date."""

import datetime
import io

import pytest
from django.core import mail
from django.core.management import call_command
from django.utils import timezone

from requests_app.models import Status, StatusChange
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


def test_the_command_expires_by_the_local_date_and_says_what_it_did():
    yesterday = timezone.localdate() - datetime.timedelta(days=1)
    ill_request = IllRequestFactory(valid_until=yesterday)
    out = io.StringIO()
    call_command("expire_requests", stdout=out)
    assert str(ill_request.number) in out.getvalue()
    out = io.StringIO()
    call_command("expire_requests", stdout=out)
    assert "No request" in out.getvalue()
