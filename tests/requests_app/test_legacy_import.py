"""`manage.py import_legacy` with exports written by ../shared/legacy/generate.py (FORMAT.md)."""

import csv
import io
import json
import subprocess
import sys
from datetime import UTC, date
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from django.core.management import CommandError, call_command
from django.db import connection, transaction
from django.db.models import Count, Max, Sum
from django.urls import reverse

from accounts.legacy import LegacyAccount
from requests_app import legacy_copy
from requests_app.legacy_copy import CopyLegacyImport
from requests_app.legacy_import import LegacyImport
from requests_app.lifecycle import request_transition
from requests_app.models import (
    Event,
    FeeLine,
    IllRequest,
    Origin,
    StatisticsVersion,
    Status,
    StatusChange,
)
from requests_app.services import request_next_number
from tests.factories import IllRequestFactory

pytestmark = pytest.mark.django_db

GENERATOR = Path(__file__).resolve().parents[3] / "shared" / "legacy" / "generate.py"
if not GENERATOR.exists():  # the repository checked out on its own
    GENERATOR = Path("/work/shared/legacy/generate.py")


def generate(out, *, accounts=60, requests=300, encoding="utf-8-sig", seed=7, defects=True):
    args = [sys.executable, str(GENERATOR), "--out", str(out), "--accounts", str(accounts)]
    args += ["--requests", str(requests), "--seed", str(seed), "--encoding", encoding]
    if defects:
        args.append("--defects")
    subprocess.run(args, check=True, capture_output=True)
    return json.loads((out / "expected.json").read_text())


def run_import(out, *extra):
    stdout, stderr = io.StringIO(), io.StringIO()
    call_command(
        "import_legacy",
        "--accounts",
        str(out / "accounts.csv"),
        "--requests",
        str(out / "requests.csv"),
        *extra,
        stdout=stdout,
        stderr=stderr,
    )
    return stdout.getvalue()


def summary_line(output, key):
    return next(line for line in output.splitlines() if line.startswith(f"{key}: created"))


def snapshot():
    accounts = list(LegacyAccount.objects.order_by("user_id").values())
    requests = list(IllRequest.objects.order_by("number").values())
    fees = list(FeeLine.objects.order_by("pk").values())
    history = list(StatusChange.objects.order_by("pk").values())
    return accounts, requests, fees, history


@pytest.mark.parametrize("encoding", ["utf-8-sig", "gb18030"])
def test_a_dirty_export_ends_as_expected_json_says(tmp_path, encoding):
    expected = generate(tmp_path, encoding=encoding)
    rejects = tmp_path / "rejects.csv"
    output = run_import(tmp_path, "--rejects", str(rejects))

    assert f"({encoding})" in output  # detected, not given
    assert LegacyAccount.objects.count() == expected["accounts"]["accepted"]
    legacy = IllRequest.objects.filter(origin=Origin.LEGACY)
    assert legacy.count() == expected["requests"]["accepted"]
    balances = LegacyAccount.objects.filter(balance__gt=0).aggregate(s=Sum("balance"))["s"]
    debts = LegacyAccount.objects.filter(balance__lt=0).aggregate(s=Sum("balance"))["s"]
    assert balances == Decimal(expected["sum_positive_balances"])
    assert -debts == Decimal(expected["sum_debts"])
    several = (
        LegacyAccount.objects.values("id_type", "id_number")
        .annotate(n=Count("pk"))
        .filter(n__gt=1)
        .count()
    )
    assert several == expected["persons_with_several_accounts"]
    assert legacy.aggregate(m=Max("number"))["m"] == expected["highest_request_no"]

    accounts = expected["accounts"]
    requests = expected["requests"]
    assert summary_line(output, "accounts") == (
        f"accounts: created {accounts['accepted']}, updated 0, unchanged 0, "
        f"rejected {accounts['rejected']}"
    )
    assert summary_line(output, "requests") == (
        f"requests: created {requests['accepted']}, updated 0, unchanged 0, "
        f"rejected {requests['rejected']}"
    )
    with open(rejects, encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.DictReader(handle))
    reasons = {(row["file"], row["reason"].split(" ")[0]) for row in rows}
    assert len(rows) == accounts["rejected"] + requests["rejected"]
    assert reasons == {
        ("accounts.csv", "duplicate"),
        ("accounts.csv", "username"),
        ("accounts.csv", "missing"),
        ("accounts.csv", "malformed"),
        ("requests.csv", "duplicate"),
        ("requests.csv", "user_id"),
        ("requests.csv", "unknown"),
    }
    # Each named line is the rejected row in the file.
    text = (tmp_path / "accounts.csv").read_text(encoding=encoding).splitlines()
    for row in rows:
        if row["reason"] == "missing username":
            assert "无用户名" in text[int(row["line"]) - 1]
        if row["reason"].startswith("malformed created_at"):
            assert "2010-13-45" in text[int(row["line"]) - 1]


