"""旧版系统数据查询 (issue 11 item 8): a reader's requests from the old system.

The old accounts a reader has linked or attached have `LegacyAccount.reader` set (the linking
wizard's contract); their imported requests keep `reader` empty and are found through them.
"""

from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.conf import settings
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from accounts.legacy import LegacyAccount, LegacyStatus, LinkKind
from requests_app.models import FeeKind, FeeLine, IllRequest, Origin, Status
from tests.factories import IllRequestFactory

pytestmark = pytest.mark.django_db

SHANGHAI = ZoneInfo("Asia/Shanghai")
URL = reverse("legacy_data")


def old_account(user_id, reader=None, username=None):
    return LegacyAccount.objects.create(
        user_id=user_id,
        username=username or f"old{user_id}",
        name=f"Old {user_id}",
        balance=Decimal("0.00"),
        status=LegacyStatus.ACTIVE,
        created_at=timezone.now(),
        reader=reader,
        linked_at=timezone.now() if reader else None,
        # A reader continues with one old account; any other of theirs is attached as history.
        link_kind=(
            ""
            if reader is None
            else LinkKind.ATTACHED
            if LegacyAccount.objects.filter(reader=reader, link_kind=LinkKind.LINKED).exists()
            else LinkKind.LINKED
        ),
    )


def old_request(account, number, *, title="Interlending & Document Supply", day=(2010, 5, 1),
                status=Status.DELIVERED, article_title="", fee=None):  # fmt: skip
    ill_request = IllRequestFactory(
        reader=None,
        legacy_account=account,
        origin=Origin.LEGACY,
        number=number,
        submission_token=None,
        publication_title=title,
        article_title=article_title,
        status=status,
        submitted_at=datetime(*day, 10, 0, tzinfo=SHANGHAI),
        contact_name=account.name,
        contact_email="old@example.edu.cn",
    )
    if fee:
        FeeLine.objects.create(request=ill_request, kind=FeeKind.OTHER, amount=fee)
    return ill_request


@pytest.fixture
def old_data(reader_a, reader_b):
    """reader_a: a linked account and an attached one; reader_b: one of their own; and one
    old account nobody linked yet."""
    linked = old_account(1001, reader_a, "zhang_old")
    attached = old_account(1002, reader_a, "zhang_second")
    other = old_account(2001, reader_b, "li_old")
    unlinked = old_account(3001)
    return {
        "linked": old_request(linked, 50001, title="Nature", fee=Decimal("12.50")),
        "attached": old_request(
            attached, 50002, title="大学图书馆学报", day=(2006, 3, 2), status=Status.CANCELLED
        ),
        "other": old_request(other, 50003, title="Secret of reader B"),
        "unlinked": old_request(unlinked, 50004, title="Nobody's yet"),
    }


def page(client, lang="en", **params):
    response = client.get(URL, params, HTTP_ACCEPT_LANGUAGE=lang)
    assert response.status_code == 200
    return response.content.decode()


# --- who sees what ---------------------------------------------------------------------------


def test_the_owner_sees_the_old_requests_of_every_linked_and_attached_account(client_a, old_data):
    content = page(client_a)
    assert "Nature" in content and "50001" in content and "12.50" in content
    assert "大学图书馆学报" in content and "50002" in content
    assert "zhang_old" in content and "zhang_second" in content
    assert "Secret of reader B" not in content and "50003" not in content
    assert "Nobody&#x27;s yet" not in content and "50004" not in content


def test_another_reader_sees_only_their_own(client_b, old_data):
    content = page(client_b)
    assert "Secret of reader B" in content
    for hidden in ("Nature", "50001", "50002", "zhang_old", "50004"):
        assert hidden not in content


def test_anonymous_visitors_are_sent_to_login(client_anon, old_data):
    response = client_anon.get(URL)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))


