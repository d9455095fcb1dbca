"""The import of the old ILL system's export (`manage.py import_legacy`, SPEC 7, legacy/FORMAT.md).

Streams both files row by row; rows are cleaned or rejected (with their line number and reason)
one at a time, then written in batches, each batch in its own transaction: a failure leaves every
earlier batch whole and no part of its own, and a rerun completes the job. Each stored row keeps a
digest of the exported row (`fingerprint`), so a rerun creates what is missing, rewrites what
changed in the export and leaves the rest alone.

Old accounts become `accounts.LegacyAccount` (no gateway user or reader: the linking wizard links
them); old requests become `IllRequest` rows with `origin="legacy"`, their old numbers, the old
account as owner and no reader until that account is linked.
"""

import codecs
import csv
import hashlib
import hmac
import io
import json
import os
import re
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import connection, transaction
from django.db.models.functions import Lower
from django.utils import timezone

from accounts.hashers import wrap_legacy_password
from accounts.legacy import LegacyAccount, LegacyStatus
from core.validators import to_halfwidth
from readers.models import IdType, ReaderType

from .models import (
    NUMBER_MAX,
    DocumentType,
    Event,
    FeeKind,
    FeeLine,
    IllRequest,
    Origin,
    ServiceType,
    StatusChange,
)
from .statuses import Status
from .validators import PAGES_MAX_LENGTH, VOLUME_ISSUE_MAX_LENGTH, normalize_title

OLD_TIME_ZONE = ZoneInfo("Asia/Shanghai")
HASH_POOL = ThreadPoolExecutor(max_workers=os.cpu_count() or 1, thread_name_prefix="legacy-hash")
BATCH_SIZE = 1000
# Records between two calls of the progress bar (a call per record costs more than reading it).
PROGRESS_EVERY = 1000

ACCOUNT_COLUMNS = [
    "user_id", "username", "password", "name", "email", "id_type", "id_number", "reader_type",
    "institution", "phone", "address", "postal_code", "balance", "status", "created_at",
    "last_login",
]  # fmt: skip
REQUEST_COLUMNS = [
    "request_no", "user_id", "service", "doc_type", "title", "article_title", "author",
    "volume_issue", "year", "pages", "issn", "isbn", "submitted_at", "status", "total_fee",
    "return_date", "supplier",
]  # fmt: skip

ID_TYPES = {
    "借书证": IdType.LIBRARY_CARD,
    "身份证": IdType.RESIDENT_ID,
    "护照": IdType.PASSPORT,
    "工作证": IdType.STAFF_CARD,
    "学生证": IdType.STUDENT_CARD,
    "其他": IdType.OTHER,
}
READER_TYPES = {
    "本校": ReaderType.CAMPUS,
    "校外单位": ReaderType.OFF_CAMPUS,
    "校外个人": ReaderType.INDIVIDUAL,
}
ACCOUNT_STATUSES = {"正常": LegacyStatus.ACTIVE, "停用": LegacyStatus.DISABLED}
SERVICES = {"复制": ServiceType.COPY, "借调": ServiceType.LOAN}
DOC_TYPES = {
    "期刊论文": DocumentType.JOURNAL_ARTICLE,
    "会议论文": DocumentType.CONFERENCE_PAPER,
    "图书": DocumentType.BOOK,
    "图书章节": DocumentType.BOOK_CHAPTER,
    "学位论文": DocumentType.THESIS,
    "标准": DocumentType.STANDARD,
    "专利": DocumentType.PATENT,
    "报告": DocumentType.REPORT,
    "其他": DocumentType.OTHER,
}
# FORMAT.md: 读者取消 and 已取消 → cancelled; 已完成 → delivered (copy) or returned (loan).
REQUEST_STATUSES = {
    "用户申请尚未处理": Status.SUBMITTED,
    "处理中": Status.IN_PROCESS,
    "已传递": Status.DELIVERED,
    "已借出": Status.ON_LOAN,
    "已归还": Status.RETURNED,
    "无法满足": Status.UNFILLED,
    "已取消": Status.CANCELLED,
    "读者取消": Status.CANCELLED,
    "已过期": Status.EXPIRED,
    "已完成": None,
}
# At most 8 digits before the point: what a fee line (10 digits, 2 after the point) holds.
AMOUNT = re.compile(r"[+-]?[0-9]{1,8}(\.[0-9]{1,2})?")
PASSWORD_FORMAT = re.compile(r"PLAIN:.+|MD5:[0-9a-fA-F]{32}|SHA1:.+:[0-9a-fA-F]{40}", re.S)
EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
TOTAL_FEE_NOTE = "旧系统费用合计 Total fee in the old system"


