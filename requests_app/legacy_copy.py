"""The requests file on PostgreSQL: `COPY` into a staging table, then clean, check and write
with set-based SQL (issue 11: the row-by-row path managed some 3,600 rows a second).

Same results as the row-by-row path in `legacy_import` (which SQLite, dry runs and any file
`COPY` cannot read still use), row for row, reject for reject:

1. The raw file is copied as it is (`FORMAT csv`, the file's own encoding) into a temporary
   table of text columns, one per header column, numbered in file order. Nothing is written to
   the gateway's tables yet: a file `COPY` refuses (wrong number of fields, bad bytes) or one
   holding what `COPY` reads differently from Python's csv module (a NUL, a `\\.` line) goes the
   row-by-row way instead.
2. One `INSERT … SELECT` cleans every row whose fields have the plain shape of a correct export
   (ASCII numbers and dates, known labels, lengths within limits) exactly as `clean_request`
   would, and computes the same fingerprint (`request_fingerprint`, MD5 of the raw fields).
   Every other row — a defect, full-width digits, a `¥`, a date before 1992 (Shanghai had
   summer time until 1991) — goes through `clean_request` itself, which rejects it with its
   reason or cleans it; so the SQL only ever has to agree with Python on
   plain rows. Titles outside ASCII get their duplicate-spotting key from `normalize_title`,
   once per distinct title.
3. Duplicates (the first accepted row keeps the number), rows of unknown old accounts and
   numbers of gateway requests are rejected in SQL, each with its file line: a record's line is
   its place in the file plus the line breaks inside the fields of the records before it.
4. The rest is written in batches, each in its own transaction: new requests, their fee line
   and their imported history entry by `INSERT … SELECT`; changed ones (another fingerprint) by
   `UPDATE … FROM`; unchanged ones are only counted.
"""

import bisect
import contextlib
import csv
import io
import re

from django.db import DatabaseError, connection, transaction

from .legacy_import import (
    DOC_TYPES,
    REQUEST_COLUMNS,
    REQUEST_STATUSES,
    REQUEST_UPDATE_FIELDS,
    SERVICES,
    TOTAL_FEE_NOTE,
    FileSummary,
    ImportFileError,
    LegacyImport,
    RowError,
    clean_request,
    copy_text,
)
from .models import Event, FeeKind, IllRequest, Origin
from .statuses import Status
from .validators import PAGES_MAX_LENGTH, VOLUME_ISSUE_MAX_LENGTH, normalize_title

# What Python's str.strip() and the \s of `re` remove: every character str.isspace() accepts.
PYTHON_SPACE = "".join(chr(c) for c in range(0x110000) if chr(c).isspace())
PG_ENCODINGS = {"utf-8-sig": "UTF8", "utf-8": "UTF8", "gb18030": "GB18030"}
SQL_BATCH_SIZE = 200_000
BULK_MIN = 100_000
# A line `\.` ends COPY's input; Python's csv module reads it as a one-field record. A quote
# inside an unquoted field is a quote to Python, the start of a quoted part to COPY (a correct
# file doubles every quote inside a quoted field, so a lone one never stands between others).
# (Each alternative starts with a literal, so the search skips ahead as fast as bytes.find.)
_UNSUITED = re.compile(rb'"(?<=[^,\r\n"]")(?=[^,\r\n"])|\\\.(?<=[\r\n]\\\.)(?=[\r\n]|$)')


class Unsuited(Exception):
    """The file has something COPY reads differently: use the row-by-row path."""


def _lit(value) -> str:
    """A SQL literal of one of our own constants (labels and codes, never input); every
    statement is run with parameters, so a % is doubled."""
    return "'" + str(value).replace("'", "''").replace("%", "%%") + "'"


def _case(expression: str, mapping: dict) -> str:
    whens = " ".join(f"WHEN {_lit(k)} THEN {_lit(v)}" for k, v in mapping.items())
    return f"CASE {expression} {whens} END"


