"""The requests file on PostgreSQL: read and cleaned in one pass, `COPY`ed into a staging table,
then checked and written with set-based SQL (issue 11: the row-by-row path managed some 3,600
rows a second, cleaning in SQL some 8,000).

Same results as the row-by-row path in `legacy_import` (which SQLite and dry runs still use),
row for row, reject for reject:

1. The file is read as the row-by-row path reads it (`read_rows`: Python's csv module, each
   record's line, blank records skipped, a NUL or a wrong number of fields rejected).
2. Each row is cleaned in Python. A row of the plain shape of a correct export (ASCII numbers,
   dates from 1992 on — Shanghai kept summer time until 1991 —, labels spelled as the old
   system spells them, lengths within limits) by `plain_request`: a few pattern and dictionary
   look-ups giving, as text, what `clean_request` gives such a row. Any other row by
   `clean_request` itself, which rejects it with its reason or cleans it.
3. The cleaned rows, with their line and fingerprint, stream into a temporary table of typed
   columns through one `COPY`, which PostgreSQL parses while Python reads on; a few thousand
   rows are in memory at a time.
4. Duplicates (the first accepted row keeps the number), rows of unknown old accounts and
   numbers of gateway requests are rejected in SQL, each with its line.
5. The rest is written in batches, each in its own transaction: new requests with their fee
   line and imported history entry by one `INSERT … SELECT`, changed ones (another fingerprint)
   by one `UPDATE … FROM` that makes their fee line and entry again; unchanged ones are only
   counted.
"""

import contextlib
import functools
import io
import itertools
import operator
import re
from datetime import date

from django.db import connection, transaction

from .legacy_import import (
    DOC_TYPES,
    REQUEST_COLUMNS,
    REQUEST_STATUSES,
    REQUEST_UPDATE_FIELDS,
    SERVICES,
    TOTAL_FEE_NOTE,
    FileSummary,
    LegacyImport,
    RowError,
    cells_fingerprint,
    clean_request,
    copy_text,
    read_records,
)
from .models import NUMBER_MAX, Event, FeeKind, IllRequest, Origin, ServiceType
from .statuses import Status
from .validators import PAGES_MAX_LENGTH, VOLUME_ISSUE_MAX_LENGTH, normalize_title

SQL_BATCH_SIZE = 200_000
BULK_MIN = 100_000
# Memory PostgreSQL may take for one sort or hash of the staging table (per statement, within
# the import's own transactions), instead of spilling a million rows to disk.
WORK_MEM = "256MB"
# … and for building an index again after a large first import: a trigram index over a
# million titles builds a third faster with 1 GB than with 256 MB (the server gives it back
# when the index is built).
MAINTENANCE_WORK_MEM = "1GB"
# The statistics' counters (migration 0017) that a large first import bumps once, itself,
# instead of by a trigger that first copies every written row aside.
STATISTICS_TRIGGERS = ("statistics_request_insert", "statistics_request_update")

# The staging table: a cleaned row as text `COPY` reads, in this order (return_date "" for none).
CLEANED = [
    "number", "user_id", "service_type", "document_type", "publication_title",
    "article_title", "author", "volume_issue", "year", "pages", "issn", "isbn",
    "submitted_at", "status", "total_fee", "return_date", "holding_library", "title_key",
]  # fmt: skip
STAGING_TYPES = {"number": "int", "user_id": "int", "submitted_at": "timestamptz"}
STAGING_TYPES |= {"total_fee": "numeric(10, 2)"}

