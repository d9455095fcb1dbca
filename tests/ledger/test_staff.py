"""Staff record entries from the reader's admin page, see statements, export, find debts."""

import csv
import datetime
import io
import secrets
from decimal import Decimal

import pytest
from django.contrib.auth.models import Group
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from accounts.ledger import ledger_balance, ledger_record
from accounts.models import LedgerEntry
from readers.staff import STAFF_GROUP
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def office(client):
    user = UserFactory(username="office", is_staff=True)
    user.groups.add(Group.objects.get(name=STAFF_GROUP))
    client.force_login(user)
    client.user = user
    return client


def record_url(reader):
    return reverse("admin:accounts_ledgerentry_record", args=[reader.pk])


def test_the_readers_admin_page_links_to_the_statement_and_the_entry_form(office, reader_a):
    ledger_record(reader=reader_a, kind="deposit", amount="12.00", actor=None, method="cash")
    page = office.get(
        reverse("admin:readers_reader_change", args=[reader_a.pk]), HTTP_ACCEPT_LANGUAGE="en"
    ).content.decode()
    assert record_url(reader_a) in page
    assert f"?reader__id__exact={reader_a.pk}" in page
    assert "balance 12.00 yuan" in page


def test_office_staff_record_a_deposit_and_the_reader_gets_a_receipt(
    office, reader_a, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = office.post(
            record_url(reader_a),
            {
                "token": secrets.token_hex(16),
                "kind": "deposit",
                "amount": "50",
                "method": "cash",
                "note": "在服务台",
            },
            HTTP_ACCEPT_LANGUAGE="en",
        )
    assert response.status_code == 302
    entry = LedgerEntry.objects.get()
    assert (entry.kind, entry.amount, entry.method, entry.actor) == (
        "deposit",
        Decimal("50.00"),
        "cash",
        office.user,
    )
    assert ledger_balance(reader_a) == Decimal("50.00")
    receipt = mail.outbox[-1]
    assert receipt.to == [reader_a.email]
    # The reader's language (Chinese by default), with the amount and the reference number.
    assert "50.00" in receipt.body and f"{entry.number}" in receipt.subject
    assert "收到" in receipt.body


def test_a_refused_entry_is_explained_beside_its_field_and_keeps_what_was_typed(office, reader_a):
    response = office.post(
        record_url(reader_a),
        {
            "token": secrets.token_hex(16),
            "kind": "deposit",
            "amount": "50",
            "method": "",
            "note": "typed note",
        },
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert response.status_code == 200
    form = response.context["form"]
    assert form.errors == {"method": ["Say how the reader paid."]}
    assert "typed note" in response.content.decode()
    assert not LedgerEntry.objects.exists()


@pytest.mark.parametrize(
    ("data", "field"),
    [
        (
            {"token": secrets.token_hex(16), "kind": "deposit", "amount": "abc", "method": "cash"},
            "amount",
        ),
        (
            {"token": secrets.token_hex(16), "kind": "deposit", "amount": "-3", "method": "cash"},
            "amount",
        ),
        (
            {"token": secrets.token_hex(16), "kind": "deposit", "amount": "1e30", "method": "cash"},
            "amount",
        ),
        (
            {
                "token": secrets.token_hex(16),
                "kind": "charge",
                "amount": "3",
                "request_number": "1",
            },
            "kind",
        ),
        ({"token": secrets.token_hex(16), "kind": "refund", "amount": "3"}, "request_number"),
        (
            {
                "token": secrets.token_hex(16),
                "kind": "refund",
                "amount": "3",
                "request_number": "99999999999",
            },
            "request_number",
        ),
        ({"token": secrets.token_hex(16), "kind": "adjustment", "amount": "0"}, "amount"),
    ],
)
def test_bad_input_never_writes_and_never_fails(office, reader_a, data, field):
    response = office.post(record_url(reader_a), data, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200
    assert field in response.context["form"].errors
    assert not LedgerEntry.objects.exists()


def test_an_adjustment_may_take_money_off(office, reader_a):
    ledger_record(reader=reader_a, kind="deposit", amount="10", actor=None, method="cash")
    office.post(
        record_url(reader_a),
        {"token": secrets.token_hex(16), "kind": "adjustment", "amount": "-2.50", "note": "x"},
    )
    assert ledger_balance(reader_a) == Decimal("7.50")


def test_entries_cannot_be_changed_or_deleted_in_the_admin(office, client_staff, reader_a):
    entry = ledger_record(reader=reader_a, kind="deposit", amount="10", actor=None, method="cash")
    change_url = reverse("admin:accounts_ledgerentry_change", args=[entry.pk])
    delete_url = reverse("admin:accounts_ledgerentry_delete", args=[entry.pk])
    for client in (office, client_staff):  # the office and a superuser alike
        page = client.get(change_url)
        assert page.status_code == 200
        assert 'name="_save"' not in page.content.decode()
        client.post(change_url, {"amount": "1000"})
        assert client.get(delete_url).status_code == 403
        client.post(delete_url, {"post": "yes"})
        client.post(
            reverse("admin:accounts_ledgerentry_changelist"),
            {"action": "delete_selected", "_selected_action": [entry.pk], "post": "yes"},
        )
    entry.refresh_from_db()
    assert entry.amount == Decimal("10.00")


def test_the_statement_of_a_reader_is_their_entries_only(office, reader_a, reader_b):
    ledger_record(reader=reader_a, kind="deposit", amount="11", actor=None, method="cash")
    ledger_record(reader=reader_b, kind="deposit", amount="22", actor=None, method="cash")
    page = office.get(
        reverse("admin:accounts_ledgerentry_changelist") + f"?reader__id__exact={reader_a.pk}"
    ).content.decode()
    assert "11.00" in page and "22.00" not in page


def test_the_negative_balances_list_shows_only_the_readers_who_owe(office, reader_a, reader_b):
    ledger_record(reader=reader_a, kind="opening_balance", amount="-15", actor=None)
    ledger_record(reader=reader_b, kind="deposit", amount="5", actor=None, method="cash")
    page = office.get(reverse("admin:accounts_account_changelist") + "?owing=yes").content.decode()
    assert reader_a.name in page and reader_b.name not in page


def test_the_finance_export_has_a_bom_chinese_decimals_and_totals_per_day_and_kind(
    office, reader_a, reader_b
):
    day = timezone.localdate()
    ledger_record(reader=reader_a, kind="deposit", amount="100", actor=None, method="cash")
    ledger_record(reader=reader_b, kind="deposit", amount="0.5", actor=None, method="card")
    ledger_record(
        reader=reader_a, kind="adjustment", amount="-20.25", actor=office.user, note="=SUM(A1)"
    )
    response = office.get(
        reverse("admin:accounts_ledgerentry_export"),
        {"start": day.isoformat(), "end": day.isoformat()},
        HTTP_ACCEPT_LANGUAGE="zh-hans",
    )
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    raw = response.content
    assert raw.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))
    assert rows[1][2] == reader_a.name  # Chinese name intact
    assert [row[5] for row in rows[1:4]] == ["100.00", "0.50", "-20.25"]
    assert rows[3][-1] == "'=SUM(A1)"  # never run as a formula
    totals = rows[rows.index(["按日期和类型合计"]) + 2 :]
    assert [day.isoformat(), "存款", "2", "100.50"] in totals
    assert [day.isoformat(), "调整", "1", "-20.25"] in totals


def test_the_export_asks_for_a_range_and_refuses_a_bad_one_beside_the_field(office):
    url = reverse("admin:accounts_ledgerentry_export")
    assert office.get(url).status_code == 200
    response = office.get(
        url, {"start": "2026-02-01", "end": "2026-01-01"}, HTTP_ACCEPT_LANGUAGE="en"
    )
    assert response.status_code == 200
    assert "The end date is before the start date." in response.content.decode()
    assert office.get(url, {"start": "x", "end": "99999-1-1"}).status_code == 200


def test_a_reader_cannot_reach_the_staff_pages(client_a, reader_a):
    for url in (record_url(reader_a), reverse("admin:accounts_ledgerentry_export")):
        response = client_a.get(url)
        assert response.status_code == 302
        assert "/admin/login/" in response["Location"]


def test_the_entries_list_answers_every_filter_without_a_500(office):
    url = reverse("admin:accounts_ledgerentry_changelist")
    for query in ("?at__year=2147483648", "?kind=nonsense", "?q=%00", "?at__day=99&at__month=2"):
        assert office.get(url + query).status_code in (200, 302, 400)


def test_the_add_page_sends_staff_to_the_reader(office):
    response = office.get(reverse("admin:accounts_ledgerentry_add"))
    assert response.status_code == 302
    assert response["Location"] == reverse("admin:readers_reader_changelist")


def test_the_office_is_not_given_any_way_to_change_the_ledger():
    perms = set(Group.objects.get(name=STAFF_GROUP).permissions.values_list("codename", flat=True))
    assert {"view_ledgerentry", "add_ledgerentry", "view_account"} <= perms
    assert not {"change_ledgerentry", "delete_ledgerentry", "change_account"} & perms


def test_the_export_covers_only_the_days_asked_for(office, reader_a):
    ledger_record(reader=reader_a, kind="deposit", amount="1", actor=None, method="cash")
    yesterday = timezone.localdate() - datetime.timedelta(days=1)
    response = office.get(
        reverse("admin:accounts_ledgerentry_export"),
        {"start": yesterday.isoformat(), "end": yesterday.isoformat()},
    )
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert len(rows) == 1 + 1 + 2 + 1 + 2  # header, blank, two headings each, nothing else


def test_a_deposit_cannot_name_a_request_not_awaiting_payment_from_this_reader(
    office, reader_a, reader_b
):
    from tests.factories import IllRequestFactory

    others = IllRequestFactory(reader=reader_b, status="awaiting_payment")
    response = office.post(
        record_url(reader_a),
        {
            "token": secrets.token_hex(16),
            "kind": "deposit",
            "amount": "5",
            "method": "cash",
            "request_number": others.number,
        },
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert response.status_code == 200
    assert "is not awaiting payment from this reader" in str(
        response.context["form"].errors["request_number"]
    )
    assert not LedgerEntry.objects.exists()


def test_the_same_form_sent_twice_records_the_money_once(office, reader_a):
    form = office.get(record_url(reader_a)).context["form"]
    token = form["token"].value()
    data = {"token": token, "kind": "deposit", "amount": "50", "method": "cash"}
    office.post(record_url(reader_a), data)
    office.post(record_url(reader_a), data)
    assert LedgerEntry.objects.count() == 1
    assert ledger_balance(reader_a) == Decimal("50.00")
    # The next form shown is a new one.
    assert office.get(record_url(reader_a)).context["form"]["token"].value() != token


def test_a_form_without_its_token_records_nothing_and_says_so(office, reader_a):
    response = office.post(
        record_url(reader_a),
        {"kind": "deposit", "amount": "50", "method": "cash"},
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert response.status_code == 200
    assert "The form was out of date" in response.content.decode()
    assert 'value="50"' in response.content.decode()
    assert not LedgerEntry.objects.exists()


def test_odd_digits_in_the_address_are_not_a_500(office, reader_a):
    # Found by a probe: "²" is a digit to str.isdigit() but not to int().
    office.raise_request_exception = False
    assert office.get(record_url(reader_a), {"request": "²"}).status_code == 200
    assert office.get(record_url(reader_a), {"request": "9" * 30}).status_code == 200
    # Past 4,300 digits int() refuses a number outright.
    entries = office.get("/admin/accounts/ledgerentry/", {"q": "9" * 5000})
    assert entries.status_code == 200
    for object_id in ["²", "9" * 23]:
        response = office.get(f"/admin/readers/reader/{object_id}/change/")
        assert response.status_code in (302, 404), object_id
