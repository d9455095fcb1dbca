"""The reader's 帐户管理: balance, statement, CSV and receipt, each the reader's own only."""

import csv
import datetime
import io
from decimal import Decimal

import pytest
import time_machine
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone, translation

from accounts.ledger import ledger_charge, ledger_record
from requests_app.lifecycle import request_transition
from tests.factories import FeeLineFactory, IllRequestFactory
from tests.requests_app.conftest import worked_example

pytestmark = pytest.mark.django_db

PAGES = ["account", "account_statement", "account_statement_csv", "account_receipt"]
TZ = timezone.get_fixed_timezone(8 * 60)


def deposit(reader, amount, **kwargs):
    return ledger_record(
        reader=reader, kind="deposit", amount=amount, actor=None, method="cash", **kwargs
    )


@pytest.fixture
def money_a(reader_a):
    """Reader A paid 100 and was charged 25.50 for request 4711 (a Chinese title)."""
    deposit(reader_a, "100.00", note="甲的存款")
    ledger_charge(
        reader=reader_a,
        amount="25.50",
        actor=None,
        request_number=4711,
        request_title="馆际互借研究 Interlending",
    )
    return reader_a


def receipt_range():
    today = timezone.localdate().isoformat()
    return {"start": today, "end": today}


# --- Who sees what -----------------------------------------------------------------------------


@pytest.mark.parametrize("name", PAGES)
def test_the_owner_sees_their_entries(client_a, money_a, name):
    response = client_a.get(reverse(name), receipt_range(), HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200
    assert "4711" in response.content.decode("utf-8-sig")


@pytest.mark.parametrize("name", PAGES)
def test_another_reader_never_sees_them(client_b, reader_b, money_a, name):
    deposit(reader_b, "7.00", note="乙的存款")
    response = client_b.get(reverse(name), receipt_range(), HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200
    content = response.content.decode("utf-8-sig")
    assert "4711" not in content
    assert "甲的存款" not in content
    assert "100.00" not in content


@pytest.mark.parametrize("name", PAGES)
def test_anonymous_visitors_are_sent_to_log_in(client_anon, money_a, name):
    response = client_anon.get(reverse(name))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))


