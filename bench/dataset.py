"""The benchmark's data set: readers, requests with history and fee lines, ledger entries,
notices and audit entries, generated here and loaded with PostgreSQL's COPY.

Built once per scale in its own database (BENCH_DATABASE_URL) and reused while the marker table
`bench_dataset` says it was built at the scale asked for; any other scale rebuilds it. The
schema comes from `manage.py migrate`; the loader drops the tables' plain indexes, copies the
rows with foreign-key triggers off (the rows are made consistent here), then builds the indexes
again and analyses the tables, which is how a bulk load is done quickly.

    python bench/dataset.py --readers 100000 --requests 2000000
"""

import argparse
import datetime
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg2

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/bench"

# Who the benchmark signs in as (bench/run.py): a reader with a few requests, one with many,
# and a member of staff. Their passwords are never used: the runner makes their sessions.
SMALL_READER, BIG_READER, SUBMITTING_READER = 1, 2, 3
SMALL_COUNT, BIG_COUNT = 20, 3000
STAFF_USERNAME = "bench-staff"

EPOCH = datetime.datetime(2021, 1, 1, tzinfo=datetime.UTC)
SPAN_DAYS = 5 * 365

CLOSED = [
    ("delivered", 45),
    ("returned", 20),
    ("unfilled", 10),
    ("cancelled", 15),
    ("expired", 10),
]
OPEN = [
    ("submitted", 40),
    ("in_process", 40),
    ("awaiting_cost_approval", 10),
    ("awaiting_payment", 10),
]
DOC_TYPES = ["journal_article"] * 6 + [
    "book",
    "book_chapter",
    "conference_paper",
    "thesis",
    "report",
]

SYLLABLES = [a + b for a in "bcdfghklmnprstvz" for b in "aeiou"] + [
    "tion",
    "ment",
    "ics",
    "ology",
    "ance",
]
CHINESE = (
    "研究分析方法理论系统数据网络模型结构设计应用发展技术管理"
    "教育文化历史经济社会环境材料化学物理生物医学信息"
)
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华"


def bench_url() -> str:
    return os.environ.get("BENCH_DATABASE_URL", DEFAULT_URL)


def _connect(url):
    connection = psycopg2.connect(url)
    connection.autocommit = True
    return connection


def ensure_database(url: str) -> None:
    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    admin = _connect(urlunsplit(parts._replace(path="/postgres")))
    with admin.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
        if cursor.fetchone() is None:
            cursor.execute(f'CREATE DATABASE "{name}"')
    admin.close()


def built_scale(url: str):
    """The (readers, requests) the database holds a complete data set for, or None."""
    try:
        connection = _connect(url)
    except psycopg2.OperationalError:
        return None
    with connection.cursor() as cursor:
        cursor.execute("SELECT to_regclass('bench_dataset')")
        if cursor.fetchone()[0] is None:
            return None
        cursor.execute("SELECT readers, requests FROM bench_dataset WHERE complete")
        row = cursor.fetchone()
    connection.close()
    return tuple(row) if row else None


def manage(url: str, *args: str) -> None:
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "DJANGO_SETTINGS_MODULE": "bench.settings",
        "BENCH_DATABASE_URL": url,
    }
    subprocess.run([sys.executable, str(ROOT / "manage.py"), *args], cwd=ROOT, env=env, check=True)


def migrate(url: str) -> None:
    manage(url, "migrate", "--no-input", "-v0")
    manage(url, "createcachetable")


class Stream:
    """A file-like object over a generator of text lines, for COPY FROM STDIN."""

    def __init__(self, lines):
        self.lines = lines
        self.buffer = b""

    def read(self, size=-1):
        chunks, length = [self.buffer], len(self.buffer)
        for line in self.lines:
            data = line.encode()
            chunks.append(data)
            length += len(data)
            if length >= size > 0:
                break
        data = b"".join(chunks)
        if size > 0:
            self.buffer, data = data[size:], data[:size]
        else:
            self.buffer = b""
        return data

    readline = read


def _word(rng):
    return "".join(rng.choice(SYLLABLES) for _ in range(rng.randint(2, 4)))


