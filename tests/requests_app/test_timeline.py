"""The request detail's progress as a timeline (issue 14, item 9): an ordered list of the
statuses passed, with dates, and those still ahead."""

import re

import pytest
from django.urls import reverse

from requests_app.lifecycle import request_transition
from requests_app.models import ServiceType
from requests_app.services import request_submit
from tests.factories import IllRequestFactory
from tests.requests_app.conftest import worked_example

pytestmark = pytest.mark.django_db


def steps(client, ill_request, language="en"):
    html = client.get(ill_request.get_absolute_url(), HTTP_ACCEPT_LANGUAGE=language)
    html = html.content.decode()
    timeline = re.search(r'<ol class="timeline">(.*?)</ol>', html, re.S).group(1)
    result = []
    for item in re.findall(r"<li (.*?)</li>", timeline, re.S):
        state = re.search(r"timeline__step--(\w+)", item).group(1)
        status = re.search(r'<span class="timeline__status">(.*?)</span>', item).group(1)
        date = re.search(r'<time class="timeline__date" datetime="([^"]+)"', item)
        result.append((state, status, bool(date), 'aria-current="step"' in item))
    return result


@pytest.fixture
def submitted(reader_a):
    data = worked_example()
    from requests_app.forms import IllRequestForm

    form = IllRequestForm(data)
    assert form.is_valid(), form.errors
    ill_request, _ = request_submit(reader=reader_a, data=form.cleaned_data, token=data["token"])
    return ill_request


def test_a_new_copy_request_shows_submitted_now_and_the_way_ahead(client_a, submitted):
    assert steps(client_a, submitted) == [
        ("current", "Submitted", True, True),
        ("ahead", "In process", False, False),
        ("ahead", "Delivered", False, False),
    ]


def test_statuses_passed_carry_their_dates(client_a, submitted, staff):
    request_transition(ill_request=submitted, to="in_process", actor=staff)
    request_transition(ill_request=submitted, to="awaiting_cost_approval", actor=staff, quote=20)
    assert steps(client_a, submitted) == [
        ("done", "Submitted", True, False),
        ("done", "In process", True, False),
        ("current", "Awaiting cost approval", True, True),
        ("ahead", "Delivered", False, False),
    ]


def test_a_loan_has_its_return_ahead(client_a, reader_a, staff):
    ill_request = IllRequestFactory(reader=reader_a, service_type=ServiceType.LOAN)
    request_transition(ill_request=ill_request, to="in_process", actor=staff)
    assert [(s, label) for s, label, *_ in steps(client_a, ill_request)][-2:] == [
        ("ahead", "On loan"),
        ("ahead", "Returned"),
    ]


def test_a_closed_request_has_nothing_ahead(client_a, submitted):
    client_a.post(reverse("request_cancel", args=[submitted.number]))
    result = steps(client_a, submitted)
    assert result[-1][:2] == ("current", "Cancelled")
    assert all(state != "ahead" for state, *_ in result)


def test_the_timeline_is_in_chinese_too_and_says_what_is_done(client_a, submitted):
    html = client_a.get(submitted.get_absolute_url(), HTTP_ACCEPT_LANGUAGE="zh-hans")
    html = html.content.decode()
    assert '<span class="timeline__status">用户申请尚未处理</span>' in html
    assert "尚待：" in html


def test_another_reader_sees_no_timeline(client_b, submitted):
    assert client_b.get(submitted.get_absolute_url()).status_code == 404


def test_the_detail_page_query_count_stays(client_a, submitted, staff, django_assert_num_queries):
    request_transition(ill_request=submitted, to="in_process", actor=staff)
    client_a.get(submitted.get_absolute_url())
    with django_assert_num_queries(DETAIL_QUERIES):
        client_a.get(submitted.get_absolute_url())


DETAIL_QUERIES = 7