# The plain shape of request_no, user_id, year, issn, isbn, submitted_at, total_fee and
# return_date, joined by \x1f (which none of them holds): ASCII only (`[0-9]`, unlike `\d`,
# is no other script's digit), times from 1992 on.
_SHAPE = re.compile(
    "\x1f".join([
        r"[1-9][0-9]{0,9}",
        r"[1-9][0-9]{0,9}",
        r"[0-9]{0,4}",
        r"[0-9A-Za-z-]{0,9}",
        r"[0-9A-Za-z-]{0,40}",
        r"(?:199[2-9]|2[0-9]{3})-[0-9]{2}-[0-9]{2} (?:[01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9]",
        r"(?:[0-9]{1,8}(?:\.[0-9]{1,2})?)?",
        r"(?:[0-9]{4}-[0-9]{2}-[0-9]{2})?",
    ])
)  # fmt: skip
# A row with one of these needs its text escaped for COPY.
_NEEDS_ESCAPE = re.compile(r"[\t\n\r\\]")
# normalize_title of ASCII text: lower case, every character but a letter or digit a space.
_ASCII_SEPARATORS = str.maketrans({chr(c): " " for c in range(128) if not chr(c).isalnum()})
_LEADING_ARTICLES = frozenset({"the", "a", "an"})


@functools.lru_cache(maxsize=1 << 16)
def _real_day(text: str) -> bool:
    """Whether a YYYY-MM-DD is a day of the calendar (a few thousand distinct days a file)."""
    try:
        date.fromisoformat(text)
    except ValueError:
        return False
    return True


@functools.lru_cache(maxsize=1 << 14)
def title_key(title: str) -> str:
    """`normalize_title(title)[:255]`, without its per-character Unicode look-ups for ASCII
    (NFKC and case folding leave ASCII as `lower()` does; its letters and digits are its
    only characters of the categories L, M and N). Kept for the last titles seen: journal
    titles come again and again."""
    if not title.isascii():
        return normalize_title(title)[:255]
    words = title.lower().translate(_ASCII_SEPARATORS).split()
    if len(words) > 1 and words[0] in _LEADING_ARTICLES:
        words = words[1:]
    return " ".join(words)[:255]


def plain_request(cells) -> list | None:
    """The cleaned row (`CLEANED`, as text) if the row — its cells in `REQUEST_COLUMNS`'
    order — has the plain shape of a correct export, else None (`clean_request` then says what
    it is)."""
    (number, user_id, service, document, title, article, author, volume, year, pages, issn,
     isbn, submitted, status, fee, returned, supplier) = cells  # fmt: skip
    if not _SHAPE.fullmatch(
        f"{number}\x1f{user_id}\x1f{year}\x1f{issn}\x1f{isbn}\x1f{submitted}\x1f{fee}\x1f{returned}"
    ):
        return None
    service, document = SERVICES.get(service), DOC_TYPES.get(document)
    if service is None or document is None or status not in REQUEST_STATUSES:
        return None
    status = REQUEST_STATUSES[status]
    if status is None:  # 已完成
        status = Status.RETURNED if service == ServiceType.LOAN else Status.DELIVERED
    title, article, author = title.strip(), article.strip(), author.strip()
    volume, pages, supplier = volume.strip(), pages.strip(), supplier.strip()
    if not title or max(len(title), len(article), len(author), len(supplier)) > 255:
        return None
    if len(volume) > VOLUME_ISSUE_MAX_LENGTH or len(pages) > PAGES_MAX_LENGTH:
        return None
    if int(number) > NUMBER_MAX or int(user_id) > NUMBER_MAX or not _real_day(submitted[:10]):
        return None
    if returned and not _real_day(returned):
        return None
    isbn = isbn.replace("-", "").upper()
    if len(isbn) > 13:
        return None
    return [
        number, user_id, service, document, title, article, author, volume, year, pages,
        issn.upper(), isbn, submitted + "+08", status, fee or "0", returned, supplier,
        title_key(article or title),
    ]  # fmt: skip


def _lit(value) -> str:
    """A SQL literal of one of our own constants (labels and codes, never input); every
    statement is run with parameters, so a % is doubled."""
    return "'" + str(value).replace("'", "''").replace("%", "%%") + "'"