def _valid_day(text: str) -> str:
    """SQL: the YYYY-MM-DD at the start of `text` (shape already checked) is a real day."""
    y, m, d = (f"substr({text}, {a}, {b})::int" for a, b in ((1, 4), (6, 2), (9, 2)))
    leap = f"(mod({y}, 4) = 0 AND (mod({y}, 100) <> 0 OR mod({y}, 400) = 0))"
    return (
        f"({y} >= 1 AND {d} <= CASE {m} WHEN 2 THEN CASE WHEN {leap} THEN 29 ELSE 28 END "
        f"WHEN 4 THEN 30 WHEN 6 THEN 30 WHEN 9 THEN 30 WHEN 11 THEN 30 ELSE 31 END)"
    )


class _Reading(io.RawIOBase):
    """The file as COPY reads it, telling the progress bar how far it got."""

    def __init__(self, path, progress):
        self.handle, self.progress, self.done = open(path, "rb"), progress, 0  # noqa: SIM115

    def readable(self):
        return True

    def read(self, size=-1):
        data = self.handle.read(size if size and size > 0 else 1 << 20)
        self.done += len(data)
        if self.progress:
            self.progress(self.done)
        return data

    def close(self):
        self.handle.close()
        super().close()


def _check_bytes(path):
    with open(path, "rb") as handle:
        tail = b""
        while chunk := handle.read(1 << 22):
            data = tail + chunk
            if b"\x00" in chunk or _UNSUITED.search(data):
                raise Unsuited
            tail = data[-4:]  # a match across two chunks is found in the next


def _header(path, encoding, columns):
    try:
        with open(path, encoding=encoding, newline="") as handle:
            reader = csv.reader(handle)
            header = next(reader)
            lines = reader.line_num
    except StopIteration:
        raise ImportFileError("empty file") from None
    except (UnicodeDecodeError, csv.Error):
        raise Unsuited from None
    header = [name.strip().lstrip("\ufeff") for name in header]
    missing = [name for name in columns if name not in header]
    if missing:
        raise ImportFileError("missing columns: " + ", ".join(missing))
    if lines != 1 or len(set(header)) != len(header):
        raise Unsuited
    return header


class CopyLegacyImport(LegacyImport):
    """`LegacyImport` whose requests file takes the set-based way on PostgreSQL.

    A file that brings at least `bulk_min` new requests, more than the table holds, is loaded
    the way PostgreSQL's manual advises for populating a database: the three tables' secondary
    indexes (not those behind a constraint) and foreign keys are dropped, the rows written and
    the indexes and keys made again from their stored definitions, all in one transaction —
    keeping a dozen indexes up and checking three keys row by row is most of the time of a
    large first import. A failure rolls back everything,
    indexes included; the requests tables wait for the import meanwhile (run a first import
    before readers use the gateway).
    """

    def __init__(self, *, bulk_min=BULK_MIN, **options):
        super().__init__(**options)
        self.bulk_min = bulk_min

    def requests(self, path, encoding, progress=None):
        if connection.vendor != "postgresql" or self.dry_run:
            return super().requests(path, encoding, progress)
        header = _header(path, encoding, REQUEST_COLUMNS)
        try:
            _check_bytes(path)
        except Unsuited:
            return super().requests(path, encoding, progress)
        staging = _Staging(header, self.batch_size or SQL_BATCH_SIZE)
        try:
            with transaction.atomic():
                staging.load(path, encoding, progress)
        except DatabaseError:
            staging.drop()
            return super().requests(path, encoding, progress)
        summary = FileSummary(way="set-based (COPY)")
        try:
            staging.clean()
            if staging.new_rows() >= max(self.bulk_min, _table_rows() + 1):
                summary.way = "set-based (COPY), indexes rebuilt after"
                with transaction.atomic(), _without_secondary_indexes():
                    staging.write(summary)
            else:
                staging.write(summary)
        finally:
            staging.drop()
        summary.rejects.sort()
        return summary


