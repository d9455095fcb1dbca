"""Delivering or lending charges the request's total; short of balance it awaits payment."""

import datetime
import secrets
from decimal import Decimal

import pytest
import time_machine
from django.core import mail
from django.urls import reverse
from django.utils import timezone, translation

from accounts.ledger import ledger_balance, ledger_record
from accounts.models import LedgerEntry
from readers.models import Notice
from requests_app.lifecycle import TransitionError, request_transition
from requests_app.models import Status, StatusChange
from tests.factories import FeeLineFactory, IllRequestFactory

pytestmark = pytest.mark.django_db


def deposit(reader, amount, actor):
    return ledger_record(reader=reader, kind="deposit", amount=amount, actor=actor, method="cash")


@pytest.fixture
def priced_request(reader_a):
    """A copy request of reader A costing 25.50 yuan (supplier 15.50 + urgent 10.00)."""
    ill_request = IllRequestFactory(reader=reader_a, status=Status.IN_PROCESS)
    FeeLineFactory(request=ill_request, kind="supplier", amount=Decimal("15.50"))
    FeeLineFactory(request=ill_request, kind="urgent", amount=Decimal("10.00"))
    return ill_request


def pay_at_the_desk(client, reader, ill_request, amount, *, method="cash", **extra):
    """Staff record the reader's payment for a request on the reader's account page."""
    return client.post(
        reverse("admin:accounts_ledgerentry_record", args=[reader.pk]),
        {
            "token": secrets.token_hex(16),
            "kind": "deposit",
            "amount": amount,
            "method": method,
            "request_number": ill_request.number,
            **extra,
        },
        HTTP_ACCEPT_LANGUAGE="en",
        follow=True,
    )


def test_delivery_with_enough_balance_charges_the_total(priced_request, reader_a, staff):
    deposit(reader_a, "30.00", staff)
    request_transition(ill_request=priced_request, to="delivered", actor=staff)
    priced_request.refresh_from_db()
    assert priced_request.status == Status.DELIVERED
    charge = LedgerEntry.objects.get(kind="charge")
    assert charge.amount == Decimal("-25.50")
    assert charge.request_number == priced_request.number
    assert charge.request_title == priced_request.article_title
    assert charge.actor == staff
    assert ledger_balance(reader_a) == Decimal("4.50")


def test_lending_a_loan_charges_too(reader_a, staff):
    loan = IllRequestFactory(reader=reader_a, service_type="loan", status=Status.IN_PROCESS)
    FeeLineFactory(request=loan, amount=Decimal("8.00"))
    deposit(reader_a, "8.00", staff)
    request_transition(
        ill_request=loan, to="on_loan", actor=staff, return_date=datetime.date(2099, 1, 1)
    )
    loan.refresh_from_db()
    assert loan.status == Status.ON_LOAN
    assert ledger_balance(reader_a) == Decimal("0.00")


def test_a_request_without_fees_is_delivered_without_an_entry(reader_a, staff):
    free = IllRequestFactory(reader=reader_a, status=Status.IN_PROCESS)
    request_transition(ill_request=free, to="delivered", actor=staff)
    free.refresh_from_db()
    assert free.status == Status.DELIVERED
    assert not LedgerEntry.objects.exists()


def test_without_enough_balance_the_request_awaits_payment_with_the_amounts(
    priced_request, reader_a, staff, django_capture_on_commit_callbacks
):
    deposit(reader_a, "20.00", staff)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        request_transition(ill_request=priced_request, to="delivered", actor=staff)
    priced_request.refresh_from_db()
    assert priced_request.status == Status.AWAITING_PAYMENT
    assert LedgerEntry.objects.filter(kind="charge").count() == 0
    assert ledger_balance(reader_a) == Decimal("20.00")
    change = StatusChange.objects.filter(request=priced_request).last()
    assert change.to_status == Status.AWAITING_PAYMENT
    assert change.params == {"payment_due": "25.50", "balance": "20.00", "shortfall": "5.50"}
    # The e-mail (in the reader's language, Chinese by default) and the notice say the amounts.
    message = mail.outbox[-1]
    assert str(priced_request.number) in message.subject
    assert "25.50" in message.body and "20.00" in message.body and "5.50" in message.body
    assert reverse("fees") in message.body
    assert reverse("account") in message.body
    assert "尚需支付：5.50 元" in message.body  # in the reader's language
    html = message.alternatives[0][0]
    assert "5.50" in html and reverse("account") in html
    notice = Notice.objects.filter(reader=reader_a).latest("pk")
    assert "5.50" in notice.body_zh and "5.50" in notice.body_en
    assert "Still to pay: 5.50 yuan" in notice.body_en


