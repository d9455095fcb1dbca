"""The admin index is the ILL office's dashboard: open queues with counts linking to their
lists, new and finished requests today and this week, open requests past valid-until."""

import datetime
import re
from decimal import Decimal

import pytest
import time_machine
from django.contrib.auth.models import Group
from django.utils import timezone

from accounts.ledger import ledger_record
from readers.staff import STAFF_GROUP
from requests_app.models import Status, StatusChange
from tests.factories import IllRequestFactory, PendingReaderFactory, ReaderFactory, UserFactory

pytestmark = pytest.mark.django_db

NOW = datetime.datetime(2026, 11, 26, 10, 0, tzinfo=datetime.timezone(datetime.timedelta(hours=8)))


@pytest.fixture
def office(client):
    user = UserFactory(username="office", is_staff=True)
    user.groups.add(Group.objects.get(name=STAFF_GROUP))
    client.force_login(user)
    return client


def counts(content):
    """{label: (count, href)} of the queue links."""
    found = re.findall(
        r'<li><a href="([^"]+)"><span class="dashboard-count">(\d+)</span> '
        r'<span class="dashboard-label">([^<]+)</span></a></li>',
        content,
    )
    return {label: (int(count), href.replace("&amp;", "&")) for href, count, label in found}


@pytest.fixture
def cast():
    with time_machine.travel(NOW, tick=False):
        today = timezone.localdate()
        for status, n in [
            (Status.SUBMITTED, 3),
            (Status.IN_PROCESS, 2),
            (Status.AWAITING_COST_APPROVAL, 1),
            (Status.AWAITING_PAYMENT, 1),
            (Status.DELIVERED, 4),
        ]:
            for _ in range(n):
                IllRequestFactory(status=status, submitted_at=NOW - datetime.timedelta(days=10))
        IllRequestFactory(status=Status.IN_PROCESS, cancellation_requested=True)
        IllRequestFactory(status=Status.SUBMITTED, valid_until=today - datetime.timedelta(days=1))
        # Closed: neither a queue nor overdue, whatever its flags.
        IllRequestFactory(
            status=Status.CANCELLED,
            cancellation_requested=True,
            valid_until=today - datetime.timedelta(days=1),
        )
        # New: two today, one on Monday (this week), one last Sunday (last week).
        monday = NOW - datetime.timedelta(days=NOW.weekday())
        IllRequestFactory(status=Status.SUBMITTED, submitted_at=monday)
        IllRequestFactory(
            status=Status.SUBMITTED, submitted_at=monday - datetime.timedelta(hours=11)
        )
        delivered_today = IllRequestFactory(status=Status.DELIVERED, submitted_at=monday)
        StatusChange.objects.create(
            request=delivered_today, from_status="in_process", to_status="delivered", at=NOW
        )
        StatusChange.objects.create(
            request=delivered_today, from_status="submitted", to_status="in_process", at=NOW
        )
        StatusChange.objects.create(
            request=delivered_today,
            from_status="in_process",
            to_status="unfilled",
            at=monday + datetime.timedelta(hours=1),
        )
        PendingReaderFactory.create_batch(2)
        owing = ReaderFactory()
        ledger_record(reader=owing, kind="adjustment", amount=Decimal("-5"), actor=None)
        ledger_record(reader=ReaderFactory(), kind="deposit", amount="5", actor=None, method="cash")
        yield


def test_the_office_sees_each_queue_counted_with_a_link_to_its_list(office, cast):
    with time_machine.travel(NOW, tick=False):
        content = office.get("/admin/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    queues = counts(content)
    lst = "/admin/requests_app/illrequest/"
    # Submitted: 3 old + 1 overdue + 1 this Monday + 1 last Sunday.
    assert queues["Submitted"] == (6, f"{lst}?status__exact=submitted")
    assert queues["In process"] == (3, f"{lst}?status__exact=in_process")
    assert queues["Awaiting cost approval"][0] == 1
    assert queues["Awaiting payment"][0] == 1
    assert queues["Cancellation requested"][0] == 1
    assert queues["Registrations to confirm"] == (2, "/admin/readers/registrationtoconfirm/")
    assert queues["Readers owing money"] == (1, "/admin/accounts/account/?owing=yes")
    assert queues["Past their valid-until date, still open"] == (1, f"{lst}?overdue=yes")
    rows = re.findall(
        r'<th scope="row">([^<]+)</th>\s*<td><a href="([^"]+)">(\d+)</a></td>\s*<td>(\d+)</td>',
        content,
    )
    assert [(label, int(new), int(done)) for label, _href, new, done in rows] == [
        # Today: the three created at NOW (cancellation asked, overdue, cancelled); the week adds
        # Monday's two, not Sunday's.
        ("Today", 3, 1),
        ("This week", 5, 2),
    ]


def test_each_link_opens_the_list_it_counts(office, cast):
    with time_machine.travel(NOW, tick=False):
        queues = counts(office.get("/admin/", HTTP_ACCEPT_LANGUAGE="en").content.decode())
        for _label, (count, href) in queues.items():
            response = office.get(href)
            assert response.status_code == 200, href
            assert response.context["cl"].result_count == count, href


def test_the_dashboard_is_in_chinese(office, cast):
    with time_machine.travel(NOW, tick=False):
        content = office.get("/admin/", HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    for label in (
        "待处理队列",
        "用户申请尚未处理",
        "已请求取消",
        "待确认的注册",
        "欠费读者",
        "已过有效期仍未结束",
        "今天",
        "本周",
    ):
        assert label in content, label
    # The new and finished requests counted, not the navigation's 申请管理 (request management).
    assert '<h2 id="dashboard-periods-title">申请数</h2>' in content


def test_the_dashboard_query_count_does_not_grow_with_the_data(
    office, cast, django_assert_max_num_queries
):
    with time_machine.travel(NOW, tick=False):
        office.get("/admin/")
        with django_assert_max_num_queries(13):
            assert office.get("/admin/").status_code == 200
        IllRequestFactory.create_batch(20, status=Status.SUBMITTED)
        with django_assert_max_num_queries(13):
            assert office.get("/admin/").status_code == 200


def test_staff_without_the_group_see_no_counts(client, cast):
    client.force_login(UserFactory(username="bare", is_staff=True))
    content = client.get("/admin/").content.decode()
    assert "dashboard-count" not in content