class _Writer:
    """Lines in COPY's text format into a table, sent every few thousand lines."""

    CHUNK = 5000

    def __init__(self, target):
        self.target, self.buffer, self.lines = target, io.StringIO(), 0

    def write(self, line):
        self.buffer.write(line + "\n")
        self.lines += 1
        if self.lines >= self.CHUNK:
            self.flush()

    def flush(self):
        if self.lines:
            self.buffer.seek(0)
            with connection.cursor() as cursor, connection.wrap_database_errors:
                cursor.cursor.copy_expert(f"COPY {self.target} FROM STDIN", self.buffer)
            self.buffer, self.lines = io.StringIO(), 0

    def __enter__(self):
        return self

    def __exit__(self, kind, *exc):
        if kind is None:
            self.flush()
        return False


BULK_TABLES = ("requests_app_illrequest", "requests_app_feeline", "requests_app_statuschange")


def _table_rows() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM requests_app_illrequest")
        return cursor.fetchone()[0]


class _without_secondary_indexes:  # noqa: N801 - used as a context manager
    """Drop the tables' indexes that back no constraint and their foreign keys; create them
    again on the way out. Adding a foreign key checks every row with one join, where keeping it
    checks each new row on its own (some 15 µs a row, three rows a request)."""

    def __enter__(self):
        with connection.cursor() as cursor:
            # A table with checks still pending in this transaction cannot be altered.
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            cursor.execute(
                "SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid) "
                "FROM pg_index i WHERE i.indrelid = ANY(%s::regclass[]) AND NOT EXISTS "
                "(SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid) ORDER BY 1",
                [list(BULK_TABLES)],
            )
            self.indexes = cursor.fetchall()
            cursor.execute(
                "SELECT conrelid::regclass::text, quote_ident(conname), "
                "pg_get_constraintdef(oid) FROM pg_constraint "
                "WHERE contype = 'f' AND conrelid = ANY(%s::regclass[]) ORDER BY 1, 2",
                [list(BULK_TABLES)],
            )
            self.foreign_keys = cursor.fetchall()
            for table, name, _definition in self.foreign_keys:
                cursor.execute(f"ALTER TABLE {table} DROP CONSTRAINT {name}")
            for name, _definition in self.indexes:
                cursor.execute(f"DROP INDEX {name}")
        return self

    def __exit__(self, kind, *exc):
        if kind is None:
            with connection.cursor() as cursor:
                # Any deferred check first: an index is not built on a table with checks
                # pending.
                cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
                cursor.execute("SET LOCAL maintenance_work_mem = '256MB'")
                for _name, definition in self.indexes:
                    cursor.execute(definition)
                for table, name, definition in self.foreign_keys:
                    cursor.execute(f"ALTER TABLE {table} ADD CONSTRAINT {name} {definition}")
        return False