def test_staff_without_a_reader_profile_are_told_so(client_staff, old_data):
    response = client_staff.get(URL, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 403
    assert "no reader profile" in response.content.decode()
    assert "Nature" not in response.content.decode()


def test_a_pending_reader_is_refused_with_the_reason(client_pending, old_data):
    response = client_pending.get(URL, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 403
    assert "waiting for confirmation" in response.content.decode()


def test_a_reader_without_an_old_account_is_told_how_to_link_one(client_a, old_data):
    LegacyAccount.objects.filter(user_id__in=[1001, 1002]).update(
        reader=None, linked_at=None, link_kind=""
    )
    content = page(client_a)
    assert "once your old account is linked" in content
    assert f'href="{reverse("account_legacy")}"' in content
    assert "Nature" not in content and "<table" not in content


def test_the_explanation_in_chinese(client_a):
    content = page(client_a, "zh-CN")
    assert "<h1>旧版系统数据查询</h1>" in content
    assert "关联" in content
    assert f'href="{reverse("account_legacy")}"' in content


def test_the_page_in_chinese_has_the_seed_labels(client_a, old_data):
    content = page(client_a, "zh-CN")
    for label in ("旧版系统数据查询", "申请号", "出版物名称", "申请日期", "当前状态", "总费用"):
        assert label in content
    assert "已取消" in content  # the status label, translated


# --- search, filters, pages ------------------------------------------------------------------


def test_search_by_title_and_by_number(client_a, old_data):
    content = page(client_a, q="natu")
    assert "50001" in content and "50002" not in content
    content = page(client_a, q="50002")
    assert "50002" in content and "50001" not in content
    content = page(client_a, q="５０００２")  # typed with a Chinese input method
    assert "50002" in content and "50001" not in content
    # Another reader's number finds nothing.
    content = page(client_a, q="50003")
    assert "No old request matches." in content and "Secret" not in content


def test_filter_by_status(client_a, old_data):
    content = page(client_a, status=Status.CANCELLED)
    assert "50002" in content and "50001" not in content


def test_filter_by_date_range_in_local_days(client_a, old_data):
    content = page(client_a, date_from="2010-05-01", date_to="2010-05-01")
    assert "50001" in content and "50002" not in content
    content = page(client_a, date_to="2006-03-02")
    assert "50002" in content and "50001" not in content
    content = page(client_a, date_from="2010-05-02")
    assert "No old request matches." in content


def test_a_reversed_or_malformed_range_is_said_beside_the_field(client_a, old_data):
    content = page(client_a, date_from="2010-05-02", date_to="2010-05-01", q="Nature")
    assert "This date is before the first date." in content
    assert 'id="id_date_to_error"' in content
    assert 'value="Nature"' in content  # what was typed is kept
    assert "<table" not in content
    content = page(client_a, date_from="2010-02-30")
    assert "Enter a valid date." in content
    content = page(client_a, status="nonsense", page="x")
    assert "Select a valid choice." in content


@pytest.mark.parametrize(
    "params",
    [
        {"date_to": "9999-12-31"},
        {"date_from": "0001-01-01"},
        {"date_from": "0001-01-01", "date_to": "9999-12-31"},
    ],
)
def test_a_date_no_database_can_take_is_said_beside_the_field(client_a, old_data, params):
    content = page(client_a, **params)
    assert "Give a date between 1900 and 2999." in content
    for name in params:
        assert f'id="id_{name}_error"' in content
    assert "<table" not in content


def test_pages_keep_the_filter_and_go_newest_first(client_a, reader_a):
    account = old_account(1001, reader_a)
    per_page = settings.REQUESTS_PER_PAGE
    for i in range(per_page + 5):
        old_request(account, 60000 + i, day=(2008, 1, 1 + i % 28), status=Status.DELIVERED)
    old_request(account, 69999, status=Status.UNFILLED)
    first = page(client_a, status=Status.DELIVERED)
    assert "Page 1 of 2" in first
    assert f"{per_page + 5} old requests, newest first" in first
    assert "status=delivered&amp;page=2" in first
    assert "69999" not in first
    second = page(client_a, status=Status.DELIVERED, page=2)
    assert second.count("<time ") == 5
    assert page(client_a, page=999).count("<time ") > 0  # past the end: the last page


def test_the_query_count_does_not_grow_with_the_requests(
    client_a, reader_a, django_assert_num_queries
):
    accounts = [old_account(1001, reader_a), old_account(1002, reader_a)]
    for i in range(3):
        old_request(accounts[i % 2], 70000 + i, fee=Decimal("1.00"))
    client_a.get(URL)  # the session and the reader once loaded, as on every page

    def count():
        with django_assert_num_queries(QUERIES) as captured:
            page(client_a, q="Interlending", date_from="2000-01-01")
        return captured

    count()
    for i in range(3, 60):
        old_request(accounts[i % 2], 70000 + i, fee=Decimal("1.00"))
    count()


# The session, the user, the reader, the navigation's unread notices; then the old accounts,
# the count and the page.
QUERIES = 7


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the plan is PostgreSQL's")
def test_the_page_is_read_through_its_index(reader_a, reader_b):
    """2,000 old requests of one reader among many: the reader's requests are found through
    the index illrequest_legacy_account_date, never by reading the whole table.

    At this size the planner may still walk the submitted_at index for the page itself (a
    tenth of all rows are the reader's, so the first page is near); at a million rows it takes
    illrequest_legacy_account_date in page order (EXPLAIN ANALYZE in models.py).
    """
    mine = old_account(1001, reader_a)
    others = [old_account(2000 + i, reader_b) for i in range(20)]
    rows = []
    for i in range(22_000):  # every 11th, 2,000 in all, is the reader's
        account = mine if i % 11 == 0 else others[i % 20]
        rows.append(
            IllRequest(
                number=80000 + i,
                legacy_account=account,
                origin=Origin.LEGACY,
                service_type="copy",
                document_type="book",
                publication_title=f"Title {i}",
                submitted_at=datetime(2005, 1, 1, tzinfo=SHANGHAI) + timezone.timedelta(hours=i),
                contact_email="old@example.edu.cn",
                contact_phone="1",
            )
        )
    IllRequest.objects.bulk_create(rows)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE requests_app_illrequest")
    accounts = list(LegacyAccount.objects.filter(reader=reader_a))
    requests = IllRequest.objects.filter(legacy_account__in=accounts)
    assert requests.count() == 2000
    counting = requests.search("Title 1").explain()
    assert "illrequest_legacy_account_date" in counting
    page = (
        requests.with_total_fee()
        .select_related("legacy_account")
        .order_by("-submitted_at", "-number")[40:60]
        .explain()
    )
    assert "Seq Scan on requests_app_illrequest" not in page
