"""Fee lines (SPEC 4.5): the urgent surcharge is not charged for a request nothing was done for."""

import datetime
from decimal import Decimal

import pytest
from django.utils import translation

from requests_app.lifecycle import request_transition
from requests_app.models import FeeLine, IllRequest, Status
from requests_app.services import request_cancel, request_expire_due
from tests.factories import FeeLineFactory, IllRequestFactory
from tests.requests_app.conftest import worked_example

pytestmark = pytest.mark.django_db


@pytest.fixture
def urgent(client_a, settings):
    """An urgent request as the reader submits it: the surcharge line comes by itself."""
    settings.URGENT_SURCHARGE = Decimal("10.00")
    client_a.post("/requests/new/", worked_example(urgency="urgent"))
    ill_request = IllRequest.objects.get()
    assert ill_request.fee_lines.get().kind == "urgent"
    return ill_request


def shown_totals(client, ill_request):
    """The total fee as the list and the detail page show it."""
    listed = client.get("/requests/").context["page_obj"][0].total_fee
    detail = client.get(ill_request.get_absolute_url()).context["ill_request"].total_fee
    return listed, detail


def test_a_reader_cancelling_before_processing_pays_no_urgent_surcharge(client_a, reader_a, urgent):
    assert shown_totals(client_a, urgent) == (Decimal("10.00"), Decimal("10.00"))
    request_cancel(ill_request=urgent, actor=reader_a.user)
    assert not FeeLine.objects.exists()
    assert shown_totals(client_a, urgent) == (Decimal("0.00"), Decimal("0.00"))
    change = urgent.history.last()
    assert change.params["surcharge_waived"] == "10.00"
    with translation.override("en"):
        assert change.text == (
            "Cancelled by the reader.\nThe urgent surcharge of 10.00 yuan is not charged."
        )


def test_staff_cancelling_while_awaiting_cost_approval_drop_only_the_surcharge(
    client_a, urgent, staff
):
    request_transition(
        ill_request=urgent, to="awaiting_cost_approval", actor=staff, quote=Decimal("45.00")
    )
    FeeLineFactory(request=urgent, kind="supplier", amount=Decimal("3.00"))
    request_transition(ill_request=urgent, to="cancelled", actor=staff, note="Duplicate")
    assert list(urgent.fee_lines.values_list("kind", "amount")) == [("supplier", Decimal("3.00"))]
    with translation.override("en"):
        assert urgent.history.last().text == (
            "The urgent surcharge of 10.00 yuan is not charged.\nDuplicate"
        )


def test_an_urgent_request_that_expires_unprocessed_pays_no_surcharge(urgent):
    IllRequest.objects.filter(pk=urgent.pk).update(valid_until=datetime.date(2030, 6, 1))
    request_expire_due(today=datetime.date(2030, 6, 15))
    assert not FeeLine.objects.exists()


@pytest.mark.parametrize("status", [Status.IN_PROCESS, Status.AWAITING_PAYMENT])
def test_once_work_has_begun_cancelling_keeps_the_surcharge(urgent, staff, status):
    IllRequest.objects.filter(pk=urgent.pk).update(status=status)
    request_transition(ill_request=urgent, to="cancelled", actor=staff)
    assert urgent.fee_lines.get().amount == Decimal("10.00")
    assert "surcharge_waived" not in urgent.history.last().params


def test_a_request_without_a_surcharge_records_nothing_waived(reader_a):
    ill_request = IllRequestFactory(reader=reader_a)
    request_cancel(ill_request=ill_request, actor=reader_a.user)
    assert ill_request.history.get().params == {}


def test_an_internal_note_keeps_the_systems_words_in_the_email(
    urgent, staff, django_capture_on_commit_callbacks
):
    from django.core import mail

    urgent.reader.language = "en"
    urgent.reader.save()
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        request_transition(
            ill_request=urgent, to="cancelled", actor=staff, note="duplicate of 4711", visible=False
        )
    body = mail.outbox[-1].body
    assert "The urgent surcharge of 10.00 yuan is not charged." in body
    assert "duplicate of 4711" not in body
    assert "duplicate of 4711" not in mail.outbox[-1].alternatives[0].content
