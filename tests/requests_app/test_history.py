"""The status history: what the system writes there is shown in the viewer's language (the
reader's page, the admin, the e-mail and the notice), what staff write is shown as typed."""

import datetime
import importlib
import re
from decimal import Decimal

import pytest
from django.apps import apps
from django.core import mail
from django.urls import reverse
from django.utils import translation

from readers.models import Notice
from requests_app.lifecycle import request_transition
from requests_app.models import Event, Status, StatusChange
from requests_app.services import (
    request_accept_quote,
    request_ask_cancellation,
    request_cancel,
    request_expire_due,
    request_refuse_cancellation,
)
from tests.factories import FeeLineFactory, IllRequestFactory

pytestmark = pytest.mark.django_db


def history_notes(client, ill_request, language):
    content = client.get(ill_request.get_absolute_url(), HTTP_ACCEPT_LANGUAGE=language)
    rows = re.findall(r"<tr>\s*<td><time.*?</tr>", content.content.decode(), re.S)
    return [re.findall(r"<td>(.*?)</td>", row, re.S)[-1] for row in rows]


class TestTheReadersPage:
    def test_a_cancellation_reads_in_the_language_of_the_page(self, client_a, reader_a):
        reader_a.language = "zh-hans"
        reader_a.save()
        ill_request = IllRequestFactory(reader=reader_a)
        request_cancel(ill_request=ill_request, actor=reader_a.user)
        change = StatusChange.objects.get()
        assert (change.event, change.note) == (Event.READER_CANCELLED, "")
        assert history_notes(client_a, ill_request, "en") == ["Cancelled by the reader."]
        assert history_notes(client_a, ill_request, "zh-hans") == ["读者已取消。"]

    def test_an_accepted_quote_keeps_its_amount_in_either_language(self, client_a, reader_a):
        ill_request = IllRequestFactory(
            reader=reader_a, status=Status.AWAITING_COST_APPROVAL, quote=Decimal("45.50")
        )
        request_accept_quote(ill_request=ill_request, actor=reader_a.user)
        assert StatusChange.objects.get().params == {"quote": "45.50"}
        assert history_notes(client_a, ill_request, "en") == [
            "The reader accepted the quoted cost of 45.50 yuan."
        ]
        assert history_notes(client_a, ill_request, "zh-hans") == ["读者已接受报价 45.50 元。"]

    def test_staffs_note_is_shown_as_typed(self, client_a, reader_a, staff):
        ill_request = IllRequestFactory(reader=reader_a)
        request_transition(
            ill_request=ill_request, to="in_process", actor=staff, note="已向国图发出"
        )
        assert history_notes(client_a, ill_request, "en") == ["已向国图发出"]

    def test_a_refusal_shows_the_systems_words_and_staffs_note(self, client_a, reader_a, staff):
        ill_request = IllRequestFactory(reader=reader_a, status=Status.IN_PROCESS)
        request_ask_cancellation(ill_request=ill_request, actor=reader_a.user)
        request_refuse_cancellation(ill_request=ill_request, actor=staff, note="Already posted.")
        refusal = ill_request.history.last()
        assert (refusal.event, refusal.note) == (Event.CANCELLATION_REFUSED, "Already posted.")
        assert history_notes(client_a, ill_request, "en") == [
            "The reader asked the ILL office to cancel.",
            "The ILL office goes on with the request; it was too late to cancel.<br>"
            "Already posted.",
        ]

    def test_a_change_with_an_internal_note_is_shown_without_the_note(
        self, client_a, reader_a, staff
    ):
        ill_request = IllRequestFactory(reader=reader_a)
        request_transition(
            ill_request=ill_request,
            to="in_process",
            actor=staff,
            note="BL is cheaper",
            visible=False,
        )
        content = client_a.get(ill_request.get_absolute_url(), HTTP_ACCEPT_LANGUAGE="en")
        history = content.content.decode().split('class="table history-table"')[1]
        assert "Submitted → In process" in history
        assert "BL is cheaper" not in content.content.decode()
        assert history_notes(client_a, ill_request, "en") == [""]

    def test_an_internal_note_hides_only_staffs_words_not_the_systems(
        self, client_a, reader_a, staff
    ):
        ill_request = IllRequestFactory(reader=reader_a, urgency="urgent")
        FeeLineFactory(request=ill_request, kind="urgent", amount=Decimal("10.00"))
        request_transition(
            ill_request=ill_request, to="cancelled", actor=staff, note="Duplicate", visible=False
        )
        assert history_notes(client_a, ill_request, "en") == [
            "The urgent surcharge of 10.00 yuan is not charged."
        ]

    def test_an_internal_entry_that_changes_no_status_stays_hidden(self, client_a, reader_a):
        ill_request = IllRequestFactory(reader=reader_a, status=Status.IN_PROCESS)
        StatusChange.objects.create(
            request=ill_request,
            from_status="in_process",
            to_status="in_process",
            note="Phoned BL",
            visible_to_reader=False,
        )
        assert history_notes(client_a, ill_request, "en") == []


