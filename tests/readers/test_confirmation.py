"""Staff confirm or reject registrations in the admin; the reader hears of it."""

import datetime

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from readers.models import Notice, Reader, ReaderStatus
from readers.services import ReaderStateError, reader_confirm, reader_reject
from tests.factories import PendingReaderFactory

pytestmark = pytest.mark.django_db

CHANGELIST = "/admin/readers/reader/"
QUEUE = "/admin/readers/registrationtoconfirm/"


def test_queue_lists_only_pending_registrations(client_staff, pending_reader, reader_a):
    response = client_staff.get(QUEUE)
    assert response.status_code == 200
    assert list(response.context["cl"].result_list) == [pending_reader]


def test_queue_shows_the_oldest_registration_first(client_staff):
    now = timezone.now()
    middle = PendingReaderFactory(created_at=now - datetime.timedelta(days=2))
    newest = PendingReaderFactory(created_at=now)
    oldest = PendingReaderFactory(created_at=now - datetime.timedelta(days=5))
    response = client_staff.get(QUEUE)
    assert list(response.context["cl"].result_list) == [oldest, middle, newest]


def test_bulk_confirm_confirms_each_and_tells_them(
    client_staff, staff, django_capture_on_commit_callbacks
):
    pending = [PendingReaderFactory(language="en"), PendingReaderFactory(language="zh-hans")]
    with django_capture_on_commit_callbacks(execute=True):
        response = client_staff.post(
            QUEUE,
            {"action": "confirm_selected", "_selected_action": [r.pk for r in pending]},
        )
    assert response.status_code == 302
    for reader in pending:
        reader.refresh_from_db()
        assert reader.status == ReaderStatus.CONFIRMED
        assert reader.decided_by == staff
    assert sorted(m.to[0] for m in mail.outbox) == sorted(r.email for r in pending)
    english = next(m for m in mail.outbox if m.to == [pending[0].email])
    chinese = next(m for m in mail.outbox if m.to == [pending[1].email])
    assert "Account confirmation notice" in english.subject
    assert "账户确认通知" in chinese.subject
    assert Notice.objects.filter(reader=pending[1], title_zh="账户确认通知").exists()


