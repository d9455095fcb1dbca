"""The request table's indexes on PostgreSQL (issue 11: the legacy import's speed).

Every index is kept up on each insert and built again after a large first import, where the
builds are most of the time: an index that another one already answers is pure cost. These
tests read the indexes the migrations made (pg_index), not the models.
"""

import datetime

import pytest
from django.db import connection
from django.utils import timezone

from requests_app.admin import search_requests
from requests_app.models import IllRequest, Status
from requests_app.statistics import request_statistics
from tests.factories import IllRequestFactory, ReaderFactory

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's catalogue"),
]

TABLE = "requests_app_illrequest"


def indexes():
    """Each index of the table: name, method, unique, predicate, key columns, included ones."""
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT c.relname, am.amname, i.indisunique, pg_get_expr(i.indpred, i.indrelid),
                   i.indnkeyatts, i.indexprs IS NOT NULL,
                   ARRAY(SELECT pg_get_indexdef(i.indexrelid, k, true)
                         FROM generate_series(1, i.indnatts) AS k ORDER BY k),
                   pg_get_indexdef(i.indexrelid)
            FROM pg_index i
            JOIN pg_class c ON c.oid = i.indexrelid
            JOIN pg_am am ON am.oid = c.relam
            WHERE i.indrelid = %s::regclass
            """,
            [TABLE],
        )
        rows = cursor.fetchall()
    return [
        {
            "name": name,
            "method": method,
            "unique": unique,
            "predicate": predicate,
            "keys": columns[:key_count],
            "included": set(columns[key_count:]),
            "expression": expression,
            "definition": definition,
        }
        for name, method, unique, predicate, key_count, expression, columns, definition in rows
    ]


def test_no_pattern_ops_copy_that_no_query_uses():
    # Django's db_index on a CharField adds a varchar_pattern_ops copy for LIKE 'x%'; the
    # admin searches ISSN, ISBN and DOI exactly and titles by trigram, never by prefix.
    copies = [index["name"] for index in indexes() if "pattern_ops" in index["definition"]]
    assert copies == []


def test_no_index_is_the_beginning_of_another():
    # (submitted_at) beside (submitted_at, number): the longer one answers everything the
    # shorter one does, in the same order.
    plain = [
        index
        for index in indexes()
        if index["method"] == "btree" and not index["unique"] and not index["expression"]
    ]
    redundant = [
        (shorter["name"], longer["name"])
        for shorter in plain
        for longer in plain
        if shorter is not longer
        and shorter["predicate"] == longer["predicate"]
        and longer["keys"][: len(shorter["keys"])] == shorter["keys"]
        and shorter["included"] <= longer["included"] | set(longer["keys"])
    ]
    assert redundant == []


def test_the_exact_searches_and_the_statistics_still_have_their_index():
    by_name = {index["name"]: index for index in indexes()}
    assert by_name["illrequest_issn"]["keys"] == ["issn"]
    # The admin's DOI search and the reader's duplicate warning compare DOIs case-insensitively
    # (UPPER(doi) = UPPER(%s), Django's iexact on PostgreSQL).
    assert by_name["illrequest_doi"]["keys"] == ["upper(doi::text)"]
    assert by_name["illrequest_isbn"]["keys"] == ["isbn"]
    submitted = by_name["illrequest_submitted"]
    assert submitted["keys"] == ["submitted_at", "number"]
    assert submitted["included"] == {
        "status",
        "service_type",
        "supplier_id",
        "reader_id",
        "supplied_at",
    }


def test_the_doi_search_reads_its_index():
    IllRequestFactory(doi="10.1002/anie.201915678")
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        sql, params = search_requests(
            IllRequest.objects.all(), "10.1002/ANIE.201915678"
        ).query.sql_with_params()
        cursor.execute("EXPLAIN " + sql, params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "illrequest_doi" in plan, plan


def test_the_statistics_read_the_requests_on_the_date_index_alone():
    # A month so far is one range of dates (several months are OR'ed ranges, which PostgreSQL
    # reads with a bitmap of index scans when the table is large). Table scans are turned off so
    # the few rows here do not make one cheaper.
    reader = ReaderFactory()
    today = timezone.localdate()
    for day in range(1, today.day + 1):
        IllRequestFactory(
            reader=reader,
            status=Status.DELIVERED,
            submitted_at=timezone.make_aware(datetime.datetime(today.year, today.month, day)),
        )
    queries = []

    def keep(execute, sql, params, many, context):
        queries.append((sql, params))
        return execute(sql, params, many, context)

    with connection.execute_wrapper(keep):
        request_statistics(start=today.replace(day=1), end=today)
    reads = [(sql, params) for sql, params in queries if f'FROM "{TABLE}"' in sql]
    assert reads, "the statistics read no request"
    with connection.cursor() as cursor:
        for setting in ("enable_seqscan", "enable_bitmapscan"):
            cursor.execute(f"SET LOCAL {setting} = off")
        for sql, params in reads:
            cursor.execute("EXPLAIN " + sql, params)
            plan = "\n".join(row[0] for row in cursor.fetchall())
            assert "Index Only Scan using illrequest_submitted" in plan, sql + "\n" + plan
