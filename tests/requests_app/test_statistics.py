"""The ILL office's statistics: numbers checked against a small data set computed by hand, on
SQLite and on PostgreSQL alike; the page's access, queries, charts, CSV and range form."""

import csv
import datetime
import io
import random
import re
from array import array
from decimal import Decimal
from types import SimpleNamespace

import pytest
import time_machine
from django.contrib.auth.models import Group
from django.db import connection
from django.urls import reverse
from django.utils import translation

from readers.models import Reader, ReaderType
from readers.staff import STAFF_GROUP
from requests_app.models import (
    IllRequest,
    StatisticsMonth,
    Status,
    StatusChange,
    Supplier,
    SupplierKind,
)
from requests_app.statistics import (
    default_range,
    percentile,
    request_statistics,
    runs_percentile,
)
from tests.factories import IllRequestFactory, ReaderFactory, UserFactory

pytestmark = pytest.mark.django_db

BEIJING = datetime.timezone(datetime.timedelta(hours=8))
PAGE = "/admin/statistics/"
CSV = "/admin/statistics/csv/"
RANGE = {"start": "2026-01-01", "end": "2026-03-31"}


def at(month, day, hour=10, minute=0):
    return datetime.datetime(2026, month, day, hour, minute, tzinfo=BEIJING)


@pytest.fixture
def office(client):
    user = UserFactory(username="office", is_staff=True)
    user.groups.add(Group.objects.get(name=STAFF_GROUP))
    client.force_login(user)
    return client


@pytest.fixture
def data_set():
    """Eight requests from January to March 2026 (Beijing time), two just outside.

    Supplied (delivered or lent) after: #1 2 days, #2 4 days, #3 10 days, #7 1 day.
    """
    calis = Supplier.objects.create(name_zh="CALIS 文献传递", name_en="CALIS", kind="calis")
    nstl = Supplier.objects.create(name_zh="国家科技图书文献中心", name_en="NSTL", kind="nstl")
    campus = ReaderFactory(reader_type=ReaderType.CAMPUS, institution="清华大学")
    off = ReaderFactory(reader_type=ReaderType.OFF_CAMPUS, institution="北京大学")

    def request(submitted, reader, status, supplier=None, service="copy", handed=None):
        return IllRequestFactory(
            submitted_at=submitted,
            reader=reader,
            status=status,
            supplier=supplier,
            service_type=service,
            supplied_at=None if handed is None else submitted + datetime.timedelta(days=handed),
        )

    request(at(1, 5), campus, Status.DELIVERED, calis, handed=2)
    request(at(1, 20), campus, Status.DELIVERED, calis, handed=4)
    request(at(2, 3), off, Status.RETURNED, nstl, service="loan", handed=10)
    request(at(2, 10), off, Status.UNFILLED, nstl)
    request(at(2, 11), campus, Status.CANCELLED)
    request(at(3, 1), off, Status.IN_PROCESS)
    request(at(3, 2), campus, Status.DELIVERED, calis, handed=1)
    request(at(3, 31, 23, 30), off, Status.SUBMITTED)
    # Outside the range, by half an hour each way.
    request(
        at(1, 1, 0, 0) - datetime.timedelta(minutes=30), campus, Status.DELIVERED, calis, handed=3
    )
    request(at(4, 1, 0, 30), campus, Status.DELIVERED, calis, handed=3)
    return {"calis": calis, "nstl": nstl}


def numbers(row):
    return (
        row.requests,
        row.outcomes,
        row.supplied,
        row.fill_rate,
        row.median_days,
        row.p90_days,
    )


def D(text):
    return Decimal(text) if text is not None else None


def expect(requests, outcomes, supplied, fill, median, p90):
    return (requests, outcomes, supplied, D(fill), D(median), D(p90))


