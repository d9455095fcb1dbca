"""The request list (申请列表) and the detail page."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from requests_app.lifecycle import request_transition
from requests_app.models import Status
from tests.factories import FeeLineFactory, IllRequestFactory

pytestmark = pytest.mark.django_db

LIST = "/requests/"


def rows(response):
    return list(response.context["page_obj"])


def test_the_list_has_the_seed_columns(client_a, reader_a):
    IllRequestFactory(reader=reader_a)
    content = client_a.get(LIST, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    headers = [
        "Request number",
        "Reference",
        "Publication title",
        "Request date",
        "Service type",
        "Return date",
        "Current status",
        "Total fee",
        "Action",
    ]
    positions = [content.index(f'<th scope="col">{h}</th>') for h in headers]
    assert positions == sorted(positions)
    assert "<caption>" in content


def test_a_row_shows_number_reference_title_status_fee_and_cancel(client_a, reader_a):
    ill_request = IllRequestFactory(reader=reader_a, user_reference="my-ref-1")
    FeeLineFactory(request=ill_request, amount=Decimal("12.30"))
    FeeLineFactory(request=ill_request, amount=Decimal("5.00"))
    content = client_a.get(LIST, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert f'<a href="/requests/{ill_request.number}/">{ill_request.number}</a>' in content
    assert "my-ref-1" in content
    assert "Interlending &amp; Document Supply" in content
    assert "Submitted" in content
    assert "17.30" in content
    assert f'href="/requests/{ill_request.number}/cancel/"' in content


def test_cancel_is_not_offered_once_processing(client_a, reader_a):
    ill_request = IllRequestFactory(reader=reader_a, status=Status.IN_PROCESS)
    content = client_a.get(LIST).content.decode()
    assert f"/requests/{ill_request.number}/cancel/" not in content


def test_newest_first_and_twenty_per_page(client_a, reader_a):
    now = timezone.now()
    made = [
        IllRequestFactory(reader=reader_a, submitted_at=now - timedelta(days=i)) for i in range(25)
    ]
    first_page = rows(client_a.get(LIST))
    assert [r.number for r in first_page] == [r.number for r in made[:20]]
    second_page = rows(client_a.get(LIST + "?page=2"))
    assert [r.number for r in second_page] == [r.number for r in made[20:]]


def test_filter_by_status(client_a, reader_a):
    IllRequestFactory(reader=reader_a)
    cancelled = IllRequestFactory(reader=reader_a, status=Status.CANCELLED)
    assert [r.pk for r in rows(client_a.get(LIST + "?status=cancelled"))] == [cancelled.pk]


def test_search_by_title_or_number(client_a, reader_a):
    book = IllRequestFactory(reader=reader_a, publication_title="Library Trends")
    article = IllRequestFactory(reader=reader_a, article_title="Document delivery in China")
    assert [r.pk for r in rows(client_a.get(LIST + "?q=trends"))] == [book.pk]
    assert [r.pk for r in rows(client_a.get(LIST + "?q=delivery in"))] == [article.pk]
    assert [r.pk for r in rows(client_a.get(LIST + f"?q={book.number}"))] == [book.pk]


def test_a_ten_digit_number_and_full_width_digits_find_the_request(client_a, reader_a):
    legacy = IllRequestFactory(reader=reader_a, number=2_000_000_001, origin="legacy")
    other = IllRequestFactory(reader=reader_a, number=4321)
    assert [r.pk for r in rows(client_a.get(LIST, {"q": "2000000001"}))] == [legacy.pk]
    assert [r.pk for r in rows(client_a.get(LIST, {"q": "４３２１"}))] == [other.pk]


@pytest.mark.parametrize("query", ["²", "①", "¹²³", "٣", "2147483648", "99999999999999999999"])
def test_digits_that_are_no_request_number_find_nothing_and_break_nothing(
    client_a, reader_a, query
):
    IllRequestFactory(reader=reader_a, number=2_147_483_647, origin="legacy")
    response = client_a.get(LIST, {"q": query})
    assert response.status_code == 200
    assert rows(response) == []


def test_a_bad_filter_is_ignored_not_an_error(client_a, reader_a):
    IllRequestFactory(reader=reader_a)
    response = client_a.get(LIST + "?status=nonsense&page=abc")
    assert response.status_code == 200


def test_pagination_keeps_the_filter(client_a, reader_a):
    for _ in range(21):
        IllRequestFactory(reader=reader_a, status=Status.CANCELLED)
    content = client_a.get(LIST + "?status=cancelled").content.decode()
    assert "?status=cancelled&amp;page=2" in content


@pytest.mark.parametrize("count", [1, 50])
def test_the_list_query_count_does_not_grow_with_rows(
    client_a, reader_a, django_assert_max_num_queries, count
):
    for ill_request in IllRequestFactory.create_batch(count, reader=reader_a):
        FeeLineFactory(request=ill_request)
    client_a.get(LIST)  # warm up the session
    with django_assert_max_num_queries(8):
        response = client_a.get(LIST)
    assert len(rows(response)) == min(count, 20)


def test_the_detail_page_shows_every_field_fees_and_visible_history(client_a, reader_a, staff):
    ill_request = IllRequestFactory(
        reader=reader_a,
        doi="10.1108/02641610410538478",
        holding_library="British Library",
        remarks="Please hurry",
    )
    FeeLineFactory(request=ill_request, kind="postage", amount=Decimal("8.00"), note="EMS")
    request_transition(
        ill_request=ill_request, to="in_process", actor=staff, note="Ordered from BL"
    )
    request_transition(
        ill_request=ill_request, to="awaiting_payment", actor=staff, note="internal", visible=False
    )
    content = client_a.get(ill_request.get_absolute_url(), HTTP_ACCEPT_LANGUAGE="en")
    content = content.content.decode()
    for text in [
        "10.1108/02641610410538478",
        "British Library",
        "Please hurry",
        "0264-1615",
        "Postage",
        "EMS",
        "8.00",
        "Ordered from BL",
        "ILL office",
        "Awaiting payment",
    ]:
        assert text in content, text
    assert "internal" not in content
