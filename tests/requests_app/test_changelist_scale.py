"""The admin's change lists at millions of rows (issue 12, item 2).

Speed itself is measured by `make bench` (README, "Benchmarks"), never by a timed test. What
is tested here is what makes them fast: a constant number of queries whatever the rows, no
count of the whole table, no `date_hierarchy`, searches that use their index (a number exactly,
never OR'ed with a scan of the titles), trigram indexes on PostgreSQL.
"""

import datetime
from decimal import Decimal

import pytest
from django.contrib import admin
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from accounts.ledger import ledger_record
from accounts.legacy import LegacyAccount
from core import adminbase
from core.adminbase import EstimatedCountPaginator, GatewayAdminMixin
from requests_app.admin import IllRequestAdmin
from requests_app.models import IllRequest, Status, StatusChange
from tests.factories import FeeLineFactory, IllRequestFactory, NoticeFactory, ReaderFactory

pytestmark = pytest.mark.django_db

REQUESTS = reverse("admin:requests_app_illrequest_changelist")
PAGES = {
    "requests": REQUESTS,
    **{f"requests {s}": f"{REQUESTS}?status__exact={s}" for s in Status.values},
    "requests cancellation asked": f"{REQUESTS}?cancellation_requested__exact=1",
    "requests overdue": f"{REQUESTS}?overdue=yes",
    "requests past 7 days": f"{REQUESTS}?submitted_at_since=7d",
    "requests by number": f"{REQUESTS}?q=100007",
    "requests by ISSN": f"{REQUESTS}?q=0264-1615",
    "requests by DOI": f"{REQUESTS}?q=10.1000/x1",
    "requests by title": f"{REQUESTS}?q=Licence",
    "readers": reverse("admin:readers_reader_changelist"),
    "readers by name": reverse("admin:readers_reader_changelist") + "?q=Scale",
    "registrations": reverse("admin:readers_registrationtoconfirm_changelist"),
    "notices": reverse("admin:readers_notice_changelist"),
    "notices by title": reverse("admin:readers_notice_changelist") + "?q=Notice",
    "balances": reverse("admin:accounts_account_changelist"),
    "ledger entries": reverse("admin:accounts_ledgerentry_changelist"),
    "ledger entries by number": reverse("admin:accounts_ledgerentry_changelist") + "?q=3",
    "ledger entries past 30 days": reverse("admin:accounts_ledgerentry_changelist")
    + "?at_since=30d",
    "audit log": reverse("admin:auditlog_logentry_changelist"),
}
# The queries of each page on SQLite; on PostgreSQL the count is two queries (a bounded count
# and the planner's estimate), one more. The same for 2 rows as for 25.
# The request lists one more: the supplier filter's choices.
QUERIES = {name: 6 if name.startswith("requests") else 5 for name in PAGES} | {
    # The readers the text names, and an old system's account by that username: one each.
    "requests by title": 8,
    "notices by title": 6,
}


def populate(count, staff):
    """`count` of everything each change list shows, each request with fees and history."""
    for i in range(count):
        reader = ReaderFactory(name=f"Scale Reader {i}")
        ill_request = IllRequestFactory(reader=reader, doi=f"10.1000/x{i}")
        FeeLineFactory(request=ill_request)
        StatusChange.objects.create(request=ill_request, actor=staff, to_status="submitted")
        NoticeFactory(reader=reader)
        ledger_record(
            reader=reader, kind="deposit", amount=Decimal("10"), actor=staff, method="cash"
        )


@pytest.mark.parametrize("rows", [2, 25])
@pytest.mark.parametrize("name", list(PAGES))
def test_each_change_list_makes_the_same_queries_whatever_its_rows(
    client_staff, staff, name, rows, django_assert_num_queries
):
    populate(rows, staff)
    client_staff.get(PAGES[name])  # session, content types and the like, once
    expected = QUERIES[name] + (1 if connection.vendor == "postgresql" else 0)
    with django_assert_num_queries(expected):
        response = client_staff.get(PAGES[name])
    assert response.status_code == 200


def test_no_admin_lists_dates_by_date_hierarchy():
    # DISTINCT DATE_TRUNC over every row: replaced by recent_date_filter everywhere.
    for model, model_admin in admin.site._registry.items():
        assert not model_admin.date_hierarchy, model
        if isinstance(model_admin, GatewayAdminMixin):
            assert model_admin.show_full_result_count is False, model
            assert model_admin.paginator is EstimatedCountPaginator, model