class CopyLegacyImport(LegacyImport):
    """`LegacyImport` whose requests file takes the set-based way on PostgreSQL.

    A file that brings at least `bulk_min` new requests, more than the table holds, is loaded
    the way PostgreSQL's manual advises for populating a database: the three tables' secondary
    indexes (not those behind a constraint) and foreign keys are dropped, the rows written in
    one go and the indexes and keys made again from their stored definitions, all in one
    transaction — keeping a few dozen indexes up and checking three keys row by row is most of
    the time of a large first import. A failure rolls back everything, indexes included; the
    requests tables wait for the import meanwhile (run a first import before readers use the
    gateway).
    """

    def __init__(self, *, bulk_min=BULK_MIN, **options):
        super().__init__(**options)
        self.bulk_min = bulk_min

    def requests(self, path, encoding, progress=None):
        if connection.vendor != "postgresql" or self.dry_run:
            return super().requests(path, encoding, progress)
        staging = _Staging(self.batch_size or SQL_BATCH_SIZE)
        summary = FileSummary(way="set-based (COPY)")
        try:
            staging.load(path, encoding, progress)
            staging.reject_duplicates()
            if staging.new_rows() >= max(self.bulk_min, _table_rows() + 1):
                summary.way = "set-based (COPY), indexes rebuilt after"
                with transaction.atomic(), _bulk_load():
                    staging.write_at_once(summary)
            else:
                staging.write(summary)
        finally:
            staging.drop()
        summary.rejected += len(staging.rejects)
        summary.rejects = sorted(staging.rejects)
        return summary


class _Stream(io.RawIOBase):
    """Lines from an iterator, read as COPY reads a file: `CHUNK` lines a read. An error
    while making them ends the input and is raised once COPY is done (`check`)."""

    CHUNK = 2000

    def __init__(self, lines):
        self.lines, self.error = lines, None

    def readable(self):
        return True

    def read(self, size=-1):
        try:
            return "".join(itertools.islice(self.lines, self.CHUNK)).encode()
        except Exception as error:  # noqa: BLE001 - raised again by check()
            self.error = error
            return b""

    def check(self):
        if self.error is not None:
            raise self.error


def _table_rows() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM requests_app_illrequest")
        return cursor.fetchone()[0]


BULK_TABLES = ("requests_app_illrequest", "requests_app_feeline", "requests_app_statuschange")


def _execute(sql, params=()):
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.rowcount


def _fetch(sql, params=()):
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