class ImportFileError(Exception):
    """The file cannot be read as an export at all (wrong header, undecodable)."""


class RowError(ValueError):
    """The reason a row is rejected."""


@dataclass
class FileSummary:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: int = 0
    rejects: list = field(default_factory=list)
    way: str = "row by row"

    def as_dict(self):
        return {k: getattr(self, k) for k in ("created", "updated", "unchanged", "rejected")}


# --- reading ----------------------------------------------------------------------------------


def detect_encoding(path) -> str:
    """UTF-8 with a byte-order mark, else UTF-8 if the start decodes as UTF-8, else GB18030."""
    with open(path, "rb") as handle:
        head = handle.read(1 << 20)
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    try:
        codecs.getincrementaldecoder("utf-8")().decode(head, final=False)
    except UnicodeDecodeError:
        return "gb18030"
    return "utf-8-sig"  # also reads UTF-8 without a BOM


class _CountingReader(io.RawIOBase):
    """A binary file that remembers how many bytes were read (for the progress bar)."""

    def __init__(self, raw):
        self.raw, self.done = raw, 0

    def readable(self):
        return True

    def readinto(self, buffer):
        count = self.raw.readinto(buffer)
        self.done += count or 0
        return count

    def close(self):
        self.raw.close()
        super().close()


def read_rows(path, encoding, columns, progress=None):
    """Yield (line number where the record starts, {column: text}) for each record."""
    records = read_records(path, encoding, columns, progress)
    header = next(records)
    for line, record in records:
        if isinstance(record, RowError):
            yield line, record
        else:
            yield line, dict(zip(header, record, strict=True))


def read_records(path, encoding, columns, progress=None):
    """Yield the header's names, then (line number where the record starts, its cells) for
    each record: a record of the header's width without a NUL; a `RowError` for any other."""
    raw = _CountingReader(open(path, "rb"))  # noqa: SIM115 - closed by the wrapper below
    with io.TextIOWrapper(io.BufferedReader(raw), encoding=encoding, newline="") as text:
        reader = csv.reader(text)
        try:
            header = next(reader)
        except StopIteration:
            raise ImportFileError("empty file") from None
        except UnicodeDecodeError as error:
            raise ImportFileError(f"not {encoding}: {error}") from None
        header = [name.strip().lstrip("\ufeff") for name in header]
        missing = [name for name in columns if name not in header]
        if missing:
            raise ImportFileError("missing columns: " + ", ".join(missing))
        yield header
        line = reader.line_num + 1
        width = len(header)
        try:
            for count, record in enumerate(reader):
                if progress and not count % PROGRESS_EVERY:
                    progress(raw.done)
                # One joined string answers both questions below for every cell at once: a
                # record is blank when no cell holds anything but spaces.
                text = "".join(record)
                if text.strip():
                    if "\x00" in text:
                        yield line, RowError("NUL character in a field")
                    elif len(record) != width:
                        yield line, RowError(f"{len(record)} fields where the header has {width}")
                    else:
                        yield line, record
                line = reader.line_num + 1
            if progress:
                progress(raw.done)
        except UnicodeDecodeError as error:
            raise ImportFileError(f"not {encoding} near line {line}: {error}") from None
        except csv.Error as error:
            raise ImportFileError(f"line {line}: {error}") from None