def test_delivering_again_while_still_short_is_refused(priced_request, reader_a, staff):
    request_transition(ill_request=priced_request, to="delivered", actor=staff)
    with translation.override("en"), pytest.raises(TransitionError, match="not paid") as refused:
        request_transition(ill_request=priced_request, to="delivered", actor=staff)
    assert refused.value.field == "to"
    priced_request.refresh_from_db()
    assert priced_request.status == Status.AWAITING_PAYMENT


def test_the_reader_page_of_a_request_awaiting_payment_states_the_amounts(
    priced_request, reader_a, staff, client_a
):
    deposit(reader_a, "20.00", staff)
    request_transition(ill_request=priced_request, to="delivered", actor=staff)
    content = client_a.get(priced_request.get_absolute_url(), HTTP_ACCEPT_LANGUAGE="en")
    text = content.content.decode()
    assert "Amount due: 25.50 yuan. Your balance: 20.00 yuan. Still to pay: 5.50 yuan." in text
    assert reverse("fees") in text
    assert reverse("account") in text


def test_a_staff_payment_completes_a_request_awaiting_payment(
    priced_request, reader_a, staff, client_staff
):
    request_transition(ill_request=priced_request, to="delivered", actor=staff)
    url = reverse("admin:accounts_ledgerentry_record", args=[reader_a.pk])
    form = client_staff.get(url + f"?request={priced_request.number}", HTTP_ACCEPT_LANGUAGE="en")
    page = form.content.decode()
    assert "25.50" in page  # the amount due is offered
    response = pay_at_the_desk(
        client_staff,
        reader_a,
        priced_request,
        "25.50",
        method="bank_transfer",
        note="转账 20261128",
    )
    assert "is paid for, charged and now “Delivered”" in response.content.decode()
    priced_request.refresh_from_db()
    assert priced_request.status == Status.DELIVERED
    kinds = list(LedgerEntry.objects.order_by("number").values_list("kind", "amount"))
    assert kinds == [("deposit", Decimal("25.50")), ("charge", Decimal("-25.50"))]
    assert ledger_balance(reader_a) == Decimal("0.00")


def test_a_payment_too_small_is_recorded_and_the_request_keeps_waiting(
    priced_request, reader_a, staff, client_staff
):
    request_transition(ill_request=priced_request, to="delivered", actor=staff)
    response = pay_at_the_desk(client_staff, reader_a, priced_request, "5.00")
    assert "still awaiting payment" in response.content.decode()
    priced_request.refresh_from_db()
    assert priced_request.status == Status.AWAITING_PAYMENT
    assert ledger_balance(reader_a) == Decimal("5.00")


def test_the_admin_says_when_a_delivery_became_awaiting_payment(priced_request, client_staff):
    response = client_staff.post(
        reverse("admin:requests_app_illrequest_transition", args=[priced_request.pk]),
        {"to": "delivered", "visible": "on"},
        HTTP_ACCEPT_LANGUAGE="en",
        follow=True,
    )
    assert "is now awaiting payment" in response.content.decode()
    assert "is now “Delivered”" not in response.content.decode()


def test_a_wrong_charge_is_undone_by_a_refund_entry(priced_request, reader_a, staff):
    deposit(reader_a, "30.00", staff)
    request_transition(ill_request=priced_request, to="delivered", actor=staff)
    ledger_record(
        reader=reader_a,
        kind="refund",
        amount="10.00",
        actor=staff,
        request_number=priced_request.number,
        note="urgent surcharge charged by mistake",
    )
    assert ledger_balance(reader_a) == Decimal("14.50")
    assert LedgerEntry.objects.count() == 3  # nothing was edited


