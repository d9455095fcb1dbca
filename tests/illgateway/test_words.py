"""The words readers and staff read (issue 14, item 10)."""

import re
from decimal import Decimal

import pytest
from django.core import mail
from django.urls import reverse

from requests_app.models import Status
from tests.factories import IllRequestFactory
from tests.requests_app.conftest import worked_example

pytestmark = pytest.mark.django_db


def test_the_institution_has_one_name_at_registration_and_on_the_profile(client_anon, client_a):
    signup = client_anon.get(reverse("account_signup"), HTTP_ACCEPT_LANGUAGE="zh-hans")
    profile = client_a.get(reverse("profile"), HTTP_ACCEPT_LANGUAGE="zh-hans")
    for response in (signup, profile):
        html = response.content.decode()
        assert re.search(r'<label for="id_institution">院系或单位', html), response.request
        assert "所在单位" not in html


def test_the_confirmation_email_gives_the_maximum_cost_with_its_unit(
    client_a, reader_a, django_capture_on_commit_callbacks
):
    reader_a.language = "zh-hans"
    reader_a.save()
    with django_capture_on_commit_callbacks(execute=True):
        client_a.post(reverse("request_submit"), worked_example(max_cost="30"))
    body = mail.outbox[-1].body
    assert "30.00 元" in body
    assert not re.search(r"费用限制: 30\s*$", body, re.M)


def test_the_quote_email_has_two_decimals(reader_a, staff, django_capture_on_commit_callbacks):
    from requests_app.lifecycle import request_transition

    ill_request = IllRequestFactory(reader=reader_a, max_cost=Decimal("30"))
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        request_transition(
            ill_request=ill_request, to="awaiting_cost_approval", actor=staff, quote=Decimal("45")
        )
    body = mail.outbox[-1].body
    assert "45.00" in body and "30.00" in body


def test_the_admin_index_names_the_task_queue_in_chinese(client_staff):
    html = client_staff.get(reverse("admin:index"), HTTP_ACCEPT_LANGUAGE="zh-hans")
    html = html.content.decode()
    assert "Tasks Database Backend" not in html
    assert "Task Results" not in html
    assert "后台任务（邮件队列）" in html


@pytest.mark.parametrize(
    ("status", "quote_shown", "return_date_shown"),
    [
        (Status.SUBMITTED, True, True),
        (Status.AWAITING_COST_APPROVAL, False, False),
        (Status.AWAITING_PAYMENT, False, True),
        (Status.ON_LOAN, False, False),
    ],
)
def test_the_staff_status_form_shows_quote_and_return_date_only_where_they_apply(
    client_staff, status, quote_shown, return_date_shown
):
    ill_request = IllRequestFactory(status=status, service_type="loan")
    url = reverse("admin:requests_app_illrequest_transition", args=[ill_request.pk])
    html = client_staff.get(url).content.decode()
    assert ('name="quote"' in html) is quote_shown
    assert ('name="return_date"' in html) is return_date_shown


def test_moving_on_without_the_quote_field_still_works(client_staff):
    ill_request = IllRequestFactory(status=Status.ON_LOAN, service_type="loan")
    url = reverse("admin:requests_app_illrequest_transition", args=[ill_request.pk])
    response = client_staff.post(url, {"to": "returned", "note": "", "visible": "on"})
    assert response.status_code == 302, response.context["form"].errors
    ill_request.refresh_from_db()
    assert ill_request.status == Status.RETURNED