# --- cleaning ---------------------------------------------------------------------------------


def _text(value: str) -> str:
    return value.strip()


def _digits(value: str) -> str:
    return re.sub(r"\s+", "", to_halfwidth(value))


def _amount(value: str, what: str, *, signed: bool) -> Decimal:
    text = _digits(value).replace("¥", "").replace("￥", "")
    if text.startswith("-¥"):
        text = "-" + text[2:]
    if not AMOUNT.fullmatch(text) or (not signed and text.startswith("-")):
        raise RowError(f"malformed {what}: {value!r}")
    try:
        return Decimal(text).quantize(Decimal("0.01"))
    except InvalidOperation:
        raise RowError(f"malformed {what}: {value!r}") from None


def _moment(value: str, what: str, *, optional=False):
    text = _text(value)
    if not text and optional:
        return None
    try:
        return datetime.strptime(text, "%Y-%m-%d %H:%M:%S").replace(tzinfo=OLD_TIME_ZONE)
    except ValueError:
        raise RowError(f"malformed {what}: {value!r}") from None


def _day(value: str, what: str):
    text = _text(value)
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise RowError(f"malformed {what}: {value!r}") from None


def _choice(mapping, value, what):
    text = _text(value)
    if text not in mapping:
        raise RowError(f"unknown {what}: {value!r}")
    return mapping[text]


def _fit(value: str, limit: int, what: str) -> str:
    if len(value) > limit:
        raise RowError(f"{what} longer than {limit} characters")
    return value


def _positive_int(value: str, what: str) -> int:
    text = _digits(value)
    if not text.isascii() or not text.isdigit() or not 0 < int(text) <= NUMBER_MAX:
        raise RowError(f"malformed {what}: {value!r}")
    return int(text)


def fingerprint(row: dict) -> str:
    """A keyed digest of an exported row (keyed: the row holds an old password digest)."""
    message = json.dumps(row, sort_keys=True, ensure_ascii=False).encode()
    return hmac.new(settings.SECRET_KEY.encode(), message, hashlib.sha256).hexdigest()


def request_fingerprint(row: dict) -> str:
    """A digest of an exported request row, to tell a changed row from the one stored.

    Not keyed (a request holds no secret); cheap, and the same whichever way the row goes.
    """
    return cells_fingerprint(row.values())


def cells_fingerprint(cells) -> str:
    """`request_fingerprint` of a row's cells, in the header's order."""
    return hashlib.md5("\x1f".join(cells).encode(), usedforsecurity=False).hexdigest()


def clean_account(row: dict) -> dict:
    username = _text(row["username"])
    if not username:
        raise RowError("missing username")
    password = _text(row["password"])
    if password.startswith("PLAIN:"):
        # A clear password is kept as typed, spaces at its end included.
        password = row["password"].lstrip()
    if password and not PASSWORD_FORMAT.fullmatch(password):
        raise RowError("unknown password format")
    email = _text(row["email"]).lower()
    return {
        "user_id": _positive_int(row["user_id"], "user_id"),
        "username": _fit(username, 150, "username"),
        "password": password,
        "name": _fit(_text(row["name"]), 100, "name"),
        "email": email if EMAIL.fullmatch(email) and len(email) <= 254 else "",
        "id_type": _choice(ID_TYPES, row["id_type"], "id_type") if _text(row["id_type"]) else "",
        "id_number": _fit(_digits(row["id_number"]).upper(), 50, "id_number"),
        "reader_type": _choice(READER_TYPES, row["reader_type"], "reader_type"),
        "institution": _fit(_text(row["institution"]), 255, "institution"),
        "phone": _fit(_digits(row["phone"]), 50, "phone"),
        "address": _text(row["address"]),
        "postal_code": _fit(_digits(row["postal_code"]), 20, "postal_code"),
        "balance": _amount(row["balance"], "balance", signed=True),
        "status": _choice(ACCOUNT_STATUSES, row["status"], "status"),
        "created_at": _moment(row["created_at"], "created_at"),
        "last_login": _moment(row["last_login"], "last_login", optional=True),
    }