class _bulk_load:  # noqa: N801 - used as a context manager
    """Drop the tables' indexes but their primary keys, and their foreign keys, and turn the
    statistics triggers off; on the way out make them again and bump the statistics'
    counters of the months the staging table holds. Adding a foreign key checks every row
    with one join, where keeping it checks each new row on its own (some 15 µs a row, three
    rows a request); the insert trigger would first copy every written request aside. (Partial
    indexes go too: the history's `statuschange_closed_at` holds most imported entries.)"""

    def __enter__(self):
        _execute(f"SET LOCAL work_mem = '{WORK_MEM}'")
        # A table with checks still pending in this transaction cannot be altered.
        _execute("SET CONSTRAINTS ALL IMMEDIATE")
        self.indexes = _fetch(
            "SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid) "
            "FROM pg_index i WHERE i.indrelid = ANY(%s::regclass[]) AND NOT EXISTS "
            "(SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid) ORDER BY 1",
            [list(BULK_TABLES)],
        )
        self.foreign_keys = _fetch(
            "SELECT conrelid::regclass::text, quote_ident(conname), "
            "pg_get_constraintdef(oid) FROM pg_constraint "
            "WHERE contype = 'f' AND conrelid = ANY(%s::regclass[]) ORDER BY 1, 2",
            [list(BULK_TABLES)],
        )
        # Unique constraints no foreign key points at (the request number's): the staging
        # table holds each number once and none stored, and building the index checks again.
        self.uniques = _fetch(
            "SELECT conrelid::regclass::text, quote_ident(conname), pg_get_constraintdef(oid) "
            "FROM pg_constraint c WHERE contype = 'u' AND conrelid = ANY(%s::regclass[]) "
            "AND NOT EXISTS (SELECT 1 FROM pg_constraint f WHERE f.contype = 'f' "
            "AND f.conindid = c.conindid) ORDER BY 1, 2",
            [list(BULK_TABLES)],
        )
        for table, name, _definition in [*self.foreign_keys, *self.uniques]:
            _execute(f"ALTER TABLE {table} DROP CONSTRAINT {name}")
        for name, _definition in self.indexes:
            _execute(f"DROP INDEX {name}")
        self.triggers = [name for (name,) in _fetch(
            "SELECT tgname FROM pg_trigger WHERE tgrelid = 'requests_app_illrequest'::regclass "
            "AND tgname = ANY(%s) AND tgenabled <> 'D' ORDER BY 1",
            [list(STATISTICS_TRIGGERS)],
        )]  # fmt: skip
        for name in self.triggers:
            _execute(f"ALTER TABLE requests_app_illrequest DISABLE TRIGGER {name}")
        # The months the written requests had before (a changed one may move).
        _execute(
            "CREATE TEMPORARY TABLE legacy_months AS SELECT DISTINCT "
            "date_trunc('month', r.submitted_at AT TIME ZONE 'UTC')::date AS month "
            "FROM requests_app_illrequest r JOIN legacy_rq q ON q.number = r.number"
        )
        return self

    def __exit__(self, kind, *exc):
        if kind is None:
            if self.triggers:
                self._bump_months()
            for name in self.triggers:
                _execute(f"ALTER TABLE requests_app_illrequest ENABLE TRIGGER {name}")
            # Any deferred check first: an index is not built on a table with checks pending.
            _execute("SET CONSTRAINTS ALL IMMEDIATE")
            _execute(f"SET LOCAL maintenance_work_mem = '{MAINTENANCE_WORK_MEM}'")
            for table, name, definition in self.uniques:
                _execute(f"ALTER TABLE {table} ADD CONSTRAINT {name} {definition}")
            for _name, definition in self.indexes:
                _execute(definition)
            for table, name, definition in self.foreign_keys:
                _execute(f"ALTER TABLE {table} ADD CONSTRAINT {name} {definition}")
        return False

    def _bump_months(self):
        """What the two triggers would have done, for every month written (and a few more:
        an extra bump only makes the statistics count that month afresh)."""
        _execute(
            "INSERT INTO requests_app_statisticsversion (month, version) "
            "SELECT month, 1 FROM (SELECT month FROM legacy_months UNION "
            "SELECT date_trunc('month', submitted_at AT TIME ZONE 'UTC')::date FROM legacy_rq) "
            "AS changed(month) GROUP BY month ORDER BY month ON CONFLICT (month) DO UPDATE "
            "SET version = requests_app_statisticsversion.version + 1"
        )


