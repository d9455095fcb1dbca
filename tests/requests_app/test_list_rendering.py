"""How the request list renders (issue 14, items 6 and 11): amounts with two decimals, right-
aligned; numbers and dates that do not wrap; labelled cards on phones; links that are the
named URLs although the template no longer looks them up per row."""

import re
from decimal import Decimal

import pytest
from django.urls import reverse

from requests_app.models import Status
from tests.factories import FeeLineFactory, IllRequestFactory

pytestmark = pytest.mark.django_db


def first_row(html):
    return re.search(r"<tbody>\s*<tr>(.*?)</tr>", html, re.S).group(1)


def test_amounts_have_two_decimals_and_are_right_aligned(client_a, reader_a):
    ill_request = IllRequestFactory(reader=reader_a)
    FeeLineFactory(request=ill_request, amount=Decimal("10"))
    row = first_row(client_a.get("/requests/").content.decode())
    assert re.search(r'<td class="num" data-label="[^"]+">10\.00</td>', row)


def test_numbers_and_dates_do_not_wrap(client_a, reader_a):
    IllRequestFactory(reader=reader_a)
    row = first_row(client_a.get("/requests/").content.decode())
    cells = re.findall(r"<td[^>]*>", row)
    assert cells[0].startswith('<td class="nowrap"')  # the number
    assert cells[3].startswith('<td class="nowrap"')  # the date
    assert row.count('<a class="nowrap"') >= 1  # 再次申请 stays in one piece


def test_each_value_carries_its_label_for_the_phone_cards(client_a, reader_a):
    IllRequestFactory(reader=reader_a, user_reference="MY-REF-1")
    html = client_a.get("/requests/", HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    row = first_row(html)
    for label in ("申请号", "参考号", "申请日期", "服务方式", "当前状态"):
        assert f'data-label="{label}"' in row, label


@pytest.mark.parametrize(
    "status", [Status.SUBMITTED, Status.IN_PROCESS, Status.CANCELLED, Status.AWAITING_PAYMENT]
)
def test_the_links_are_the_named_urls(client_a, reader_a, status):
    ill_request = IllRequestFactory(reader=reader_a, status=status)
    row = first_row(client_a.get("/requests/").content.decode())
    number = ill_request.number
    assert f'href="{reverse("request_detail", args=[number])}"' in row
    assert f'href="{reverse("request_copy", args=[number])}"' in row
    cancel = f'href="{reverse("request_cancel", args=[number])}"'
    assert (cancel in row) is ill_request.can_cancel
    assert f"status--{status}" in row


def test_a_cancellation_request_is_tagged(client_a, reader_a):
    IllRequestFactory(reader=reader_a, status=Status.IN_PROCESS, cancellation_requested=True)
    row = first_row(client_a.get("/requests/", HTTP_ACCEPT_LANGUAGE="en").content.decode())
    assert '<span class="tag tag--unread">cancellation requested</span>' in row