def clean_request(row: dict) -> dict:
    service = _choice(SERVICES, row["service"], "service")
    status = _choice(REQUEST_STATUSES, row["status"], "status")
    if status is None:  # 已完成
        status = Status.RETURNED if service == ServiceType.LOAN else Status.DELIVERED
    title = _text(row["title"])
    if not title:
        raise RowError("missing title")
    return {
        "number": _positive_int(row["request_no"], "request_no"),
        "user_id": _positive_int(row["user_id"], "user_id"),
        "service_type": service,
        "document_type": _choice(DOC_TYPES, row["doc_type"], "doc_type"),
        "publication_title": _fit(title, 255, "title"),
        "article_title": _fit(_text(row["article_title"]), 255, "article_title"),
        "author": _fit(_text(row["author"]), 255, "author"),
        "volume_issue": _fit(_text(row["volume_issue"]), VOLUME_ISSUE_MAX_LENGTH, "volume_issue"),
        "year": _fit(_digits(row["year"]), 4, "year"),
        "pages": _fit(_text(row["pages"]), PAGES_MAX_LENGTH, "pages"),
        "issn": _fit(_digits(row["issn"]).upper(), 9, "issn"),
        "isbn": _fit(_digits(row["isbn"]).replace("-", "").upper(), 13, "isbn"),
        "submitted_at": _moment(row["submitted_at"], "submitted_at"),
        "status": status,
        "total_fee": _amount(row["total_fee"] or "0", "total_fee", signed=False),
        "return_date": _day(row["return_date"], "return_date"),
        "holding_library": _fit(_text(row["supplier"]), 255, "supplier"),
    }


# --- writing ----------------------------------------------------------------------------------