class _Staging:
    def __init__(self, batch_size):
        self.batch_size = batch_size
        self.rejects = []  # (line, reason)

    def drop(self):
        for table in ("legacy_rq", "legacy_months"):
            _execute(f"DROP TABLE IF EXISTS {table}")

    # 1.-3. reading, cleaning, COPY

    def load(self, path, encoding, progress):
        self.drop()
        # Temporary tables live in the session's own buffers (8 MB by default, and only
        # settable before the session first touches one): a million rows would go to disk.
        with contextlib.suppress(Exception), transaction.atomic():
            _execute("SET temp_buffers = '512MB'")
        columns = ", ".join(f"{name} {STAGING_TYPES.get(name, 'text')}" for name in CLEANED)
        _execute(
            f"CREATE TEMPORARY TABLE legacy_rq (line bigint, {columns}, legacy_fingerprint text)"
        )
        stream = _Stream(self._lines(path, encoding, progress))
        with connection.cursor() as cursor, connection.wrap_database_errors:
            cursor.cursor.copy_expert(
                f"COPY legacy_rq (line, {', '.join(CLEANED)}, legacy_fingerprint) FROM STDIN",
                stream,
            )
        stream.check()

    def _lines(self, path, encoding, progress):
        """The cleaned rows in COPY's text format; rejects noted on the way."""
        records = read_records(path, encoding, REQUEST_COLUMNS, progress)
        header = next(records)
        # A name the header repeats: its last column, as a row's dict keeps it.
        where = {name: i for i, name in enumerate(header)}
        pick = operator.itemgetter(*(where[name] for name in REQUEST_COLUMNS))
        unique = len(where) == len(header)
        for line, record in records:
            if isinstance(record, RowError):
                self.rejects.append((line, str(record)))
                continue
            cells = record if unique else dict(zip(header, record, strict=True)).values()
            values = plain_request(pick(record))
            if values is None:
                try:
                    clean = clean_request(dict(zip(header, record, strict=True)))
                except RowError as error:
                    self.rejects.append((line, str(error)))
                    continue
                clean["title_key"] = title_key(clean["article_title"] or clean["publication_title"])
                values = [copy_text(clean[name]) for name in CLEANED]
            elif _NEEDS_ESCAPE.search("\x1f".join(cells)):
                values = [copy_text(value) for value in values]
            yield "\t".join([str(line), *values, cells_fingerprint(cells)]) + "\n"

    # 4. duplicates

    def reject_duplicates(self):
        """The first accepted row keeps a number; later ones are duplicates."""
        with transaction.atomic():
            _execute(f"SET LOCAL work_mem = '{WORK_MEM}'")
            for line, number in _fetch(
                "DELETE FROM legacy_rq q USING (SELECT number, min(line) AS first FROM legacy_rq "
                "GROUP BY number HAVING count(*) > 1) d "
                "WHERE q.number = d.number AND q.line > d.first RETURNING q.line, q.number"
            ):
                self.rejects.append((line, f"duplicate request_no {number}"))
        _execute("ANALYZE legacy_rq")

    def new_rows(self) -> int:
        """How many accepted rows have a number no stored request has (at most)."""
        return _fetch(
            "SELECT count(*) FROM legacy_rq q WHERE NOT EXISTS "
            "(SELECT 1 FROM requests_app_illrequest r WHERE r.number = q.number)"
        )[0][0]

    # 5. writing

    def write(self, summary):
        """In batches of accepted rows in file order, as the row-by-row path makes them."""
        starts = [
            line
            for (line,) in _fetch(
                "SELECT line FROM (SELECT line, row_number() OVER (ORDER BY line) AS k "
                "FROM legacy_rq) d WHERE mod(k - 1, %s) = 0 ORDER BY line",
                [self.batch_size],
            )
        ]
        for start, end in zip(starts, [*starts[1:], None], strict=True):
            with transaction.atomic():
                _execute(f"SET LOCAL work_mem = '{WORK_MEM}'")
                batch = "q.line >= %(start)s" + (" AND q.line < %(end)s" if end else "")
                self._write_batch(summary, batch, {"start": start, "end": end})

    def write_at_once(self, summary):
        self._write_batch(summary, "true", {})

    def _write_batch(self, summary, batch, params):
        """Check and write the staging rows that `batch` (SQL) selects."""
        for line, user_id in _fetch(
            f"DELETE FROM legacy_rq q WHERE {batch} AND NOT EXISTS (SELECT 1 FROM "
            "accounts_legacyaccount a WHERE a.user_id = q.user_id) RETURNING q.line, q.user_id",
            params,
        ):
            self.rejects.append((line, f"user_id {user_id} is no imported account"))
        for line, number in _fetch(
            f"DELETE FROM legacy_rq q USING requests_app_illrequest r WHERE {batch} "
            "AND r.number = q.number AND r.origin <> %(legacy)s RETURNING q.line, q.number",
            params | {"legacy": Origin.LEGACY},
        ):
            self.rejects.append((line, f"request_no {number} is a gateway request's number"))
        summary.unchanged += _execute(
            f"DELETE FROM legacy_rq q USING requests_app_illrequest r WHERE {batch} "
            "AND r.number = q.number AND r.legacy_fingerprint = q.legacy_fingerprint",
            params,
        )
        expressions = _request_expressions()
        later = {
            "fee_kind": FeeKind.OTHER,
            "fee_note": TOTAL_FEE_NOTE,
            "imported": Event.IMPORTED,
        }
        # Changed requests, their fee line and imported entry made again as the export says
        # now (every sub-statement sees the tables as they were before it: the old line and
        # entry go, the new ones come).
        assignments = ", ".join(
            f"{column} = {expression}"
            for column, expression in expressions.items()
            if column != '"number"'
        )
        summary.updated += _fetch(
            "WITH changed AS (UPDATE requests_app_illrequest r SET "
            f"{assignments} FROM legacy_rq q JOIN accounts_legacyaccount a "
            f"ON a.user_id = q.user_id WHERE {batch} AND r.number = q.number "
            "RETURNING r.id, q.total_fee, q.submitted_at, q.status), "
            "old_fees AS (DELETE FROM requests_app_feeline f USING changed c "
            "WHERE f.request_id = c.id AND f.note = %(fee_note)s), "
            "old_history AS (DELETE FROM requests_app_statuschange h USING changed c "
            "WHERE h.request_id = c.id AND h.event = %(imported)s), "
            f"{_FEES_AND_HISTORY.format(source='changed c')} SELECT count(*) FROM changed",
            params | later,
        )[0][0]
        # New requests with their fee line and first history entry; every other column takes
        # the model's default.
        defaults = _defaults()
        columns = [*expressions, '"updated_at"', *defaults]
        selected = [*expressions.values(), "now()"]
        selected += [f"%(default_{i})s" for i in range(len(defaults))]
        summary.created += _fetch(
            f"WITH created AS (INSERT INTO requests_app_illrequest ({', '.join(columns)}) "
            f"SELECT {', '.join(selected)} FROM legacy_rq q JOIN accounts_legacyaccount a "
            f"ON a.user_id = q.user_id WHERE {batch} AND NOT EXISTS (SELECT 1 FROM "
            "requests_app_illrequest r WHERE r.number = q.number) "
            "RETURNING id, number, submitted_at, status), "
            "with_fee AS (SELECT c.id, q.total_fee, c.submitted_at, c.status FROM created c "
            "JOIN legacy_rq q ON q.number = c.number), "
            f"{_FEES_AND_HISTORY.format(source='with_fee c')} SELECT count(*) FROM created",
            params | later | {f"default_{i}": value for i, value in enumerate(defaults.values())},
        )[0][0]