@pytest.mark.parametrize("name", PAGES)
def test_a_pending_reader_is_told_why_not(client_pending, name):
    response = client_pending.get(reverse(name), HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 403
    assert "waiting for confirmation" in response.content.decode()


@pytest.mark.parametrize("name", PAGES)
def test_staff_without_a_reader_profile_are_told_so(client_staff, money_a, name):
    response = client_staff.get(reverse(name), HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 403
    assert "no reader profile" in response.content.decode()
    assert "4711" not in response.content.decode()


@pytest.mark.parametrize("name", PAGES)
def test_the_pages_refuse_post(client_a, name):
    assert client_a.post(reverse(name)).status_code == 405


# --- The account page --------------------------------------------------------------------------


def test_the_account_page_shows_balance_dues_how_to_pay_and_the_links(client_a, reader_a):
    deposit(reader_a, "5.00")
    ill_request = IllRequestFactory(reader=reader_a, status="in_process")
    FeeLineFactory(request=ill_request, amount=Decimal("12.00"))
    request_transition(ill_request=ill_request, to="delivered", actor=None)
    page = client_a.get(reverse("account"), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert 'data-balance="5.00"' in page
    assert f'href="{ill_request.get_absolute_url()}"' in page
    assert "12.00" in page and "7.00" in page  # due, still to pay
    assert reverse("fees") in page
    assert "How to pay" in page
    for name in ("account_statement", "account_statement_csv", "account_receipt"):
        assert reverse(name) in page
    assert reverse("account_change_password") in page


def test_the_account_page_is_in_chinese(client_a, money_a):
    page = client_a.get(reverse("account"), HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert "<h1>帐户管理</h1>" in page
    assert "余额" in page and "如何付款" in page


def test_a_reader_who_owes_is_told_how_much(client_a, reader_a):
    ledger_record(reader=reader_a, kind="opening_balance", amount="-30", actor=None)
    page = client_a.get(reverse("account"), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "You owe the ILL office 30.00 yuan." in page


# --- Statement ---------------------------------------------------------------------------------


def test_the_statement_filters_by_date_and_pages(client_a, reader_a):
    for day in range(1, 31):
        with time_machine.travel(datetime.datetime(2026, 6, day, 10, tzinfo=TZ), tick=False):
            deposit(reader_a, f"{day}.00", note=f"day-{day:02d}")
    url = reverse("account_statement")
    first = client_a.get(url).content.decode()
    assert "day-30" in first and "day-06" in first and "day-05" not in first  # 25 a page
    second = client_a.get(url, {"page": 2}).content.decode()
    assert "day-05" in second and "day-30" not in second
    june_10 = client_a.get(url, {"start": "2026-06-10", "end": "2026-06-11"}).content.decode()
    assert "day-10" in june_10 and "day-11" in june_10
    assert "day-09" not in june_10 and "day-12" not in june_10


def test_a_bad_date_is_explained_beside_the_field_and_kept(client_a, money_a):
    response = client_a.get(
        reverse("account_statement"),
        {"start": "2026-13-45", "end": "2026-01-01"},
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert response.status_code == 200
    assert response.context["form"].errors["start"]
    assert 'value="2026-13-45"' in response.content.decode()
    backwards = client_a.get(
        reverse("account_statement"), {"start": "2026-02-01", "end": "2026-01-01"}
    )
    assert backwards.context["form"].errors["end"]
    assert client_a.get(reverse("account_statement"), {"start": "0001-01-01"}).status_code == 200


def test_the_csv_has_a_bom_chinese_text_and_plain_decimals(client_a, money_a):
    response = client_a.get(reverse("account_statement_csv"), HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].startswith("attachment;")
    raw = response.content
    assert raw.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))
    assert rows[0][0] == "参考号"
    assert rows[1][2:5] == ["存款", "100.00", "100.00"]
    assert rows[1][8] == "甲的存款"
    assert rows[2][2:8] == ["扣费", "-25.50", "74.50", "", "4711", "馆际互借研究 Interlending"]


def test_the_csv_keeps_the_date_filter(client_a, reader_a):
    with time_machine.travel(datetime.datetime(2026, 5, 1, 10, tzinfo=TZ), tick=False):
        deposit(reader_a, "1.00", note="may")
    with time_machine.travel(datetime.datetime(2026, 6, 1, 10, tzinfo=TZ), tick=False):
        deposit(reader_a, "2.00", note="june")
    content = client_a.get(
        reverse("account_statement_csv"), {"start": "2026-06-01", "end": "2026-06-30"}
    ).content.decode("utf-8-sig")
    assert "june" in content and "may" not in content


# --- Receipt -----------------------------------------------------------------------------------


@override_settings(LIBRARY_NAME="示例大学图书馆")
def test_the_receipt_lists_each_charge_with_number_title_and_total(client_a, money_a):
    ledger_record(reader=money_a, kind="refund", amount="5.50", actor=None, request_number=4711)
    response = client_a.get(reverse("account_receipt"), receipt_range(), HTTP_ACCEPT_LANGUAGE="en")
    page = response.content.decode()
    assert "示例大学图书馆" in page
    assert money_a.name in page
    assert "馆际互借研究 Interlending" in page and "4711" in page
    assert 'data-total="20.00"' in page
    assert 'href="/static/css/print.css" media="print"' in page


def test_the_receipt_asks_for_a_range_first(client_a, money_a):
    response = client_a.get(reverse("account_receipt"), HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200
    assert "data-total" not in response.content.decode()
    # ISO dates whatever the language: a date input shows nothing for "2026年1月1日".
    first_of_year = timezone.localdate().replace(month=1, day=1).isoformat()
    assert f'type="date" name="start" value="{first_of_year}"' in response.content.decode()
    chinese = client_a.get(reverse("account_receipt"), HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert f'value="{first_of_year}"' in chinese.content.decode()


# --- Query counts ------------------------------------------------------------------------------


@pytest.mark.parametrize("rows", [1, 50])
@pytest.mark.parametrize("name", PAGES)
def test_the_pages_take_a_fixed_number_of_queries(
    client_a, reader_a, django_assert_max_num_queries, rows, name
):
    for index in range(rows):
        deposit(reader_a, "1.00", request_number=index + 1, request_title="t")
        ledger_charge(reader=reader_a, amount="1.00", actor=None, request_number=index + 1)
    client_a.get(reverse("account"))  # the session's first touches
    with django_assert_max_num_queries(9):
        response = client_a.get(reverse(name), receipt_range())
    assert response.status_code == 200


# --- Owing blocks new requests -----------------------------------------------------------------


def test_a_reader_who_owes_cannot_submit_and_is_told_where_to_settle(client_a, reader_a):
    ledger_record(reader=reader_a, kind="opening_balance", amount="-8.00", actor=None)
    page = client_a.get(reverse("request_submit"), HTTP_ACCEPT_LANGUAGE="en")
    assert page.status_code == 403
    text = page.content.decode()
    assert "You owe the ILL office 8.00 yuan" in text
    assert reverse("account") in text and reverse("fees") in text
    response = client_a.post(reverse("request_submit"), worked_example(), HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 403
    assert not reader_a.ill_requests.exists()


def test_once_settled_the_reader_submits_again(client_a, reader_a):
    ledger_record(reader=reader_a, kind="opening_balance", amount="-8.00", actor=None)
    ledger_record(reader=reader_a, kind="debt_settlement", amount="8.00", actor=None, method="cash")
    response = client_a.post(reverse("request_submit"), worked_example())
    assert response.status_code == 302
    assert reader_a.ill_requests.count() == 1


@override_settings(BLOCK_REQUESTS_WHEN_OWING=False)
def test_the_operator_can_let_readers_who_owe_submit(client_a, reader_a):
    ledger_record(reader=reader_a, kind="opening_balance", amount="-8.00", actor=None)
    assert client_a.get(reverse("request_submit")).status_code == 200
    client_a.post(reverse("request_submit"), worked_example())
    assert reader_a.ill_requests.count() == 1


def test_the_block_holds_in_the_service_too(reader_a):
    from accounts.ledger import LedgerError
    from requests_app.services import request_submit

    ledger_record(reader=reader_a, kind="opening_balance", amount="-1.00", actor=None)
    with translation.override("en"), pytest.raises(LedgerError, match="owe"):
        request_submit(reader=reader_a, data=worked_example(), token="t" * 20)


def test_a_form_sent_again_after_the_reader_came_to_owe_returns_its_request(client_a, reader_a):
    """The token is not looked up before the insert (issue 14): the block must not hide a
    request that the same form already made."""
    first = client_a.post(reverse("request_submit"), worked_example())
    ledger_record(reader=reader_a, kind="opening_balance", amount="-8.00", actor=None)
    again = client_a.post(reverse("request_submit"), worked_example())
    assert again.status_code == 302
    assert again["Location"] == first["Location"]
    assert reader_a.ill_requests.count() == 1