class LegacyImport:
    """One run of the import; `accounts()` first, then `requests()`."""

    def __init__(self, *, dry_run=False, batch_size=None):
        self.dry_run = dry_run
        self.batch_size = batch_size
        self.accepted_user_ids = set()  # this run's accounts (a dry run has nothing stored)

    # accounts

    def accounts(self, path, encoding, progress=None) -> FileSummary:
        summary = FileSummary()
        seen_ids, seen_names = set(), {}
        batch = []
        for line, row in read_rows(path, encoding, ACCOUNT_COLUMNS, progress):
            try:
                if isinstance(row, RowError):
                    raise row
                clean = clean_account(row)
                if clean["user_id"] in seen_ids:
                    raise RowError(f"duplicate user_id {clean['user_id']}")
                name_key = clean["username"].lower()
                if name_key in seen_names:
                    raise RowError(
                        f"username {clean['username']!r} equals that of line "
                        f"{seen_names[name_key]} but for case"
                    )
            except RowError as error:
                summary.rejected += 1
                summary.rejects.append((line, str(error)))
                continue
            seen_ids.add(clean["user_id"])
            seen_names[name_key] = line
            clean["fingerprint"] = fingerprint(row | {"_": "account"})
            batch.append((line, clean))
            if len(batch) >= (self.batch_size or BATCH_SIZE):
                self._write_accounts(batch, summary)
                batch = []
        if batch:
            self._write_accounts(batch, summary)
        return summary

    def _write_accounts(self, batch, summary):
        with transaction.atomic():
            ids = [clean["user_id"] for _, clean in batch]
            stored = {
                account.user_id: account
                for account in LegacyAccount.objects.select_for_update().filter(user_id__in=ids)
            }
            # A username another stored old account has (but for case) is refused by the
            # database; say so for the row instead.
            taken = dict(
                LegacyAccount.objects.annotate(key=Lower("username"))
                .filter(key__in=[clean["username"].lower() for _, clean in batch])
                .exclude(user_id__in=ids)
                .values_list("key", "user_id")
            )
            create, change = [], []
            for line, clean in batch:
                key = clean["username"].lower()
                if key in taken:
                    summary.rejected += 1
                    summary.rejects.append(
                        (line, f"username {clean['username']!r} belongs to old user {taken[key]}")
                    )
                    continue
                self.accepted_user_ids.add(clean["user_id"])
                account = stored.get(clean["user_id"])
                if account is not None and account.fingerprint == clean["fingerprint"]:
                    summary.unchanged += 1
                    continue
                values = dict(clean)
                if account is None:
                    create.append(LegacyAccount(**values))
                else:
                    if account.reader_id is not None:
                        # Linked or attached: its balance is already in the reader's ledger (or
                        # waits for staff to move it) and its password may have been upgraded
                        # by use. The export's later values of those two no longer apply.
                        values.pop("balance")
                        values.pop("password")
                    for name, value in values.items():
                        setattr(account, name, value)
                    change.append(account)
            summary.created += len(create)
            summary.updated += len(change)
            if self.dry_run:
                return
            # PBKDF2 is most of the accounts' time; hashlib lets go of the GIL while it runs.
            rows = [*create, *(account for account in change if account.reader_id is None)]
            for account, wrapped in zip(
                rows, HASH_POOL.map(wrap_legacy_password, [a.password for a in rows]), strict=True
            ):
                account.password = wrapped
            LegacyAccount.objects.bulk_create(create)
            if change:
                LegacyAccount.objects.bulk_update(change, [*ACCOUNT_FIELDS, "fingerprint"])

    # requests

    def requests(self, path, encoding, progress=None) -> FileSummary:
        summary = FileSummary()
        seen = set()
        batch = []
        for line, row in read_rows(path, encoding, REQUEST_COLUMNS, progress):
            try:
                if isinstance(row, RowError):
                    raise row
                clean = clean_request(row)
                if clean["number"] in seen:
                    raise RowError(f"duplicate request_no {clean['number']}")
            except RowError as error:
                summary.rejected += 1
                summary.rejects.append((line, str(error)))
                continue
            seen.add(clean["number"])
            clean["legacy_fingerprint"] = request_fingerprint(row)
            batch.append((line, clean))
            if len(batch) >= (self.batch_size or BATCH_SIZE):
                self._write_requests(batch, summary)
                batch = []
        if batch:
            self._write_requests(batch, summary)
        return summary

    def _write_requests(self, batch, summary):
        with transaction.atomic():
            owners = {
                row[0]: row[1:]
                for row in LegacyAccount.objects.filter(
                    user_id__in={clean["user_id"] for _, clean in batch}
                ).values_list("user_id", "pk", "reader_id", "name", "email", "phone")
            }
            stored = {
                request.number: request
                for request in IllRequest.objects.select_for_update().filter(
                    number__in=[clean["number"] for _, clean in batch]
                )
            }
            create, change = [], []
            for line, clean in batch:
                user_id = clean.pop("user_id")
                owner = owners.get(user_id)
                if owner is None and self.dry_run and user_id in self.accepted_user_ids:
                    owner = (None, None, "", "", "")
                if owner is None:
                    summary.rejected += 1
                    summary.rejects.append((line, f"user_id {user_id} is no imported account"))
                    continue
                request = stored.get(clean["number"])
                if request is not None and request.origin != Origin.LEGACY:
                    summary.rejected += 1
                    summary.rejects.append(
                        (line, f"request_no {clean['number']} is a gateway request's number")
                    )
                    continue
                same = clean["legacy_fingerprint"]
                if request is not None and request.legacy_fingerprint == same:
                    summary.unchanged += 1
                    continue
                fee = clean.pop("total_fee")
                values = clean | {
                    # No reader: an old request is found through its old account, linked or
                    # not (旧版系统数据查询), and the import never sets or clears `reader`.
                    "legacy_account_id": owner[0],
                    # Whom the office contacts about it: the old account's details.
                    "contact_name": owner[2][:100],
                    "contact_email": owner[3],
                    "contact_phone": owner[4][:30],
                    "origin": Origin.LEGACY,
                    "title_key": normalize_title(
                        clean["article_title"] or clean["publication_title"]
                    )[:255],
                }
                if request is None:
                    request = IllRequest(**values)
                    create.append((request, fee))
                else:
                    for name, value in values.items():
                        setattr(request, name, value)
                    change.append((request, fee))
            summary.created += len(create)
            summary.updated += len(change)
            if self.dry_run:
                return
            bulk_insert([request for request, _ in create])
            if change:
                IllRequest.objects.bulk_update(
                    [request for request, _ in change], REQUEST_UPDATE_FIELDS
                )
                FeeLine.objects.filter(
                    request__in=[request for request, _ in change], note=TOTAL_FEE_NOTE
                ).delete()
                StatusChange.objects.filter(
                    request__in=[request for request, _ in change], event=Event.IMPORTED
                ).delete()
            numbers = [request.number for request, _ in create + change]
            pks = dict(IllRequest.objects.filter(number__in=numbers).values_list("number", "pk"))
            bulk_insert(
                [
                    FeeLine(
                        request_id=pks[request.number],
                        kind=FeeKind.OTHER,
                        amount=fee,
                        note=TOTAL_FEE_NOTE,
                        created_at=request.submitted_at,
                    )
                    for request, fee in create + change
                    if fee > 0
                ]
            )
            # Where the request came from, in its history: its status in the old system, dated
            # as the old system dated the request.
            bulk_insert(
                [
                    StatusChange(
                        request_id=pks[request.number],
                        at=request.submitted_at,
                        to_status=request.status,
                        event=Event.IMPORTED,
                    )
                    for request, _ in create + change
                ]
            )