@translation.override("en")
def test_the_numbers_are_the_hand_computed_ones(data_set):
    stats = request_statistics(start=datetime.date(2026, 1, 1), end=datetime.date(2026, 3, 31))
    # Durations 1, 2, 4, 10 days: median (2 + 4) / 2; 90th percentile 4 + 0.7 × (10 − 4).
    assert numbers(stats.total) == expect(8, 6, 4, "66.7", "3.0", "8.2")
    assert [row.label for row in stats.months] == ["2026-01", "2026-02", "2026-03"]
    assert [numbers(row) for row in stats.months] == [
        expect(2, 2, 2, "100.0", "3.0", "3.8"),
        expect(3, 3, 1, "33.3", "10.0", "10.0"),
        expect(3, 1, 1, "100.0", "1.0", "1.0"),
    ]
    by = {b.name: {row.label: numbers(row) for row in b.rows} for b in stats.breakdowns}
    assert by["service_type"] == {
        "Copy (non-returnable)": expect(7, 5, 3, "60.0", "2.0", "3.6"),
        "Loan (returnable)": expect(1, 1, 1, "100.0", "10.0", "10.0"),
    }
    assert by["reader_type"] == {
        "Campus reader": expect(4, 4, 3, "75.0", "2.0", "3.6"),
        "Off-campus reader": expect(4, 2, 1, "50.0", "10.0", "10.0"),
    }
    assert by["supplier"] == {
        "CALIS": expect(3, 3, 3, "100.0", "2.0", "3.6"),
        "NSTL": expect(2, 2, 1, "50.0", "10.0", "10.0"),
        "No supplier recorded": expect(3, 1, 0, "0.0", None, None),
    }
    assert by["institution"] == {
        "清华大学": expect(4, 4, 3, "75.0", "2.0", "3.6"),
        "北京大学": expect(4, 2, 1, "50.0", "10.0", "10.0"),
    }


def test_a_month_without_requests_is_shown_with_zero(data_set):
    stats = request_statistics(start=datetime.date(2025, 11, 1), end=datetime.date(2026, 1, 31))
    assert [(row.label, row.requests, row.fill_rate) for row in stats.months] == [
        ("2025-11", 0, None),
        ("2025-12", 1, Decimal("100.0")),
        ("2026-01", 2, Decimal("100.0")),
    ]


@translation.override("en")
def test_institutions_beyond_the_top_ones_share_a_row(settings, monkeypatch):
    monkeypatch.setattr("requests_app.statistics.TOP_INSTITUTIONS", 1)
    for name, count in [("甲大学", 3), ("乙大学", 1), ("丙大学", 1)]:
        reader = ReaderFactory(institution=name)
        for _ in range(count):
            IllRequestFactory(reader=reader, submitted_at=at(2, 1))
    stats = request_statistics(start=datetime.date(2026, 2, 1), end=datetime.date(2026, 2, 28))
    [institution] = [b for b in stats.breakdowns if b.name == "institution"]
    assert [(row.label, row.requests) for row in institution.rows] == [
        ("甲大学", 3),
        ("2 other institutions", 2),
    ]
    assert institution.note


@pytest.mark.parametrize(
    ("fraction", "expected"), [(0.5, 3.0), (0.9, 8.2), (0.0, 1.0), (1.0, 10.0)]
)
def test_the_python_percentile_is_postgresqls_percentile_cont(fraction, expected):
    assert percentile([1, 2, 4, 10], fraction) == pytest.approx(expected)
    assert percentile([], fraction) is None


def test_the_default_range_is_the_last_twelve_months():
    assert default_range(datetime.date(2026, 11, 28)) == (
        datetime.date(2025, 12, 1),
        datetime.date(2026, 11, 28),
    )
    assert default_range(datetime.date(2026, 1, 31)) == (
        datetime.date(2025, 2, 1),
        datetime.date(2026, 1, 31),
    )


# --- The page --------------------------------------------------------------------------------