def test_cleaned_rows_are_accepted_clean(tmp_path):
    generate(tmp_path, accounts=200, requests=10)
    with open(tmp_path / "accounts.csv", encoding="utf-8-sig", newline="") as handle:
        dirty = [row for row in csv.DictReader(handle) if row["balance"].startswith("¥")]
    assert dirty, "the generator wrote no row to clean"
    run_import(tmp_path)
    for row in dirty:
        account = LegacyAccount.objects.get(user_id=row["user_id"])
        assert account.username == row["username"].strip()
        assert account.email == row["email"].lower()
        assert account.balance == Decimal(row["balance"].lstrip("¥"))
        assert account.id_number.isascii() and account.phone.isascii()
        assert " " not in account.phone
        assert "\n" in account.address


def test_running_it_again_changes_nothing(tmp_path):
    expected = generate(tmp_path)
    run_import(tmp_path)
    before = snapshot()
    output = run_import(tmp_path)
    assert snapshot() == before
    assert summary_line(output, "accounts") == (
        f"accounts: created 0, updated 0, unchanged {expected['accounts']['accepted']}, "
        f"rejected {expected['accounts']['rejected']}"
    )
    assert summary_line(output, "requests") == (
        f"requests: created 0, updated 0, unchanged {expected['requests']['accepted']}, "
        f"rejected {expected['requests']['rejected']}"
    )


def test_a_dry_run_counts_and_writes_nothing(tmp_path):
    expected = generate(tmp_path)
    output = run_import(tmp_path, "--dry-run")
    assert LegacyAccount.objects.count() == 0
    assert IllRequest.objects.count() == 0
    assert summary_line(output, "requests").startswith(
        f"requests: created {expected['requests']['accepted']}, updated 0"
    )


def test_a_row_changed_in_a_new_export_is_updated_alone(tmp_path):
    generate(tmp_path, defects=False)
    run_import(tmp_path)
    path = tmp_path / "requests.csv"
    rows = list(csv.reader(path.open(encoding="utf-8-sig", newline="")))
    rows[1][13] = "无法满足"
    with path.open("w", encoding="utf-8-sig", newline="") as handle:
        csv.writer(handle).writerows(rows)
    output = run_import(tmp_path)
    assert "requests: created 0, updated 1, unchanged 299, rejected 0" in output
    assert IllRequest.objects.get(number=int(rows[1][0])).status == Status.UNFILLED