def test_the_date_filter_keeps_recent_requests(client_staff):
    old = IllRequestFactory(submitted_at=timezone.now() - datetime.timedelta(days=40))
    new = IllRequestFactory()
    response = client_staff.get(REQUESTS + "?submitted_at_since=7d")
    assert list(response.context["cl"].result_list) == [new]
    response = client_staff.get(REQUESTS + "?submitted_at_since=year")
    assert old not in response.context["cl"].result_list or old.submitted_at.year == (
        timezone.localdate().year
    )


def found(client, term):
    response = client.get(REQUESTS, {"q": term})
    assert response.status_code == 200
    return set(response.context["cl"].result_list)


class TestTheRequestSearch:
    def test_a_number_finds_that_request_only_not_titles_containing_it(self, client_staff):
        wanted = IllRequestFactory(number=4242)
        IllRequestFactory(article_title="The 4242 problem")
        assert found(client_staff, "4242") == {wanted}
        assert found(client_staff, "４２４２") == {wanted}  # typed with a Chinese input method

    def test_a_number_query_is_an_equality_on_the_number(self, client_staff):
        IllRequestFactory(number=4242)
        with CaptureQueriesContext(connection) as captured:
            client_staff.get(REQUESTS, {"q": "4242"})
        rows = [
            q["sql"] for q in captured.captured_queries if "requests_app_illrequest" in q["sql"]
        ]
        assert rows and all("LIKE" not in sql for sql in rows)
        assert all('"number" = 4242' in sql for sql in rows)

    def test_issn_isbn_and_doi_exactly(self, client_staff):
        article = IllRequestFactory(issn="1234-5678", doi="10.1000/abc.1")
        book = IllRequestFactory(issn="", document_type="book", isbn="9787111111110")
        IllRequestFactory(issn="0264-1615")
        assert found(client_staff, "1234-5678") == {article}
        assert found(client_staff, "10.1000/abc.1") == {article}
        assert found(client_staff, "978-7-111-11111-0") == {book}

    def test_a_doi_in_any_case_or_as_a_link(self, client_staff):
        # DOIs are case-insensitive (DOI Handbook 2.4): staff paste what the reader's citation
        # or the publisher's page shows, which is not always how the reader typed it.
        article = IllRequestFactory(doi="10.1002/anie.201915678")
        IllRequestFactory(doi="10.1002/anie.201915679")
        for term in [
            "10.1002/ANIE.201915678",
            "https://doi.org/10.1002/Anie.201915678",
            "doi:10.1002/anie.201915678",
        ]:
            assert found(client_staff, term) == {article}, term

    def test_text_finds_titles_and_readers(self, client_staff):
        by_title = IllRequestFactory(article_title="Quantum gravity for librarians")
        reader = ReaderFactory(name="王小明", user__username="wxm2024")
        by_reader = IllRequestFactory(reader=reader)
        IllRequestFactory(article_title="Something else")
        assert found(client_staff, "quantum GRAVITY") == {by_title}
        assert found(client_staff, "小明") == {by_reader}
        assert found(client_staff, "wxm2024") == {by_reader}
        assert found(client_staff, reader.email) == {by_reader}

    def test_an_old_request_not_linked_yet_by_its_old_username(self, client_staff):
        account = LegacyAccount.objects.create(
            user_id=77,
            username="OldUser",
            name="旧用户",
            balance=0,
            status="active",
            created_at=timezone.now(),
        )
        old = IllRequestFactory(
            reader=None,
            origin="legacy",
            legacy_account=account,
            contact_name="旧用户",
            contact_email="old@example.org",
        )
        assert found(client_staff, "olduser") == {old}