def test_the_admin_shows_system_events_in_the_staff_members_language(client_staff, reader_a):
    reader_a.language = "zh-hans"
    reader_a.save()
    ill_request = IllRequestFactory(reader=reader_a)
    request_cancel(ill_request=ill_request, actor=reader_a.user)
    content = client_staff.get(
        reverse("admin:requests_app_illrequest_change", args=[ill_request.pk]),
        HTTP_ACCEPT_LANGUAGE="en",
    ).content.decode()
    assert "Cancelled by the reader." in content
    assert "读者已取消" not in content


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        ("en", "The reader accepted the quoted cost of 45.50 yuan."),
        ("zh-hans", "读者已接受报价 45.50 元。"),
    ],
)
def test_the_email_says_it_in_the_readers_language(
    reader_a, language, expected, django_capture_on_commit_callbacks
):
    reader_a.language = language
    reader_a.save()
    ill_request = IllRequestFactory(
        reader=reader_a, status=Status.AWAITING_COST_APPROVAL, quote=Decimal("45.50")
    )
    # Whoever triggers the e-mail, in whatever language, the reader reads their own.
    other = "en" if language != "en" else "zh-hans"
    with translation.override(other), django_capture_on_commit_callbacks(execute=True):
        request_accept_quote(ill_request=ill_request, actor=reader_a.user)
    assert expected in mail.outbox[0].body
    assert expected in mail.outbox[0].alternatives[0][0]


def test_the_notice_of_an_expiry_reads_in_each_language(reader_a):
    reader_a.language = "zh-hans"
    reader_a.save()
    IllRequestFactory(reader=reader_a, valid_until=datetime.date(2030, 6, 1))
    request_expire_due(today=datetime.date(2030, 6, 15))
    notice = Notice.objects.get(reader=reader_a)
    assert "Not processed by the valid-until date 2030-06-01." in notice.body_en
    assert "在有效时间 2030-06-01 之前未被处理。" in notice.body_zh
    assert "在有效时间" not in notice.body_en


class TestTheMigration:
    """0004 turns the notes the system wrote in one language into events, and back."""

    migration = importlib.import_module("requests_app.migrations.0004_history_notes_to_events")

    def old_entry(self, ill_request, from_status, to_status, note):
        return StatusChange.objects.create(
            request=ill_request, from_status=from_status, to_status=to_status, note=note
        )

    def test_system_notes_become_events_and_staffs_notes_stay(self, reader_a, reader_b):
        reader_b.language = "en"
        reader_b.save()
        zh = IllRequestFactory(reader=reader_a)
        en = IllRequestFactory(reader=reader_b)
        rows = [
            (
                self.old_entry(zh, "submitted", "cancelled", "读者已取消。"),
                "reader_cancelled",
                {},
                "",
            ),
            (
                self.old_entry(
                    en,
                    "awaiting_cost_approval",
                    "in_process",
                    "The reader accepted the quoted cost of 45.50 yuan.",
                ),
                "quote_accepted",
                {"quote": "45.50"},
                "",
            ),
            (
                self.old_entry(zh, "submitted", "expired", "在有效时间 2030-06-01 之前未被处理。"),
                "expired",
                {"date": "2030-06-01"},
                "",
            ),
            (
                self.old_entry(zh, "in_process", "in_process", "读者请求馆际互借处取消此申请。"),
                "cancellation_asked",
                {},
                "",
            ),
            (
                self.old_entry(
                    en,
                    "in_process",
                    "in_process",
                    "The ILL office goes on with the request; it was too late to cancel.",
                ),
                "cancellation_refused",
                {},
                "",
            ),
            # A refusal with staff's own words: the event is recognised, the words kept.
            (
                self.old_entry(zh, "in_process", "in_process", "已寄出"),
                "cancellation_refused",
                {},
                "已寄出",
            ),
            (
                self.old_entry(en, "submitted", "in_process", "Ordered from the BL."),
                "",
                {},
                "Ordered from the BL.",
            ),
            # The system's words on a change they were never written for: staff typed them.
            (
                self.old_entry(en, "submitted", "in_process", "Cancelled by the reader."),
                "",
                {},
                "Cancelled by the reader.",
            ),
        ]
        before = {row.pk: row.note for row, *_ in rows}
        # Written after 0004 (no text to convert): its reverse spells out the waived surcharge.
        waived = StatusChange.objects.create(
            request=zh,
            from_status="submitted",
            to_status="cancelled",
            event="reader_cancelled",
            params={"surcharge_waived": "10.00"},
        )

        self.migration.notes_to_events(apps, None)
        for row, event, params, note in rows:
            row.refresh_from_db()
            assert (row.event, row.params, row.note) == (event, params, note), before[row.pk]

        self.migration.events_to_notes(apps, None)
        for row, *_ in rows:
            row.refresh_from_db()
            assert (row.event, row.params, row.note) == ("", {}, before[row.pk])
        waived.refresh_from_db()
        assert (waived.event, waived.params, waived.note) == (
            "",
            {},
            "读者已取消。\n加急费 10.00 元不予收取。",
        )