def _refuse_number(number):
    """A trigger: the database itself refuses to store request `number`."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "CREATE FUNCTION refuse_legacy() RETURNS trigger AS $$ BEGIN "
                f"IF NEW.number = {number} THEN RAISE EXCEPTION 'refused'; END IF; "
                "RETURN NEW; END $$ LANGUAGE plpgsql"
            )
            cursor.execute(
                "CREATE TRIGGER refuse_legacy BEFORE INSERT ON requests_app_illrequest "
                "FOR EACH ROW EXECUTE FUNCTION refuse_legacy()"
            )
        else:
            cursor.execute(
                "CREATE TRIGGER refuse_legacy BEFORE INSERT ON requests_app_illrequest "
                f"WHEN NEW.number = {number} BEGIN SELECT RAISE(ABORT, 'refused'); END"
            )


def _allow_again():
    with connection.cursor() as cursor:
        cursor.execute(
            "DROP TRIGGER refuse_legacy ON requests_app_illrequest"
            if connection.vendor == "postgresql"
            else "DROP TRIGGER refuse_legacy"
        )
        if connection.vendor == "postgresql":
            cursor.execute("DROP FUNCTION refuse_legacy()")


def test_a_failure_mid_way_leaves_whole_batches_and_a_rerun_completes(tmp_path):
    expected = generate(tmp_path, defects=False)
    rows = list(csv.reader((tmp_path / "requests.csv").open(encoding="utf-8-sig", newline="")))
    numbers = [int(row[0]) for row in rows[1:]]
    _refuse_number(numbers[130])  # in the third batch of 50

    with pytest.raises(Exception, match="refused"):
        run_import(tmp_path, "--batch-size", "50")
    stored = set(IllRequest.objects.values_list("number", flat=True))
    assert stored == set(numbers[:100])  # two whole batches, nothing of the third
    assert FeeLine.objects.filter(request__number__gte=numbers[100]).count() == 0

    _allow_again()
    output = run_import(tmp_path, "--batch-size", "50")
    assert "requests: created 200, updated 0, unchanged 100, rejected 0" in output
    assert IllRequest.objects.count() == expected["requests"]["accepted"]


def test_old_requests_keep_numbers_statuses_fees_and_dates(tmp_path):
    expected = generate(tmp_path, defects=False)
    run_import(tmp_path)
    with open(tmp_path / "requests.csv", encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.DictReader(handle))
    mapping = {
        "用户申请尚未处理": "submitted",
        "处理中": "in_process",
        "已传递": "delivered",
        "已借出": "on_loan",
        "已归还": "returned",
        "无法满足": "unfilled",
        "已取消": "cancelled",
        "读者取消": "cancelled",
        "已过期": "expired",
    }
    stored = {r.number: r for r in IllRequest.objects.with_total_fee()}
    for row in rows:
        ill_request = stored[int(row["request_no"])]
        want = mapping.get(row["status"]) or (
            "returned" if row["service"] == "借调" else "delivered"
        )
        assert ill_request.status == want
        assert ill_request.origin == Origin.LEGACY
        assert ill_request.total_fee == Decimal(row["total_fee"])
        assert ill_request.reader is None
        assert ill_request.legacy_account.user_id == int(row["user_id"])
        local = ill_request.submitted_at.astimezone(ZoneInfo("Asia/Shanghai"))
        assert local.strftime("%Y-%m-%d %H:%M:%S") == row["submitted_at"]
    # New numbers continue above the old ones.
    with transaction.atomic():
        assert request_next_number() == expected["highest_request_no"] + 1


def test_staff_move_an_open_old_request_on(tmp_path, staff, mailoutbox):
    generate(tmp_path, defects=False)
    run_import(tmp_path)
    ill_request = IllRequest.objects.filter(status=Status.IN_PROCESS).first()
    request_transition(ill_request=ill_request, to=Status.UNFILLED, actor=staff, note="gone")
    ill_request.refresh_from_db()
    assert ill_request.status == Status.UNFILLED
    assert mailoutbox == []  # nobody to tell until the old account is linked


def test_no_reader_sees_old_requests_not_linked_to_them(tmp_path, reader_a, client_a):
    generate(tmp_path, defects=False, requests=20)
    run_import(tmp_path)
    own = IllRequestFactory(reader=reader_a)
    assert list(IllRequest.objects.for_reader(reader_a)) == [own]
    assert not IllRequest.objects.for_reader(None).exists()
    old = IllRequest.objects.filter(origin=Origin.LEGACY).first()
    assert client_a.get(reverse("request_detail", args=[old.number])).status_code == 404
    listing = client_a.get(reverse("request_list")).content.decode()
    # Whole numbers only: a gateway number such as 100307 contains the old 10030.
    assert f"/requests/{old.number}/" not in listing
    assert f">{old.number}<" not in listing


def test_an_old_request_without_owner_is_refused_by_the_database(reader_a):
    from django.db import IntegrityError

    ill_request = IllRequestFactory(reader=reader_a)
    with pytest.raises(IntegrityError), transaction.atomic():
        IllRequest.objects.filter(pk=ill_request.pk).update(reader=None)


def test_a_gateway_number_in_the_export_is_rejected_not_overwritten(tmp_path, reader_a):
    generate(tmp_path, defects=False, requests=5)
    rows = list(csv.reader((tmp_path / "requests.csv").open(encoding="utf-8-sig", newline="")))
    taken = IllRequestFactory(reader=reader_a, number=int(rows[1][0]))
    output = run_import(tmp_path)
    assert "requests: created 4, updated 0, unchanged 0, rejected 1" in output
    taken.refresh_from_db()
    assert taken.origin == Origin.GATEWAY and taken.reader == reader_a


def test_an_unreadable_file_is_a_clear_error(tmp_path):
    (tmp_path / "accounts.csv").write_text("a,b\n1,2\n", encoding="utf-8")
    with pytest.raises(CommandError, match="missing columns"):
        call_command("import_legacy", "--accounts", str(tmp_path / "accounts.csv"))


def test_awkward_text_arrives_as_it_was(tmp_path):
    generate(tmp_path, defects=False, requests=3)
    path = tmp_path / "requests.csv"
    rows = list(csv.reader(path.open(encoding="utf-8-sig", newline="")))
    awkward = 'Tab\there, back\\slash \\N, "quotes",\nnew line, 中文'
    rows[1][4] = awkward
    with path.open("w", encoding="utf-8-sig", newline="") as handle:
        csv.writer(handle).writerows(rows)
    run_import(tmp_path)
    assert IllRequest.objects.get(number=int(rows[1][0])).publication_title == awkward.strip()


# --- the set-based way (PostgreSQL) gives what the row-by-row way gives ----------------------

AWKWARD_ROWS = [
    # request_no, user_id, service, doc_type, title, article_title, author, volume_issue,
    # year, pages, issn, isbn, submitted_at, status, total_fee, return_date, supplier
    ["９９０００１", "{uid}", "复制", "图书", "Full-width number", "", "", "", "", "", "", "",
     "2012-01-01 10:00:00", "处理中", "¥12.50", "", ""],
    [" 990002 ", "{uid}", " 借调 ", "图书", "  Spaces  ", "", "", "", "", "", "", "",
     " 2012-01-01 10:00:00 ", "已完成", "3", "2012-02-01", " Lib "],
    ["990003", "{uid}", "复制", "图书", "Before 1992", "", "", "", "", "", "", "",
     "1986-05-04 01:30:00", "已完成", "", "", ""],
    ["990004", "{uid}", "复制", "图书", "A bad day", "", "", "", "", "", "", "",
     "2010-02-30 10:00:00", "处理中", "1", "", ""],
    ["990005", "{uid}", "复制", "图书", "Title\nover\r\ntwo lines", "", "", "", "", "", "",
     "", "2012-01-01 10:00:00", "处理中", "1", "", ""],
    ["990006", "{uid}", "复制", "图书", "After the break", "", "", "", "", "", "", "",
     "2012-01-01 10:00:00", "状态不明", "1", "", ""],
    ["", "", "", "", "", "", "", "", "", "", "", "", "", "", "", "", ""],
    ["990007", "{uid}", "复制", "图书", "Bad return date", "", "", "", "", "", "", "",
     "2012-01-01 10:00:00", "已归还", "1", "2012-13-01", ""],
    ["990008", "{uid}", "复制", "期刊论文", "《图书馆杂志》", "The Ｆｕｌｌ－width Title", "",
     "", "２０１１", "", "1234-567x", "978-7-111", "2012-01-01 10:00:00", "已传递", "0.5",
     "", ""],
    ["990001", "{uid}", "复制", "图书", "Duplicate of the first", "", "", "", "", "", "", "",
     "2012-01-01 10:00:00", "处理中", "1", "", ""],
    ["990009", "99999999", "复制", "图书", "Nobody's", "", "", "", "", "", "", "",
     "2012-01-01 10:00:00", "处理中", "1", "", ""],
    ["990010", "{uid}", "复制", "图书", "x" * 256, "", "", "", "", "", "", "",
     "2012-01-01 10:00:00", "处理中", "1", "", ""],
    ["9999999999", "{uid}", "复制", "图书", "Too big", "", "", "", "", "", "", "",
     "2012-01-01 10:00:00", "处理中", "1", "", ""],
    ["990011", "{uid}", "复制", "图书", "Tab\there, back\\slash \\N, \"quotes\" 中文 \u3000",
     "", "", "", "", "", "", "", "2012-01-01 10:00:00", "读者取消", "-1", "", ""],
]  # fmt: skip


def _add_awkward_rows(out, encoding):
    path = out / "requests.csv"
    rows = list(csv.reader(path.open(encoding=encoding, newline="")))
    uid = rows[1][1]
    extra = [[cell.replace("{uid}", uid) for cell in row] for row in AWKWARD_ROWS]
    middle = len(rows) // 2
    rows[middle:middle] = extra
    with path.open("w", encoding=encoding, newline="") as handle:
        csv.writer(handle).writerows(rows)


def _everything():
    requests = list(
        IllRequest.objects.order_by("number").values(
            *[
                f.attname
                for f in IllRequest._meta.concrete_fields
                if f.attname not in ("id", "updated_at")
            ]
        )
    )
    fees = list(
        FeeLine.objects.order_by("request__number").values_list(
            "request__number", "kind", "amount", "note", "created_at"
        )
    )
    history = list(
        StatusChange.objects.order_by("request__number").values_list(
            "request__number", "at", "from_status", "to_status", "event", "params", "actor"
        )
    )
    return requests, fees, history


@pytest.mark.skipif(connection.vendor != "postgresql", reason="COPY is PostgreSQL's")
@pytest.mark.parametrize("encoding", ["utf-8-sig", "gb18030"])
def test_the_set_based_way_matches_the_row_by_row_way(tmp_path, encoding, monkeypatch):
    # Rows cleaned in Python go back to the database a few at a time (memory stays flat).
    monkeypatch.setattr(legacy_copy._Stream, "CHUNK", 7)
    generate(tmp_path, encoding=encoding, accounts=40, requests=400)
    _add_awkward_rows(tmp_path, encoding)
    path = str(tmp_path / "requests.csv")
    LegacyImport().accounts(str(tmp_path / "accounts.csv"), encoding)

    fast = CopyLegacyImport(batch_size=70).requests(path, encoding)
    assert fast.way == "set-based (COPY)"
    by_copy = _everything()
    assert by_copy[0], "nothing imported"
    StatusChange.objects.all().delete()
    FeeLine.objects.all().delete()
    IllRequest.objects.all().delete()

    slow = LegacyImport(batch_size=70).requests(path, encoding)
    assert slow.way == "row by row"
    assert _everything() == by_copy
    assert fast.as_dict() == slow.as_dict()
    assert sorted(fast.rejects) == sorted(slow.rejects)
    assert len(fast.rejects) >= 8  # the awkward rows' own defects are among them

    # And again: nothing changes, every row is unchanged.
    again = CopyLegacyImport().requests(path, encoding)
    assert again.as_dict() == {
        "created": 0,
        "updated": 0,
        "unchanged": slow.created,
        "rejected": slow.rejected,
    }
    assert _everything() == by_copy


@pytest.mark.skipif(connection.vendor != "postgresql", reason="COPY is PostgreSQL's")
def test_a_file_a_bare_copy_reads_otherwise_is_read_as_python_reads_it(tmp_path):
    # A quote inside an unquoted field: a quote to Python's csv module, the start of a quoted
    # part to PostgreSQL's CSV COPY. The set-based way reads the file with Python's module.
    generate(tmp_path, defects=False, requests=20)
    path = tmp_path / "requests.csv"
    text = path.read_text(encoding="utf-8-sig")
    path.write_text(text + '1234567,1,复制,图书,A "quoted" word,,,,,,,,2012-01-01 10:00:00,'
                    "处理中,1,,\n", encoding="utf-8-sig")  # fmt: skip
    output = run_import(tmp_path)
    assert "requests: written set-based (COPY)" in output
    assert "requests: created 21, updated 0, unchanged 0, rejected 0" in output
    assert IllRequest.objects.get(number=1234567).publication_title == 'A "quoted" word'


def test_imported_requests_start_their_history_with_the_old_status(tmp_path):
    generate(tmp_path, defects=False, requests=30)
    output = run_import(tmp_path)
    if connection.vendor == "postgresql":
        assert "requests: written set-based (COPY)" in output
    for ill_request in IllRequest.objects.all():
        (entry,) = ill_request.history.all()
        assert entry.to_status == ill_request.status and entry.from_status == ""
        assert entry.at == ill_request.submitted_at
        assert entry.event == Event.IMPORTED and entry.actor is None
    assert StatusChange.objects.count() == 30


def _index_definitions():
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT indexname, indexdef FROM pg_indexes WHERE tablename IN "
            "('requests_app_illrequest', 'requests_app_feeline', 'requests_app_statuschange') "
            "ORDER BY 1"
        )
        # A partial index's condition comes back from PostgreSQL spelled another (equivalent)
        # way once the index is built from its own definition: compare all but its spelling.
        indexes = [(name, definition.split(" WHERE ")[0], " WHERE " in definition)
                   for name, definition in cursor.fetchall()]  # fmt: skip
        cursor.execute(
            "SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid), convalidated "
            "FROM pg_constraint WHERE conrelid IN ('requests_app_illrequest'::regclass, "
            "'requests_app_feeline'::regclass, 'requests_app_statuschange'::regclass) "
            "ORDER BY 1, 2"
        )
        return indexes, cursor.fetchall()


@pytest.mark.skipif(connection.vendor != "postgresql", reason="COPY is PostgreSQL's")
def test_a_large_first_import_rebuilds_the_indexes_and_matches_row_by_row(tmp_path):
    generate(tmp_path, accounts=40, requests=300)
    path = str(tmp_path / "requests.csv")
    LegacyImport().accounts(str(tmp_path / "accounts.csv"), "utf-8-sig")
    indexes = _index_definitions()
    assert len(indexes[0]) > 10 and len(indexes[1]) > 10

    bulk = CopyLegacyImport(bulk_min=100).requests(path, "utf-8-sig")
    assert bulk.way == "set-based (COPY), indexes rebuilt after"
    assert _index_definitions() == indexes
    by_copy = _everything()
    StatusChange.objects.all().delete()
    FeeLine.objects.all().delete()
    IllRequest.objects.all().delete()
    slow = LegacyImport().requests(path, "utf-8-sig")
    assert _everything() == by_copy
    assert sorted(bulk.rejects) == sorted(slow.rejects) and bulk.as_dict() == slow.as_dict()
    # A second run is no first import: batches as usual, nothing changes.
    again = CopyLegacyImport(bulk_min=100).requests(path, "utf-8-sig")
    assert again.way == "set-based (COPY)" and again.created == 0


@pytest.mark.skipif(connection.vendor != "postgresql", reason="COPY is PostgreSQL's")
def test_a_large_first_import_bumps_the_statistics_of_its_months_and_keeps_the_triggers(
    tmp_path,
):
    generate(tmp_path, defects=False, accounts=20, requests=200)
    LegacyImport().accounts(str(tmp_path / "accounts.csv"), "utf-8-sig")
    StatisticsVersion.objects.create(month=date(1900, 1, 1), version=5)  # the readers' row
    bulk = CopyLegacyImport(bulk_min=100).requests(str(tmp_path / "requests.csv"), "utf-8-sig")
    assert bulk.way == "set-based (COPY), indexes rebuilt after"
    months = {
        moment.astimezone(UTC).date().replace(day=1)
        for moment in IllRequest.objects.values_list("submitted_at", flat=True)
    }
    bumped = dict(StatisticsVersion.objects.values_list("month", "version"))
    assert set(bumped) == months | {date(1900, 1, 1)}
    assert set(bumped.values()) == {1, 5}
    # The triggers are on again: a request changed afterwards bumps its month as before.
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_trigger WHERE tgrelid = "
            "'requests_app_illrequest'::regclass AND NOT tgisinternal AND tgenabled = 'D'"
        )
        assert cursor.fetchone()[0] == 0
    first = IllRequest.objects.order_by("number").first()
    IllRequest.objects.filter(pk=first.pk).update(status=Status.CANCELLED)
    month = first.submitted_at.astimezone(UTC).date().replace(day=1)
    assert StatisticsVersion.objects.get(month=month).version == 2


@pytest.mark.skipif(connection.vendor != "postgresql", reason="COPY is PostgreSQL's")
def test_a_large_first_import_that_fails_leaves_nothing_and_the_indexes(tmp_path):
    generate(tmp_path, defects=False, accounts=20, requests=200)
    LegacyImport().accounts(str(tmp_path / "accounts.csv"), "utf-8-sig")
    rows = list(csv.reader((tmp_path / "requests.csv").open(encoding="utf-8-sig", newline="")))
    _refuse_number(int(rows[150][0]))
    indexes = _index_definitions()
    with pytest.raises(Exception, match="refused"):
        CopyLegacyImport(bulk_min=100, batch_size=50).requests(
            str(tmp_path / "requests.csv"), "utf-8-sig"
        )
    assert IllRequest.objects.count() == 0  # one transaction: not even the first batches
    assert _index_definitions() == indexes
    _allow_again()


@pytest.mark.skipif(connection.vendor != "postgresql", reason="COPY is PostgreSQL's")
@pytest.mark.parametrize(
    ("tail", "reason"),
    [
        ("1234567,1,复制\n", "3 fields where the header has 17"),
        ("\\.\n", "1 fields where the header has 17"),
    ],
)
def test_a_row_a_bare_copy_refuses_is_rejected_as_row_by_row_rejects_it(tmp_path, tail, reason):
    generate(tmp_path, defects=False, requests=20)
    path = tmp_path / "requests.csv"
    path.write_text(path.read_text(encoding="utf-8-sig") + tail, encoding="utf-8-sig")
    rejects = tmp_path / "rejects.csv"
    output = run_import(tmp_path, "--rejects", str(rejects))
    assert "requests: written set-based (COPY)" in output
    assert "requests: created 20, updated 0, unchanged 0, rejected 1" in output
    assert reason in rejects.read_text(encoding="utf-8-sig")


@pytest.mark.parametrize(
    ("language", "text"),
    [("en", "Imported from the old ILL system with this status."),
     ("zh-hans", "从旧版馆际互借系统导入，导入时为此状态。")],
)  # fmt: skip
def test_staff_see_where_an_old_request_came_from(tmp_path, client_staff, language, text):
    generate(tmp_path, defects=False, requests=5)
    run_import(tmp_path)
    ill_request = IllRequest.objects.order_by("number").first()
    url = reverse("admin:requests_app_illrequest_change", args=[ill_request.pk])
    response = client_staff.get(url, HTTP_ACCEPT_LANGUAGE=language)
    assert response.status_code == 200
    content = response.content.decode()
    assert text in content
    assert ill_request.submitted_at.astimezone(ZoneInfo("Asia/Shanghai")).strftime("%Y") in content


def test_a_rerun_keeps_the_balance_and_password_of_an_account_already_linked(tmp_path, reader_a):
    # Found by the linking wizard's review: a changed row rewrote a linked account's balance
    # (already the reader's opening-balance ledger entry) and its password (perhaps upgraded).
    from accounts.ledger import ledger_balance
    from accounts.legacy_link import legacy_link

    generate(tmp_path, defects=False)
    run_import(tmp_path)
    path = tmp_path / "accounts.csv"
    rows = list(csv.reader(path.open(encoding="utf-8-sig", newline="")))
    line = next(
        i for i, row in enumerate(rows[1:], 1) if row[13] == "正常" and Decimal(row[12]) > 0
    )
    account = LegacyAccount.objects.get(user_id=int(rows[line][0]))
    legacy_link(legacy_account=account, reader=reader_a, actor=None)
    balance, password = ledger_balance(reader_a), account.password
    assert balance == account.balance

    rows[line][12] = "999.00"
    rows[line][2] = "PLAIN:something-else"
    rows[line][9] = "010-12345678"
    with path.open("w", encoding="utf-8-sig", newline="") as handle:
        csv.writer(handle).writerows(rows)
    run_import(tmp_path)

    account.refresh_from_db()
    assert account.phone == "010-12345678"  # the rest of the row is brought up to date
    assert account.balance == balance and account.password == password
    assert ledger_balance(reader_a) == balance