def bulk_insert(objects: list) -> None:
    """Insert new rows of one model: `COPY` on PostgreSQL (several times faster than the
    INSERT that Django's bulk_create builds field by field), bulk_create elsewhere.

    Field values go in as the instances hold them (every default already applied); the
    database still checks every constraint and fires every trigger.
    """
    if not objects:
        return
    model = type(objects[0])
    if connection.vendor != "postgresql":
        model.objects.bulk_create(objects)
        return
    now = timezone.now()
    fields = [f for f in model._meta.concrete_fields if not f.primary_key]
    for f in fields:
        if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False):
            for obj in objects:
                setattr(obj, f.attname, now)
    names = [f.attname for f in fields]
    buffer = io.StringIO()
    for obj in objects:
        buffer.write("\t".join([copy_text(getattr(obj, name)) for name in names]))
        buffer.write("\n")
    buffer.seek(0)
    columns = ", ".join(connection.ops.quote_name(f.column) for f in fields)
    table = connection.ops.quote_name(model._meta.db_table)
    with connection.cursor() as cursor:
        cursor.cursor.copy_expert(f"COPY {table} ({columns}) FROM STDIN", buffer)


_COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def copy_text(value) -> str:
    """A value in PostgreSQL's COPY text format."""
    if value is None:
        return "\\N"
    if value is True or value is False:
        return "t" if value else "f"
    if isinstance(value, str):
        return value.translate(_COPY_ESCAPES)
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, dict | list):
        return json.dumps(value).translate(_COPY_ESCAPES)
    return str(value)


ACCOUNT_FIELDS = [name for name in ACCOUNT_COLUMNS if name != "user_id"]
REQUEST_UPDATE_FIELDS = [
    "legacy_account", "origin", "title_key", "legacy_fingerprint", "service_type",
    "document_type", "publication_title", "article_title", "author", "volume_issue", "year",
    "pages", "issn", "isbn", "submitted_at", "status", "return_date", "holding_library",
    "contact_name", "contact_email", "contact_phone",
]  # fmt: skip