def test_the_bulk_delivery_reports_each_request_that_went_to_awaiting_payment(
    priced_request, reader_a, staff, client_staff
):
    paid = IllRequestFactory(reader=reader_a, status=Status.IN_PROCESS)
    FeeLineFactory(request=paid, amount=Decimal("1.00"))
    deposit(reader_a, "1.00", staff)
    response = client_staff.post(
        reverse("admin:requests_app_illrequest_changelist"),
        {"action": "move_to_delivered", "_selected_action": [priced_request.pk, paid.pk]},
        HTTP_ACCEPT_LANGUAGE="en",
        follow=True,
    )
    text = response.content.decode()
    assert "1 request(s) moved to “Delivered”" in text
    assert f"Request {priced_request.number} is now awaiting payment" in text
    priced_request.refresh_from_db()
    paid.refresh_from_db()
    assert (priced_request.status, paid.status) == (Status.AWAITING_PAYMENT, Status.DELIVERED)


def test_a_paid_loan_whose_return_date_passed_stays_waiting_and_staff_are_told(
    reader_a, staff, client_staff
):
    loan = IllRequestFactory(reader=reader_a, service_type="loan", status=Status.IN_PROCESS)
    FeeLineFactory(request=loan, amount=Decimal("9.00"))
    request_transition(
        ill_request=loan, to="on_loan", actor=staff, return_date=timezone.localdate()
    )
    loan.refresh_from_db()
    assert loan.status == Status.AWAITING_PAYMENT
    assert loan.return_date == timezone.localdate()  # kept for when it is paid
    with time_machine.travel(timezone.localdate() + datetime.timedelta(days=3)):
        response = pay_at_the_desk(client_staff, reader_a, loan, "9.00")
    assert "is still awaiting payment" in response.content.decode()
    loan.refresh_from_db()
    assert loan.status == Status.AWAITING_PAYMENT
    assert ledger_balance(reader_a) == Decimal("9.00")  # the money is recorded all the same


def test_a_paid_loan_is_lent_by_the_return_date_staff_gave(reader_a, staff, client_staff):
    loan = IllRequestFactory(reader=reader_a, service_type="loan", status=Status.IN_PROCESS)
    FeeLineFactory(request=loan, amount=Decimal("9.00"))
    due_back = datetime.date(2099, 3, 1)
    request_transition(ill_request=loan, to="on_loan", actor=staff, return_date=due_back)
    pay_at_the_desk(client_staff, reader_a, loan, "9.00")
    loan.refresh_from_db()
    assert (loan.status, loan.return_date) == (Status.ON_LOAN, due_back)
    assert ledger_balance(reader_a) == Decimal("0.00")


def test_fees_beyond_one_charge_are_refused_beside_the_status_and_bulk_goes_on(
    reader_a, staff, client_staff
):
    # Found by a probe: two fee lines of 99,999,999.99 each, then 交付 answered 500, and the
    # bulk action stopped half-way with an error page.
    huge = IllRequestFactory(reader=reader_a, status=Status.IN_PROCESS)
    FeeLineFactory.create_batch(2, request=huge, amount=Decimal("99999999.99"))
    with translation.override("en"), pytest.raises(TransitionError, match="fees total"):
        request_transition(ill_request=huge, to="delivered", actor=staff)
    other = IllRequestFactory(reader=reader_a, status=Status.IN_PROCESS)
    response = client_staff.post(
        reverse("admin:requests_app_illrequest_changelist"),
        {"action": "move_to_delivered", "_selected_action": [huge.pk, other.pk]},
        HTTP_ACCEPT_LANGUAGE="en",
        follow=True,
    )
    assert response.status_code == 200
    text = response.content.decode()
    assert "1 request(s) moved to “Delivered”" in text
    assert f"Request {huge.number}’s fees total 199999999.98 yuan" in text
    huge.refresh_from_db()
    other.refresh_from_db()
    assert (huge.status, other.status) == (Status.IN_PROCESS, Status.DELIVERED)
    assert not LedgerEntry.objects.filter(kind="charge").exists()