# A request's fee line (when its total fee is above 0) and imported history entry, from rows
# of (id, total_fee, submitted_at, status).
_FEES_AND_HISTORY = (
    "fees AS (INSERT INTO requests_app_feeline (request_id, kind, amount, note, created_at) "
    "SELECT c.id, %(fee_kind)s, c.total_fee, %(fee_note)s, c.submitted_at FROM {source} "
    "WHERE c.total_fee > 0), "
    "history AS (INSERT INTO requests_app_statuschange (request_id, at, actor_id, "
    "from_status, to_status, note, event, params, visible_to_reader) "
    "SELECT c.id, c.submitted_at, NULL, '', c.status, '', %(imported)s, '{{}}', true "
    "FROM {source})"
)


def _request_expressions() -> dict:
    """{quoted column: SQL} of the request columns the export gives, from the staging row
    `q` and its old account `a`."""
    computed = {
        "legacy_account_id": "a.id",
        "origin": _lit(Origin.LEGACY),
        "return_date": "nullif(q.return_date, '')::date",
        "contact_name": "left(a.name, 100)",
        "contact_email": "a.email",
        "contact_phone": "left(a.phone, 30)",
    }
    fields = {f.name: f for f in IllRequest._meta.concrete_fields}
    expressions = {}
    for name in ["number", *REQUEST_UPDATE_FIELDS]:
        field = fields[name]
        expressions[connection.ops.quote_name(field.column)] = computed.get(
            field.attname, f"q.{field.attname}"
        )
    return expressions


def _defaults() -> dict:
    """{quoted column: value} of the other columns of a new request: the model's defaults."""
    given = {"number", "updated_at", *REQUEST_UPDATE_FIELDS}
    blank = IllRequest()
    return {
        connection.ops.quote_name(field.column): field.get_db_prep_save(
            getattr(blank, field.attname), connection
        )
        for field in IllRequest._meta.concrete_fields
        if not field.primary_key and field.name not in given
    }