class _Staging:
    def __init__(self, header, batch_size):
        self.header = header
        self.batch_size = batch_size
        self.column = {name: f"s.c{i}" for i, name in enumerate(header)}
        self.rejects = []  # (record number, reason)

    def _execute(self, sql, params=()):
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            return cursor.rowcount

    def _fetch(self, sql, params=()):
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            return cursor.fetchall()

    def _stream(self, sql):
        """The rows of a query, fetched a few thousand at a time (a server-side cursor)."""
        with connection.chunked_cursor() as cursor:
            cursor.execute(sql, ())
            yield from cursor

    def drop(self):
        with connection.cursor() as cursor:
            for table in ("legacy_st", "legacy_rq", "legacy_b", "legacy_slow", "legacy_keys"):
                cursor.execute(f"DROP TABLE IF EXISTS {table}")
            cursor.execute("DROP SEQUENCE IF EXISTS legacy_st_n")

    # 1. COPY

    def load(self, path, encoding, progress):
        self.drop()
        # Temporary tables live in the session's own buffers (8 MB by default, and only
        # settable before the session first touches one): a million rows would go to disk.
        with contextlib.suppress(DatabaseError), transaction.atomic():
            self._execute("SET temp_buffers = '512MB'")
        columns = ", ".join(f"c{i}" for i in range(len(self.header)))
        texts = ", ".join(f"c{i} text" for i in range(len(self.header)))
        self._execute("CREATE TEMPORARY SEQUENCE legacy_st_n CACHE 10000")
        self._execute(
            f"CREATE TEMPORARY TABLE legacy_st (n bigint DEFAULT nextval('legacy_st_n'), {texts})"
        )
        reading = _Reading(path, progress)
        try:
            # Driver errors as Django's (DatabaseError): the caller falls back on one.
            with connection.cursor() as cursor, connection.wrap_database_errors:
                cursor.cursor.copy_expert(
                    f"COPY legacy_st ({columns}) FROM STDIN WITH (FORMAT csv, HEADER true, "
                    f"ENCODING {_lit(PG_ENCODINGS[encoding])}, FORCE_NOT_NULL ({columns}))",
                    reading,
                    size=1 << 20,
                )
        finally:
            reading.close()

    # 2. cleaning

    def _fast_and_values(self):
        """SQL: whether the row is plain (`fast`) and, for plain rows, its cleaned values."""
        c = self.column

        def text(name):
            return f"btrim({c[name]}, %(space)s)"

        statuses = {k: v for k, v in REQUEST_STATUSES.items() if v is not None}
        done = [k for k, v in REQUEST_STATUSES.items() if v is None]
        loan = next(k for k, v in SERVICES.items() if v == "loan")
        labels = ", ".join
        shape = " AND ".join(
            [
                f"{c['request_no']} ~ '^[1-9][0-9]{{0,9}}$'",
                f"{c['user_id']} ~ '^[1-9][0-9]{{0,9}}$'",
                f"{c['service']} IN ({labels(map(_lit, SERVICES))})",
                f"{c['status']} IN ({labels(map(_lit, REQUEST_STATUSES))})",
                f"{c['doc_type']} IN ({labels(map(_lit, DOC_TYPES))})",
                f"{text('title')} <> ''",
                f"char_length({text('title')}) <= 255",
                f"char_length({text('article_title')}) <= 255",
                f"char_length({text('author')}) <= 255",
                f"char_length({text('volume_issue')}) <= {VOLUME_ISSUE_MAX_LENGTH}",
                f"char_length({text('pages')}) <= {PAGES_MAX_LENGTH}",
                f"char_length({text('supplier')}) <= 255",
                f"{c['year']} ~ '^[0-9]{{0,4}}$'",
                f"{c['issn']} ~ '^[0-9A-Za-z-]{{0,9}}$'",
                f"{c['isbn']} ~ '^[0-9A-Za-z-]{{0,40}}$'",
                f"char_length(replace({c['isbn']}, '-', '')) <= 13",
                f"{c['submitted_at']} ~ '^(199[2-9]|2[0-9]{{3}})-(0[1-9]|1[0-2])-"
                "(0[1-9]|[12][0-9]|3[01]) ([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9]$'",
                f"{c['total_fee']} ~ '^([0-9]{{1,8}}([.][0-9]{{1,2}})?)?$'",
                f"{c['return_date']} ~ '^([0-9]{{4}}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01]))?$'",
            ]
        )
        # CASE, not AND: only a row of the right shape is cast.
        fast = (
            f"CASE WHEN NOT ({shape}) THEN false "
            f"WHEN {c['request_no']}::bigint > 2147483647 "
            f"OR {c['user_id']}::bigint > 2147483647 THEN false "
            f"WHEN NOT {_valid_day(c['submitted_at'])} THEN false "
            f"WHEN {c['return_date']} <> '' AND NOT {_valid_day(c['return_date'])} THEN false "
            "ELSE true END"
        )
        service = _case(c["service"], SERVICES)
        status = (
            f"CASE WHEN {c['status']} IN ({labels(map(_lit, done))}) THEN CASE WHEN "
            f"{c['service']} = {_lit(loan)} THEN {_lit(Status.RETURNED)} "
            f"ELSE {_lit(Status.DELIVERED)} END ELSE {_case(c['status'], statuses)} END"
        )
        values = {
            "number": f"{c['request_no']}::int",
            "user_id": f"{c['user_id']}::int",
            "service_type": service,
            "document_type": _case(c["doc_type"], DOC_TYPES),
            "publication_title": text("title"),
            "article_title": text("article_title"),
            "author": text("author"),
            "volume_issue": text("volume_issue"),
            "year": c["year"],
            "pages": text("pages"),
            "issn": f"upper({c['issn']})",
            "isbn": f"upper(replace({c['isbn']}, '-', ''))",
            "submitted_at": f"({c['submitted_at']}::timestamp AT TIME ZONE 'Asia/Shanghai')",
            "status": status,
            "total_fee": f"coalesce(nullif({c['total_fee']}, '')::numeric, 0)",
            "return_date": f"nullif({c['return_date']}, '')::date",
            "holding_library": text("supplier"),
        }
        # The duplicate-spotting key of an ASCII title (normalize_title's result for ASCII:
        # lower case, anything but letters and digits a space, a leading article dropped);
        # other titles get theirs from normalize_title itself (`clean`).
        source = f"coalesce(nullif({text('article_title')}, ''), {text('title')})"
        values["title_key"] = (
            f"CASE WHEN octet_length({source}) = char_length({source}) THEN "
            "left(regexp_replace(btrim(regexp_replace("
            f"lower({source}), '[^a-z0-9]+', ' ', 'g')), '^(the|a|an) ', ''), 255) END"
        )
        return fast, values

    def _fingerprint(self):
        """SQL: `legacy_import.request_fingerprint` of the raw row, the same hex digest."""
        fields = ", ".join(f"s.c{i}" for i in range(len(self.header)))
        return f"md5(concat_ws(E'\\x1f', {fields}))"

    def clean(self):
        fast, values = self._fast_and_values()
        names = list(values)
        params = {"space": PYTHON_SPACE}
        typed = (
            "number int, user_id int, service_type text, document_type text, "
            "publication_title text, article_title text, author text, volume_issue text, "
            "year text, pages text, issn text, isbn text, submitted_at timestamptz, "
            "status text, total_fee numeric(10, 2), return_date date, holding_library text, "
            "title_key text"
        )
        self._execute(
            f"CREATE TEMPORARY TABLE legacy_rq (n bigint, fast boolean, {typed}, "
            "legacy_fingerprint text)"
        )
        selected = ", ".join(f"CASE WHEN f.fast THEN {values[name]} END" for name in names)
        self._execute(
            f"INSERT INTO legacy_rq (n, fast, {', '.join(names)}, legacy_fingerprint) "
            f"SELECT s.n, f.fast, {selected}, {self._fingerprint()} "
            # OFFSET 0 keeps the planner from copying `fast` into each CASE (18 evaluations a row).
            f"FROM legacy_st s CROSS JOIN LATERAL (SELECT {fast} AS fast OFFSET 0) f",
            params,
        )
        # Rows of any other shape: Python's own cleaning says what they are. Read and written
        # back in chunks, so that memory stays flat however many there are.
        raw = ", ".join(f"s.c{i}" for i in range(len(self.header)))
        self._execute(f"CREATE TEMPORARY TABLE legacy_slow (n bigint, keep boolean, {typed})")
        dropped = "\t".join(["f", *["\\N"] * len(names)])
        with _Writer(f"legacy_slow (n, keep, {', '.join(names)})") as slow:
            for n, *cells in self._stream(
                f"SELECT s.n, {raw} FROM legacy_st s JOIN legacy_rq q ON q.n = s.n "
                "WHERE NOT q.fast ORDER BY s.n"
            ):
                row = dict(zip(self.header, cells, strict=True))
                if not any(cell.strip() for cell in cells):
                    slow.write(f"{n}\t{dropped}")  # a blank record: skipped, as csv skips it
                    continue
                try:
                    clean = clean_request(row)
                except RowError as error:
                    self.rejects.append((n, str(error)))
                    slow.write(f"{n}\t{dropped}")
                    continue
                clean["title_key"] = normalize_title(
                    clean["article_title"] or clean["publication_title"]
                )[:255]
                slow.write("\t".join([str(n), "t", *(copy_text(clean[k]) for k in names)]))
        self._execute("DELETE FROM legacy_rq q USING legacy_slow w WHERE w.n = q.n AND NOT w.keep")
        assignments = ", ".join(f"{name} = w.{name}" for name in names)
        self._execute(
            f"UPDATE legacy_rq q SET {assignments}, fast = true FROM legacy_slow w "
            "WHERE w.n = q.n AND w.keep"
        )
        # The duplicate-spotting key of the other titles, once per distinct title.
        source = "coalesce(nullif(article_title, ''), publication_title)"
        self._execute("CREATE TEMPORARY TABLE legacy_keys (title text, key text)")
        with _Writer("legacy_keys (title, key)") as keys:
            for (title,) in self._stream(
                f"SELECT DISTINCT {source} FROM legacy_rq WHERE title_key IS NULL"
            ):
                keys.write(f"{copy_text(title)}\t{copy_text(normalize_title(title)[:255])}")
        self._execute(
            "UPDATE legacy_rq q SET title_key = k.key FROM legacy_keys k "
            "WHERE q.title_key IS NULL "
            "AND k.title = coalesce(nullif(q.article_title, ''), q.publication_title)"
        )
        # The first accepted row keeps a number; later ones are duplicates.
        for n, number in self._fetch(
            "DELETE FROM legacy_rq q USING (SELECT n, row_number() OVER "
            "(PARTITION BY number ORDER BY n) AS k FROM legacy_rq) d "
            "WHERE d.n = q.n AND d.k > 1 RETURNING q.n, q.number"
        ):
            self.rejects.append((n, f"duplicate request_no {number}"))
        # Batches of accepted rows in file order, as the row-by-row path makes them: the
        # record number each batch starts at.
        self.starts = [
            n
            for (n,) in self._fetch(
                "SELECT n FROM (SELECT n, row_number() OVER (ORDER BY n) AS k FROM legacy_rq) d "
                "WHERE mod(k - 1, %s) = 0 ORDER BY n",
                [self.batch_size],
            )
        ]
        self._execute("CREATE INDEX ON legacy_rq (n)")
        self._execute("ANALYZE legacy_rq")

    # 4. writing

    def new_rows(self) -> int:
        """How many accepted rows have a number no stored request has (at most)."""
        return self._fetch(
            "SELECT count(*) FROM legacy_rq q WHERE NOT EXISTS "
            "(SELECT 1 FROM requests_app_illrequest r WHERE r.number = q.number)"
        )[0][0]

    def write(self, summary):
        ends = [*self.starts[1:], None]
        for start, end in zip(self.starts, ends, strict=True):
            with transaction.atomic():
                self._write_batch(start, end, summary)
        summary.rejected += len(self.rejects)
        summary.rejects = self._with_lines(self.rejects)

    def _write_batch(self, start, end, summary):
        self._execute("DROP TABLE IF EXISTS legacy_b")
        self._execute(
            "CREATE TEMPORARY TABLE legacy_b AS SELECT q.*, a.id AS account_id, "
            "left(a.name, 100) AS contact_name, a.email AS contact_email, "
            "left(a.phone, 30) AS contact_phone, r.id AS request_id, "
            "r.legacy_fingerprint AS stored_fingerprint, r.origin AS stored_origin "
            "FROM legacy_rq q LEFT JOIN accounts_legacyaccount a ON a.user_id = q.user_id "
            "LEFT JOIN requests_app_illrequest r ON r.number = q.number "
            "WHERE q.n >= %s AND (q.n < %s OR %s IS NULL)",
            [start, end, end],
        )
        for n, user_id in self._fetch(
            "DELETE FROM legacy_b WHERE account_id IS NULL RETURNING n, user_id"
        ):
            self.rejects.append((n, f"user_id {user_id} is no imported account"))
        for n, number in self._fetch(
            "DELETE FROM legacy_b WHERE stored_origin <> %s RETURNING n, number",
            [Origin.LEGACY],
        ):
            self.rejects.append((n, f"request_no {number} is a gateway request's number"))
        summary.unchanged += self._execute(
            "DELETE FROM legacy_b WHERE stored_fingerprint = legacy_fingerprint"
        )
        computed = {"legacy_account_id": "b.account_id", "origin": _lit(Origin.LEGACY)}
        fields = {f.attname: f for f in IllRequest._meta.concrete_fields if not f.primary_key}
        expressions = {}
        for name in [*REQUEST_UPDATE_FIELDS, "number", "title_key"]:
            attname = fields[name].attname if name in fields else f"{name}_id"
            expressions[attname] = computed.get(attname, f"b.{attname}")
        # Changed rows.
        assignments = ", ".join(
            f"{connection.ops.quote_name(fields[a].column)} = {e}"
            for a, e in expressions.items()
            if a != "number"
        )
        summary.updated += self._execute(
            f"UPDATE requests_app_illrequest r SET {assignments} FROM legacy_b b "
            "WHERE b.request_id = r.id"
        )
        self._execute(
            "DELETE FROM requests_app_feeline f USING legacy_b b "
            "WHERE f.request_id = b.request_id AND f.note = %s",
            [TOTAL_FEE_NOTE],
        )
        self._execute(
            "DELETE FROM requests_app_statuschange h USING legacy_b b "
            "WHERE h.request_id = b.request_id AND h.event = %s",
            [Event.IMPORTED],
        )
        # New rows: every other column takes the model's default.
        blank = IllRequest()
        params, columns, selected = [], [], []
        for attname, field in fields.items():
            columns.append(connection.ops.quote_name(field.column))
            if attname in expressions:
                selected.append(expressions[attname])
            elif attname == "updated_at":
                selected.append("now()")
            else:
                selected.append("%s")
                params.append(field.get_db_prep_save(getattr(blank, attname), connection))
        # New requests with their fee line and first history entry, in one statement.
        (created,) = self._fetch(
            f"WITH created AS (INSERT INTO requests_app_illrequest ({', '.join(columns)}) "
            f"SELECT {', '.join(selected)} FROM legacy_b b WHERE b.request_id IS NULL "
            "ORDER BY b.number RETURNING id, number), "
            "fees AS (INSERT INTO requests_app_feeline (request_id, kind, amount, note, "
            "created_at) SELECT c.id, %s, b.total_fee, %s, b.submitted_at FROM created c "
            "JOIN legacy_b b ON b.number = c.number WHERE b.total_fee > 0), "
            "history AS (INSERT INTO requests_app_statuschange (request_id, at, actor_id, "
            "from_status, to_status, note, event, params, visible_to_reader) "
            "SELECT c.id, b.submitted_at, NULL, '', b.status, '', %s, '{}', true "
            "FROM created c JOIN legacy_b b ON b.number = c.number) "
            "SELECT count(*) FROM created",
            [*params, FeeKind.OTHER, TOTAL_FEE_NOTE, Event.IMPORTED],
        )[0]
        summary.created += created
        # Changed requests: their fee line and imported entry again, as the export says now.
        self._execute(
            "INSERT INTO requests_app_feeline (request_id, kind, amount, note, created_at) "
            "SELECT b.request_id, %s, b.total_fee, %s, b.submitted_at FROM legacy_b b "
            "WHERE b.request_id IS NOT NULL AND b.total_fee > 0",
            [FeeKind.OTHER, TOTAL_FEE_NOTE],
        )
        self._execute(
            "INSERT INTO requests_app_statuschange (request_id, at, actor_id, from_status, "
            "to_status, note, event, params, visible_to_reader) "
            "SELECT b.request_id, b.submitted_at, NULL, '', b.status, '', %s, '{}', true "
            "FROM legacy_b b WHERE b.request_id IS NOT NULL",
            [Event.IMPORTED],
        )

    def _with_lines(self, rejects):
        """(file line, reason) for (record number, reason): a record starts on the line after
        the header plus the records before it, plus the line breaks inside their fields."""
        fields = " || ',' || ".join(f"c{i}" for i in range(len(self.header)))
        breaks = (
            self._fetch(
                f"SELECT n, (SELECT count(*) FROM regexp_matches({fields}, '\\r\\n|\\r|\\n', 'g')) "
                f"FROM legacy_st WHERE strpos({fields}, E'\\n') > 0 "
                f"OR strpos({fields}, E'\\r') > 0 ORDER BY n"
            )
            if rejects
            else []
        )
        numbers = [n for n, _ in breaks]
        totals, total = [], 0
        for _, count in breaks:
            total += count
            totals.append(total)
        lines = []
        for n, reason in rejects:
            before = bisect.bisect_left(numbers, n)
            lines.append((1 + n + (totals[before - 1] if before else 0), reason))
        return lines