@pytest.mark.skipif(connection.vendor != "postgresql", reason="counts are estimated on PostgreSQL")
class TestCountsOnPostgresql:
    def test_a_long_list_is_not_counted_row_by_row(self, client_staff, monkeypatch):
        IllRequestFactory.create_batch(8)
        monkeypatch.setattr(adminbase, "EXACT_COUNT_UP_TO", 5)
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE requests_app_illrequest")
        with CaptureQueriesContext(connection) as captured:
            response = client_staff.get(REQUESTS)
        counts = [q["sql"] for q in captured.captured_queries if "COUNT(" in q["sql"].upper()]
        # Only the bounded count (LIMIT 6): never a COUNT(*) of the whole table.
        assert counts and all("LIMIT 6" in sql for sql in counts)
        assert any(q["sql"].startswith("EXPLAIN") for q in captured.captured_queries)
        assert response.context["cl"].result_count >= 6
        assert response.context["cl"].full_result_count is None

    def test_a_short_list_is_counted_exactly(self, client_staff):
        IllRequestFactory.create_batch(3)
        assert client_staff.get(REQUESTS).context["cl"].result_count == 3

    @pytest.mark.parametrize(
        ("table", "index", "condition"),
        [
            ("requests_app_illrequest", "illrequest_publication_title_trgm", "publication_title"),
            ("requests_app_illrequest", "illrequest_article_title_trgm", "article_title"),
            ("readers_reader", "reader_name_trgm", "name"),
            ("readers_reader", "reader_email_trgm", "email"),
        ],
    )
    def test_a_title_or_name_search_can_use_its_trigram_index(self, table, index, condition):
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL enable_seqscan = off")
            cursor.execute(
                f'EXPLAIN SELECT id FROM {table} WHERE UPPER("{condition}"::text) LIKE '
                "UPPER('%%gravity%%')"
            )
            plan = "\n".join(row[0] for row in cursor.fetchall())
        assert index in plan


def test_the_reader_list_computes_fee_totals_for_the_page_only(client_a, reader_a):
    """The fee subquery sits outside the page's LIMIT/OFFSET: 20 rows, not offset + 20."""
    client = client_a
    for i in range(45):
        FeeLineFactory(request=IllRequestFactory(reader=reader_a), amount=Decimal(i))
    with CaptureQueriesContext(connection) as captured:
        response = client.get(reverse("request_list"), {"page": 3})
    assert response.status_code == 200
    (page_sql,) = [q["sql"] for q in captured.captured_queries if "SUM(" in q["sql"].upper()]
    outer, _, inner = page_sql.partition(" IN (SELECT")
    assert "SUM(" in outer.upper() and "LIMIT" not in outer
    assert "LIMIT 5 OFFSET 40" in inner and "SUM(" not in inner.upper()
    shown = list(response.context["page_obj"].object_list)
    assert len(shown) == 5
    expected = IllRequest.objects.filter(reader=reader_a).order_by("-submitted_at", "-number")
    assert [r.pk for r in shown] == [r.pk for r in expected[40:]]
    assert all(r.total_fee == r.fee_lines.get().amount for r in shown)


def test_a_change_list_page_joins_only_its_own_rows(client_staff, monkeypatch):
    """The page's ids are chosen on the requests table alone; only they meet the readers."""
    monkeypatch.setattr(IllRequestAdmin, "list_per_page", 2)
    requests = IllRequestFactory.create_batch(3)
    with CaptureQueriesContext(connection) as captured:
        response = client_staff.get(REQUESTS, {"q": "Licence", "p": 2})
    assert list(response.context["cl"].result_list) == [requests[0]]
    (page_sql,) = [
        q["sql"]
        for q in captured.captured_queries
        if q["sql"].startswith('SELECT "requests_app_illrequest"."id", "requests_app_illrequest"')
    ]
    outer, _, inner = page_sql.partition(" IN (SELECT")
    assert "JOIN" in outer and "LIMIT" not in outer
    assert "LIMIT 1 OFFSET 2" in inner and "JOIN" not in inner and "LIKE" in inner


@pytest.mark.parametrize("page", [1, 3])
def test_the_reader_list_makes_the_same_queries_on_every_page(
    client_a, reader_a, page, django_assert_num_queries
):
    for ill_request in IllRequestFactory.create_batch(45, reader=reader_a):
        FeeLineFactory(request=ill_request)
    client_a.get(reverse("request_list"))  # session and the like, once
    # Session, user, reader, the count, the unread notices, the page with its fee totals.
    with django_assert_num_queries(6):
        response = client_a.get(reverse("request_list"), {"page": page})
    assert len(response.context["page_obj"].object_list) == (20 if page == 1 else 5)