def test_confirm_button_on_the_reader_page(client_staff, pending_reader):
    url = reverse("admin:readers_reader_confirm", args=[pending_reader.pk])
    page = client_staff.get(reverse("admin:readers_reader_change", args=[pending_reader.pk]))
    assert url in page.content.decode()
    # In Chinese the button says what it confirms (the reader's 确定 is the wizard's and the
    # cancel page's answer to a question).
    change = reverse("admin:readers_reader_change", args=[pending_reader.pk])
    chinese = client_staff.get(change, HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert ">确认注册</button>" in chinese
    english = client_staff.get(change, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert ">Confirm</button>" in english
    assert client_staff.get(url).status_code == 405
    client_staff.post(url)
    pending_reader.refresh_from_db()
    assert pending_reader.is_confirmed


def test_reject_asks_for_a_reason_and_sends_it(
    client_staff, pending_reader, django_capture_on_commit_callbacks
):
    url = reverse("admin:readers_reader_reject", args=[pending_reader.pk])
    empty = client_staff.post(url, {"reason": ""})
    assert empty.status_code == 200  # the form again, with its error
    pending_reader.refresh_from_db()
    assert pending_reader.is_pending
    with django_capture_on_commit_callbacks(execute=True):
        client_staff.post(url, {"reason": "证件号码无法核实 ID cannot be verified"})
    pending_reader.refresh_from_db()
    assert pending_reader.status == ReaderStatus.REJECTED
    assert pending_reader.rejection_reason == "证件号码无法核实 ID cannot be verified"
    assert "ID cannot be verified" in mail.outbox[0].body
    notice = Notice.objects.get(reader=pending_reader)
    assert "ID cannot be verified" in notice.body_en


def test_bulk_reject_goes_through_a_reason_page(client_staff):
    pending = PendingReaderFactory()
    ask = client_staff.post(
        CHANGELIST, {"action": "reject_selected", "_selected_action": [pending.pk]}
    )
    assert ask.status_code == 200
    assert "reason" in ask.content.decode()
    done = client_staff.post(
        CHANGELIST,
        {"action": "reject_selected", "_selected_action": [pending.pk], "reason": "Duplicate"},
    )
    assert done.status_code == 302
    pending.refresh_from_db()
    assert pending.status == ReaderStatus.REJECTED


def test_rejected_reader_is_told_why_on_reader_pages(client, pending_reader, staff):
    reader_reject(reader=pending_reader, actor=staff, reason="Not a member of a partner library")
    client.force_login(pending_reader.user)
    response = client.get("/requests/new/", HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 403
    assert "Not a member of a partner library" in response.content.decode()
    home = client.get("/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "could not confirm your registration" in home
    assert "Not a member of a partner library" in home


def test_confirming_twice_is_refused(reader_a, staff):
    with pytest.raises(ReaderStateError):
        reader_confirm(reader=reader_a, actor=staff)


def test_a_confirmed_reader_cannot_be_rejected(reader_a, staff):
    with pytest.raises(ReaderStateError):
        reader_reject(reader=reader_a, actor=staff, reason="x")
    reader_a.refresh_from_db()
    assert reader_a.is_confirmed


def test_readers_cannot_use_the_admin(client_a, client_pending, client_anon, pending_reader):
    url = reverse("admin:readers_reader_confirm", args=[pending_reader.pk])
    for client in (client_a, client_pending, client_anon):
        response = client.post(url)
        assert response.status_code == 302
        assert "/admin/login/" in response["Location"]
    assert Reader.objects.get(pk=pending_reader.pk).is_pending


def test_bulk_confirm_skips_rejected_readers_with_a_warning(client_staff, staff, pending_reader):
    reader_reject(reader=pending_reader, actor=staff, reason="Duplicate")
    response = client_staff.post(
        CHANGELIST,
        {"action": "confirm_selected", "_selected_action": [pending_reader.pk]},
        follow=True,
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert "was skipped" in response.content.decode()
    pending_reader.refresh_from_db()
    assert pending_reader.status == ReaderStatus.REJECTED


def test_notice_without_a_title_gets_a_readable_error_in_the_admin(client_staff):
    response = client_staff.post(
        "/admin/readers/notice/add/",
        {
            "title_zh": "",
            "title_en": "",
            "body_zh": "x",
            "publish_at_0": "2026-11-28",
            "publish_at_1": "10:00:00",
        },
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert response.status_code == 200
    assert "Give the notice a title in Chinese or in English." in response.content.decode()
    assert not Notice.objects.exists()


@pytest.mark.parametrize("day", ["0001-01-01", "9999-12-31", "1899-12-31"])
def test_a_date_no_database_can_take_is_said_beside_the_field_in_the_admin(client_staff, day):
    # Found by a probe: year 1 in Beijing time is before year 1 in UTC, and saving answered 500.
    client_staff.raise_request_exception = False
    response = client_staff.post(
        "/admin/readers/notice/add/",
        {
            "title_zh": "通知",
            "body_zh": "x",
            "publish_at_0": day,
            "publish_at_1": "00:00:00",
        },
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert response.status_code == 200
    assert "Give a date between 1900 and 2999." in response.content.decode()
    assert 'value="通知"' in response.content.decode()
    assert not Notice.objects.exists()


def test_confirmation_email_declares_its_language(
    staff, pending_reader, django_capture_on_commit_callbacks
):
    pending_reader.language = "en"
    pending_reader.save()
    with django_capture_on_commit_callbacks(execute=True):
        reader_confirm(reader=pending_reader, actor=staff)
    assert '<html lang="en">' in mail.outbox[0].alternatives[0].content