def test_the_page_shows_charts_beside_tables_of_the_same_numbers(office, data_set):
    response = office.get(PAGE, RANGE, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200
    content = response.content.decode()
    assert "<script" not in content.split('id="content-main"')[1]
    charts = re.findall(
        r'<svg [^>]*role="img"[^>]*>\s*<title id="([^"]+)">([^<]+)</title>', content
    )
    assert [title for _id, title in charts] == [
        "Requests per month",
        "Requests: By service type",
        "Requests: By reader type",
        "Requests: By supplier",
        "Requests: By institution",
    ]
    # Each bar says its number; the table beside says the same.
    assert "<title>2026-02: 3</title>" in content
    assert "<title>CALIS: 3</title>" in content
    assert re.search(r'<th scope="row">CALIS</th>\s*<td class="stats-number">3</td>', content)
    assert re.search(
        r'<th scope="row">All requests</th>\s*<td class="stats-number">8</td>', content
    )
    assert "66.7" in content and "8.2" in content
    assert "Fill rate" in content and "Requests still open are not counted." in content


def test_the_page_speaks_chinese(office, data_set):
    content = office.get(PAGE, RANGE, HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert "满足率" in content and "按供应方" in content and "每月申请量" in content


def test_without_a_range_the_page_shows_the_last_twelve_months(office):
    with time_machine.travel(at(3, 15), tick=False):
        IllRequestFactory(submitted_at=at(3, 14))
        response = office.get(PAGE, HTTP_ACCEPT_LANGUAGE="en")
    stats = response.context["stats"]
    assert (stats.start, stats.end) == (datetime.date(2025, 4, 1), datetime.date(2026, 3, 15))
    assert len(stats.months) == 12 and stats.total.requests == 1
    assert 'value="2025-04-01"' in response.content.decode()


@pytest.mark.parametrize(
    ("params", "field", "message"),
    [
        ({"start": "2026-03-01", "end": "2026-02-01"}, "end", "The end date is before the start"),
        ({"start": "soon", "end": "2026-02-01"}, "start", "Enter a valid date."),
        ({"start": "0001-01-01", "end": "2026-02-01"}, "start", "Enter a date between 1990"),
        ({"start": "2026-01-01", "end": "9999-12-31"}, "end", "Enter a date between 1990"),
        ({"start": "2000-01-01", "end": "2026-02-01"}, "end", "Choose at most 120 months."),
        ({"end": "2026-02-01"}, "start", "This field is required."),
    ],
)
def test_a_bad_range_is_explained_beside_its_field_and_kept(office, params, field, message):
    response = office.get(PAGE, params, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200
    content = response.content.decode()
    assert response.context["stats"] is None
    assert re.search(rf'<ul class="errorlist" id="id_{field}_error"><li>{message}', content)
    for value in params.values():
        assert f'value="{value}"' in content
    csv_response = office.get(CSV, params)
    assert csv_response.status_code == 400
    assert message in csv_response.content.decode() or "errorlist" in csv_response.content.decode()


def test_the_csv_has_the_pages_numbers(office, data_set):
    response = office.get(CSV, RANGE, HTTP_ACCEPT_LANGUAGE="en")
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == (
        'attachment; filename="ill-statistics-20260101-20260331.csv"'
    )
    body = b"".join(response.streaming_content).decode("utf-8")
    assert body.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(body[1:])))
    assert rows[0] == [
        "Breakdown",
        "Group",
        "Requests",
        "With an outcome",
        "Supplied",
        "Fill rate (%)",
        "Median turnaround (days)",
        "90th percentile turnaround (days)",
    ]
    assert ["Total", "All requests", "8", "6", "4", "66.7", "3.0", "8.2"] in rows
    assert ["Month", "2026-02", "3", "3", "1", "33.3", "10.0", "10.0"] in rows
    assert ["By supplier", "NSTL", "2", "2", "1", "50.0", "10.0", "10.0"] in rows
    assert ["By supplier", "No supplier recorded", "3", "1", "0", "0.0", "", ""] in rows
    assert ["By institution", "清华大学", "4", "4", "3", "75.0", "2.0", "3.6"] in rows
    assert len(rows) == 1 + 1 + 3 + 2 + 2 + 3 + 2


def test_the_csv_headers_are_chinese_for_a_chinese_speaking_librarian(office, data_set):
    response = office.get(CSV, RANGE, HTTP_ACCEPT_LANGUAGE="zh-hans")
    body = b"".join(response.streaming_content).decode("utf-8")
    header = next(csv.reader(io.StringIO(body[1:])))
    assert all(not cell.isascii() for cell in header)
    # A count of requests, not the navigation's 申请管理 (request management).
    assert header[2] == "申请数"


# --- Who may see it ---------------------------------------------------------------------------


@pytest.mark.parametrize("url", [PAGE, CSV])
def test_a_reader_and_anonymous_are_sent_to_the_staff_login(client_a, client_anon, url):
    for client in (client_a, client_anon):
        response = client.get(url, RANGE)
        assert response.status_code == 302
        assert response["Location"].startswith("/admin/login/")


@pytest.mark.parametrize("url", [PAGE, CSV])
def test_staff_outside_the_office_get_403(client, url):
    client.force_login(UserFactory(username="bare-staff", is_staff=True))
    assert client.get(url, RANGE).status_code == 403


def test_the_dashboard_links_to_the_statistics(office, client):
    assert f'href="{reverse("request_statistics")}"' in office.get("/admin/").content.decode()
    client.force_login(UserFactory(username="bare-staff", is_staff=True))
    assert reverse("request_statistics") not in client.get("/admin/").content.decode()


@pytest.mark.parametrize("scale", [1, 3])
def test_the_page_costs_the_same_queries_whatever_the_data(
    office, scale, django_assert_num_queries
):
    for index in range(scale):
        supplier = Supplier.objects.create(name_zh=f"供应方{index}", kind=SupplierKind.OTHER)
        for status in (Status.DELIVERED, Status.UNFILLED, Status.SUBMITTED):
            IllRequestFactory(
                submitted_at=at(2, 1 + index),
                status=status,
                supplier=supplier,
                reader=ReaderFactory(institution=f"大学{index}"),
                supplied_at=at(2, 9) if status == Status.DELIVERED else None,
            )
    office.get(PAGE, {"start": "2025-02-02", "end": "2025-02-03"})  # the session, content types
    postgres = connection.vendor == "postgresql"
    # Session, user, permissions (4); the reader of the staff user (the page's header); the
    # suppliers' names. PostgreSQL: the counters and the kept months, then, the first time,
    # the requests of the months not kept and keeping them. SQLite: the requests, each time.
    with django_assert_num_queries(10 if postgres else 7):
        response = office.get(PAGE, RANGE)
    assert response.context["stats"].total.requests == 3 * scale
    with django_assert_num_queries(8 if postgres else 7):
        response = office.get(PAGE, RANGE)
    assert response.context["stats"].total.requests == 3 * scale


# --- Kept months (PostgreSQL: StatisticsMonth, invalidated by triggers) ----------------------


def flat(stats):
    rows = [stats.total, *stats.months, *(row for b in stats.breakdowns for row in b.rows)]
    return [
        (row.label, row.requests, row.outcomes, row.supplied, row.median, row.p90) for row in rows
    ]


def kept_months():
    return sorted(month.month for month in StatisticsMonth.objects.all())


@translation.override("en")
def test_kept_months_give_the_same_numbers_and_follow_every_change(data_set):
    start, end = datetime.date(2026, 1, 1), datetime.date(2026, 3, 31)
    first = request_statistics(start=start, end=end)
    again = request_statistics(start=start, end=end)
    assert flat(again) == flat(first)
    if connection.vendor == "postgresql":
        assert kept_months() == [datetime.date(2026, month, 1) for month in (1, 2, 3)]

    # A request's outcome changed without the model (a bulk update): February follows.
    IllRequest.objects.filter(status=Status.UNFILLED).update(
        status=Status.DELIVERED, supplied_at=at(2, 16)
    )
    stats = request_statistics(start=start, end=end)
    # February: #3 10 days, now #4 6 days too: 3 requests, 2 supplied of 3 outcomes.
    assert numbers(stats.months[1]) == expect(3, 3, 2, "66.7", "8.0", "9.6")
    assert numbers(stats.months[0]) == numbers(first.months[0])
    # A reader's institution changed (the requests did not): the breakdown follows.
    Reader.objects.filter(institution="北京大学").update(institution="北京大学医学部")
    stats = request_statistics(start=start, end=end)
    [institution] = [b for b in stats.breakdowns if b.name == "institution"]
    assert {row.label for row in institution.rows} == {"清华大学", "北京大学医学部"}
    # A request added to January, and one deleted from March.
    IllRequestFactory(submitted_at=at(1, 7), status=Status.SUBMITTED)
    IllRequest.objects.filter(status=Status.SUBMITTED, submitted_at__gte=at(3, 1)).delete()
    stats = request_statistics(start=start, end=end)
    assert [row.requests for row in stats.months] == [3, 3, 2]
    assert stats.total.requests == 8


def test_a_partial_month_is_kept_for_its_own_bounds_only(data_set):
    with time_machine.travel(at(3, 15), tick=False):
        # The default range's last month: from March 1st to today.
        stats = request_statistics(start=datetime.date(2026, 1, 1), end=datetime.date(2026, 3, 15))
        assert stats.months[2].requests == 2
        IllRequestFactory(submitted_at=at(3, 15, 9), status=Status.SUBMITTED)
        stats = request_statistics(start=datetime.date(2026, 1, 1), end=datetime.date(2026, 3, 15))
        assert stats.months[2].requests == 3
    # All of March (another range): the kept part of March is not taken for it.
    stats = request_statistics(start=datetime.date(2026, 3, 1), end=datetime.date(2026, 3, 31))
    assert stats.total.requests == 4
    if connection.vendor == "postgresql":
        assert kept_months() == [datetime.date(2026, month, 1) for month in (1, 2, 3)]


def test_percentiles_over_months_are_those_over_all_their_durations():
    rng = random.Random(12)
    for _ in range(200):
        runs = [
            array("q", sorted(rng.randrange(-(10**6), 10**12) for _ in range(rng.randrange(0, 9))))
            for _ in range(rng.randrange(1, 5))
        ]
        merged = sorted(datetime.timedelta(microseconds=value) for run in runs for value in run)
        for fraction in (0.0, 0.5, 0.9, 1.0):
            assert runs_percentile(runs, fraction) == percentile(merged, fraction)


def test_a_long_range_labels_every_few_months_and_every_bar_names_itself(office):
    response = office.get(PAGE, {"start": "2017-01-01", "end": "2026-12-31"})
    content = response.content.decode()
    [chart] = re.findall(r'<svg [^>]*aria-labelledby="chart-months-title.*?</svg>', content)
    assert chart.count("<rect ") == 120
    assert "<title>2017-01: 0</title>" in chart and "<title>2026-12: 0</title>" in chart
    labels = re.findall(r'class="stats-label"[^>]*>([^<]+)</text>', chart)
    assert labels[0] == "2017-01" and 10 < len(labels) < 120


# --- When a request was supplied ------------------------------------------------------------


def test_the_lifecycle_records_when_a_request_is_supplied_once(staff, reader_a):
    from accounts.ledger import ledger_record
    from requests_app.lifecycle import request_transition

    ledger_record(reader=reader_a, kind="deposit", amount="100", actor=staff, method="cash")
    loan = IllRequestFactory(reader=reader_a, service_type="loan", status=Status.IN_PROCESS)
    with time_machine.travel(at(5, 1), tick=False):
        request_transition(
            ill_request=loan,
            to=Status.ON_LOAN,
            actor=staff,
            return_date=datetime.date(2026, 6, 1),
        )
    with time_machine.travel(at(5, 20), tick=False):
        request_transition(ill_request=loan, to=Status.RETURNED, actor=staff)
    loan.refresh_from_db()
    assert (loan.status, loan.supplied_at) == (Status.RETURNED, at(5, 1))
    unfilled = IllRequestFactory(reader=reader_a, status=Status.IN_PROCESS)
    request_transition(ill_request=unfilled, to=Status.UNFILLED, actor=staff, note="Not found")
    unfilled.refresh_from_db()
    assert unfilled.supplied_at is None


def test_requests_supplied_before_the_column_get_the_time_from_their_history():
    import importlib

    from django.apps import apps

    migration = importlib.import_module("requests_app.migrations.0009_suppliers_and_statistics")
    delivered = IllRequestFactory(status=Status.DELIVERED, submitted_at=at(1, 1))
    StatusChange.objects.create(request=delivered, to_status="submitted", at=at(1, 1))
    StatusChange.objects.create(
        request=delivered, from_status="in_process", to_status="delivered", at=at(1, 3)
    )
    # A note on the delivered request later is not when it was supplied.
    StatusChange.objects.create(
        request=delivered, from_status="delivered", to_status="delivered", at=at(1, 9)
    )
    unfilled = IllRequestFactory(status=Status.UNFILLED)
    # The migration reads only the schema editor's connection.
    migration.supplied_at_from_history(apps, SimpleNamespace(connection=connection))
    delivered.refresh_from_db()
    unfilled.refresh_from_db()
    assert (delivered.supplied_at, unfilled.supplied_at) == (at(1, 3), None)