def _pools(rng):
    words = sorted({_word(rng) for _ in range(6000)})
    journals = [
        f"Journal of {rng.choice(words).title()} {rng.choice(words).title()}" for _ in range(2000)
    ]
    journals += [
        "".join(rng.choice(CHINESE) for _ in range(rng.randint(4, 8))) + "学报" for _ in range(500)
    ]
    titles = [" ".join(rng.choice(words) for _ in range(rng.randint(4, 9))) for _ in range(30000)]
    titles += ["".join(rng.choice(CHINESE) for _ in range(rng.randint(8, 20))) for _ in range(5000)]
    names = [rng.choice(SURNAMES) + rng.choice(GIVEN) + rng.choice(GIVEN) for _ in range(3000)]
    return words, journals, titles, names


def _ts(seconds: float) -> str:
    return (EPOCH + datetime.timedelta(seconds=seconds)).isoformat()


def _weighted(rng, table):
    total = sum(weight for _, weight in table)
    pick = rng.random() * total
    for value, weight in table:
        pick -= weight
        if pick < 0:
            return value
    return table[-1][0]


class Plan:
    """Who owns which request, and each request's status: decided once, read by every table."""

    def __init__(self, readers: int, requests: int, seed: int = 12):
        self.readers, self.requests = readers, requests
        self.rng = random.Random(seed)
        self.words, self.journals, self.titles, self.names = _pools(self.rng)
        self.small_count = max(1, min(SMALL_COUNT, requests // 10))
        self.big_count = max(1, min(BIG_COUNT, requests // 4))
        self.small_every = requests // self.small_count
        self.big_every = requests // self.big_count
        self.step = SPAN_DAYS * 86400 / requests

    def reader_of(self, rng, i):
        if i % self.small_every == 0 and i // self.small_every <= self.small_count:
            return SMALL_READER
        if i % self.big_every == 1 and i // self.big_every < self.big_count:
            return BIG_READER
        return rng.randint(3, self.readers) if self.readers >= 3 else BIG_READER

    def status_of(self, rng, i):
        # The oldest requests are finished; the newest 2% are still open.
        return _weighted(rng, CLOSED if i < self.requests * 0.98 else OPEN)


# The empty value of a column the rows below do not name, by its SQL type.
EMPTY = {
    "character varying": "''",
    "text": "''",
    "boolean": "false",
    "smallint": "0",
    "integer": "0",
    "bigint": "0",
    "numeric": "0",
    "jsonb": "'{}'",
}


def _esc(text: str) -> str:
    return text.replace("\\", "\\\\").replace("\t", " ").replace("\n", " ")


def users_rows(plan):
    now = _ts(SPAN_DAYS * 86400)
    yield f"1\t!\t\\N\tt\t{STAFF_USERNAME}\tBench\tStaff\tstaff@bench.example\tt\tt\t{now}\n"
    for reader in range(1, plan.readers + 1):
        yield (
            f"{reader + 1}\t!\t\\N\tf\treader{reader}\t\t\treader{reader}@bench.example\t"
            f"f\tt\t{_ts(reader)}\n"
        )


def readers_rows(plan):
    rng = random.Random(1)
    for reader in range(1, plan.readers + 1):
        status = (
            "confirmed"
            if reader <= 2
            else _weighted(rng, [("confirmed", 95), ("pending", 4), ("rejected", 1)])
        )
        kind = rng.choice(["campus", "campus", "off_campus", "individual"])
        name = rng.choice(plan.names) + str(reader)
        decided = _ts(reader * 10 + 3600) if status != "pending" else "\\N"
        decided_by = "1" if status != "pending" else "\\N"
        yield (
            f"{reader}\t{kind}\t{status}\t{name}\treader{reader}@bench.example\tstudent_card\t"
            f"S{reader:08d}\t1380000{reader % 10000:04d}\t\t\t{rng.choice(plan.journals)[:40]}\t"
            f"\t{_ts(reader * 10)}\t{decided}\t\t{decided_by}\t{reader + 1}\tzh-hans\t"
            # Each has answered the old-account question (or the board would send them to it).
            f"\t{_ts(reader * 10 + 60)}\n"
        )


def accounts_rows(plan):
    for reader in range(1, plan.readers + 1):
        yield f"{reader}\t1000.00\t{_ts(reader)}\t{reader}\n"


REQUEST_COLUMNS = (
    "id, number, status, origin, submission_token, submitted_at, updated_at, service_type, "
    "document_type, author, publication_title, volume_issue, edition, article_title, place, "
    "publisher, year, pages, issn, isbn, doi, calis_oid, language, valid_until, "
    "delivery_method, contact_method, max_cost, urgency, user_reference, fee_pages, "
    "holding_library, contact_name, contact_address, contact_postal_code, contact_email, "
    "contact_fax, contact_phone, remarks, quote, return_date, cancellation_requested, "
    "title_key, reader_id, legacy_account_id, legacy_fingerprint, supplier_number, supplied_at, "
    "is_guest, guest_session, guest_link_nonce, guest_language, guest_client"
)


def requests_and_children(plan, sinks):
    """One pass over the requests, writing their history, fee lines, ledger charges, notices
    and audit entries to the other sinks' lists as it goes (drained by the caller)."""
    rng = random.Random(2)
    titles, journals = plan.titles, plan.journals
    for i in range(1, plan.requests + 1):
        reader = plan.reader_of(rng, i)
        status = plan.status_of(rng, i)
        at = i * plan.step
        submitted = _ts(at)
        service = (
            "loan"
            if status in ("returned", "on_loan")
            else ("copy" if status == "delivered" else rng.choice(["copy", "copy", "loan"]))
        )
        doc = rng.choice(DOC_TYPES) if service == "copy" else "book"
        title = titles[rng.randrange(len(titles))]
        journal = journals[rng.randrange(len(journals))]
        article = title if doc != "book" else ""
        urgent = rng.random() < 0.1
        valid = (EPOCH + datetime.timedelta(seconds=at, days=60)).date().isoformat()
        issn = f"{i % 10000:04d}-{i % 1000:03d}X" if doc == "journal_article" else ""
        doi = f"10.{1000 + i % 9000}/bench.{i}" if doc == "journal_article" else ""
        # When the document reached the reader (the statistics' turnaround), as the lifecycle does.
        supplied = _ts(at + 2 * 86400) if status in ("delivered", "returned", "on_loan") else "\\N"
        yield (
            f"{i}\t{i}\t{status}\tgateway\t\\N\t{submitted}\t{submitted}\t{service}\t{doc}\t"
            f"Author {i % 997}\t{_esc(journal if doc != 'book' else title)}\t{i % 40}({i % 12})\t"
            f"\t{_esc(article)}\t\t\t{2000 + i % 25}\t1-{1 + i % 30}\t{issn}\t\t{doi}\t\t\t"
            f"{valid}\temail\temail\t50.00\t{'urgent' if urgent else 'normal'}\t\t\\N\t\t"
            f"\t\t\treader{reader}@bench.example\t\t13800000000\t\t\\N\t\\N\tf\t"
            f"{_esc((article or title).lower())[:255]}\t{reader}\t\\N\t\t\t{supplied}\tf\t\t\t\t\n"
        )
        history, fees, ledger, notices, audit = sinks
        history.append(f"\t{submitted}\t\tsubmitted\t\tt\t\\N\t{i}\t\t{{}}\n")
        later = at + 86400
        if status != "submitted":
            if status not in ("cancelled", "expired"):
                history.append(f"\t{_ts(later)}\tsubmitted\tin_process\t\tt\t1\t{i}\t\t{{}}\n")
            if status not in ("in_process",):
                event = "expired" if status == "expired" else ""
                params = json.dumps({"date": valid}) if event else "{}"
                actor = "\\N" if status in ("expired", "cancelled") else "1"
                frm = "submitted" if status in ("cancelled", "expired") else "in_process"
                history.append(
                    f"\t{_ts(later + 86400)}\t{frm}\t{status}\t\tt\t{actor}\t{i}\t{event}\t"
                    f"{params}\n"
                )
            notices.append((reader, i, status, _ts(later + 86400)))
        if status in ("delivered", "returned"):
            amount = 10 + i % 40
            fees.append(f"\tsupplier\t{amount}.00\t\t{_ts(later)}\t{i}\n")
            if urgent:
                fees.append(f"\turgent\t10.00\t\t{_ts(later)}\t{i}\n")
            if i % 3 == 0:
                ledger.append((reader, i, -amount, _ts(later + 86400), title[:200]))
        if i % 7 == 0:
            audit.append((i, _ts(later + 3600), journal))


def load(url: str, readers: int, requests: int, *, out=print) -> None:
    started = time.monotonic()
    ensure_database(url)
    connection = _connect(url)
    with connection.cursor() as cursor:
        cursor.execute("DROP SCHEMA public CASCADE; CREATE SCHEMA public")
    out(f"Building the data set: {readers} readers, {requests} requests in {url}")
    migrate(url)
    plan = Plan(readers, requests)
    cursor = connection.cursor()
    cursor.execute("SET session_replication_role = replica")
    cursor.execute("SET maintenance_work_mem = '256MB'")
    big = [
        "auth_user",
        "readers_reader",
        "accounts_account",
        "requests_app_illrequest",
        "requests_app_statuschange",
        "requests_app_feeline",
        "accounts_ledgerentry",
        "readers_notice",
        "auditlog_logentry",
    ]
    cursor.execute(
        """SELECT i.indexname, i.indexdef FROM pg_indexes i
           WHERE i.tablename = ANY(%s) AND i.schemaname = 'public'
           AND i.indexname NOT IN (SELECT conname FROM pg_constraint)""",
        [big],
    )
    indexes = cursor.fetchall()
    for name, _definition in indexes:
        cursor.execute(f'DROP INDEX "{name}"')
    cursor.execute("SELECT model, id FROM django_content_type WHERE app_label = 'requests_app'")
    content_types = dict(cursor.fetchall())

    def copy(table, columns, lines):
        t0 = time.monotonic()
        # A column added to the model since these rows were written (NOT NULL, no default in
        # the database, as Django makes them) takes its empty value for the copy's length.
        cursor.execute(
            """SELECT column_name, data_type FROM information_schema.columns
               WHERE table_schema = 'public' AND table_name = %s AND is_nullable = 'NO'
                 AND column_default IS NULL AND is_identity = 'NO'""",
            [table],
        )
        listed = {column.strip() for column in columns.split(",")}
        added = [(c, EMPTY[t]) for c, t in cursor.fetchall() if c not in listed and t in EMPTY]
        for column, empty in added:
            cursor.execute(f'ALTER TABLE {table} ALTER COLUMN "{column}" SET DEFAULT {empty}')
        cursor.copy_expert(f"COPY {table} ({columns}) FROM STDIN", Stream(lines), size=1 << 18)
        for column, _empty in added:
            cursor.execute(f'ALTER TABLE {table} ALTER COLUMN "{column}" DROP DEFAULT')
        out(f"  {table}: {time.monotonic() - t0:.1f} s")

    copy(
        "auth_user",
        "id, password, last_login, is_superuser, username, first_name, last_name, email, "
        "is_staff, is_active, date_joined",
        users_rows(plan),
    )
    copy(
        "readers_reader",
        "id, reader_type, status, name, email, id_type, id_number, phone, address, postal_code,"
        " institution, campus_id, created_at, decided_at, rejection_reason, decided_by_id, "
        "user_id, language, affiliation, legacy_choice_at",
        readers_rows(plan),
    )
    copy("accounts_account", "id, balance, updated_at, reader_id", accounts_rows(plan))

    history, fees, ledger, notices, audit = [], [], [], [], []
    history_file, fee_file = _Spool("history"), _Spool("fees")

    def requests_lines():
        for line in requests_and_children(plan, (history, fees, ledger, notices, audit)):
            yield line
            if len(history) > 50000:
                history_file.write(history)
                fee_file.write(fees)

    copy("requests_app_illrequest", REQUEST_COLUMNS, requests_lines())
    history_file.write(history)
    fee_file.write(fees)
    history_columns = (
        "at, from_status, to_status, note, visible_to_reader, actor_id, request_id, event, params"
    )
    copy("requests_app_statuschange", history_columns, history_file.lines(strip_first=True))
    copy(
        "requests_app_feeline",
        "kind, amount, note, created_at, request_id",
        fee_file.lines(strip_first=True),
    )

    def ledger_lines():
        number = 0
        for reader in range(1, readers + 1):
            number += 1
            yield (
                f"{number}\t{_ts(reader * 10 + 7200)}\tdeposit\t1000.00\t1000.00\tcash\t\\N\t\t"
                f"\t\\N\t1\t{reader}\n"
            )
        for reader, request, amount, at, title in ledger:
            number += 1
            yield (
                f"{number}\t{at}\tcharge\t{amount}.00\t{1000 + amount}.00\t\t{request}\t"
                f"{_esc(title)}\t\t\\N\t1\t{reader}\n"
            )
        cursor_sequences.append(("accounts_ledgercounter", number))

    cursor_sequences = []
    copy(
        "accounts_ledgerentry",
        "number, at, kind, amount, balance_after, method, request_number, request_title, note, "
        "submission_token, actor_id, reader_id",
        ledger_lines(),
    )

    def notice_lines():
        for k in range(10):
            yield (
                f"公告 {k}\tNotice {k}\t正文\tBody\t{_ts(k * 86400)}\t\\N\t{'t' if k == 0 else 'f'}"
                f"\t\\N\t\\N\t\n"
            )
        # One per request, on the request's topic, as notice_send keeps them (the latest change).
        for reader, number, status, at in notices:
            yield (
                f"申请 {number}：{status}\tRequest {number}: {status}\t状态已更新\t"
                f"The status changed\t{at}\t\\N\tf\t\\N\t{reader}\trequest:{number}\n"
            )

    copy(
        "readers_notice",
        "title_zh, title_en, body_zh, body_en, publish_at, end_at, pinned, read_at, reader_id, "
        "topic",
        notice_lines(),
    )

    def audit_lines():
        ct = content_types["illrequest"]
        for number, at, journal in audit:
            changes = json.dumps({"remarks": ["", f"checked {number}"]})
            yield (
                f"{number}\t{number}\t{_esc(journal)[:80]}\t1\t{changes}\t{at}\t1\t{ct}\t"
                f"127.0.0.1\t\\N\t\\N\t\\N\tremarks\t\\N\tstaff@bench.example\n"
            )

    copy(
        "auditlog_logentry",
        "object_pk, object_id, object_repr, action, changes, timestamp, actor_id, "
        "content_type_id, remote_addr, additional_data, serialized_data, cid, changes_text, "
        "remote_port, actor_email",
        audit_lines(),
    )

    cursor.execute(
        "INSERT INTO requests_app_requestnumbercounter (id, last) VALUES (1, %s) "
        "ON CONFLICT (id) DO UPDATE SET last = EXCLUDED.last",
        [requests],
    )
    for table, last in cursor_sequences:
        cursor.execute(
            f"INSERT INTO {table} (id, last) VALUES (1, %s) "
            "ON CONFLICT (id) DO UPDATE SET last = EXCLUDED.last",
            [last],
        )
    t0 = time.monotonic()
    for _name, definition in indexes:
        cursor.execute(definition)
    out(f"  indexes: {time.monotonic() - t0:.1f} s")
    for table in big:
        cursor.execute(
            f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
            f"(SELECT COALESCE(MAX(id), 1) FROM {table}))"
        )
    cursor.execute("SET session_replication_role = DEFAULT")
    t0 = time.monotonic()
    cursor.execute("VACUUM ANALYZE")
    out(f"  vacuum analyze: {time.monotonic() - t0:.1f} s")
    cursor.execute(
        "CREATE TABLE bench_dataset (readers integer, requests integer, built_at timestamptz, "
        "complete boolean)"
    )
    cursor.execute("INSERT INTO bench_dataset VALUES (%s, %s, now(), true)", [readers, requests])
    connection.close()
    history_file.close()
    fee_file.close()
    out(f"Data set built in {time.monotonic() - started:.0f} s")


class _Spool:
    """Rows of a child table kept on disk until their parents are loaded."""

    def __init__(self, name):
        self.file = tempfile.TemporaryFile(mode="w+", prefix=f"bench-{name}-")  # noqa: SIM115

    def write(self, rows):
        self.file.writelines(rows)
        rows.clear()

    def lines(self, strip_first=False):
        self.file.seek(0)
        for line in self.file:
            # The id column is left to the sequence: the leading tab goes.
            yield line[1:] if strip_first else line

    def close(self):
        self.file.close()


def vacuum(url: str, *, out=print) -> None:
    """VACUUM ANALYZE before measuring a reused data set, as autovacuum would have done.

    Migrations and earlier runs (the submissions, a data migration updating rows) leave dead
    rows and pages not marked all-visible; where autovacuum is off or behind (development
    servers), a reader's list would then read thousands of heap pages for its count instead of
    an index-only scan, and measure a stale table. Quick when nothing changed since the last
    vacuum (all-visible pages are skipped).
    """
    connection = _connect(url)
    t0 = time.monotonic()
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")
    connection.close()
    out(f"  vacuum analyze: {time.monotonic() - t0:.1f} s")


def ensure(readers: int, requests: int, *, url: str | None = None, rebuild=False, out=print):
    """The data set at this scale, built if missing; migrations applied either way."""
    url = url or bench_url()
    if not rebuild and built_scale(url) == (readers, requests):
        out(f"Reusing the data set in {url} ({readers} readers, {requests} requests)")
        migrate(url)
        vacuum(url, out=out)
        return url
    load(url, readers, requests, out=out)
    return url


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--readers", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=2_000_000)
    parser.add_argument("--rebuild", action="store_true")
    args = parser.parse_args(argv)
    ensure(args.readers, args.requests, rebuild=args.rebuild)


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    main()
