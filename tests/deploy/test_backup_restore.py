"""deploy/backup.sh and deploy/restore-drill.sh on a small database (issue 15.4)."""

import hashlib
import os
import subprocess
import urllib.parse
from pathlib import Path

import pytest
from django.db import connection

from accounts.ledger import ledger_record
from tests.factories import FeeLineFactory, IllRequestFactory, ReaderFactory

ROOT = Path(__file__).resolve().parents[2]
DATABASE_URL = os.environ.get("DATABASE_URL", "")

pytestmark = [
    pytest.mark.skipif(
        not DATABASE_URL.startswith(("postgres://", "postgresql://")),
        reason="pg_dump and pg_restore need PostgreSQL: set DATABASE_URL to a PostgreSQL database",
    ),
    # Committed rows, so that pg_dump (another connection) sees them.
    pytest.mark.django_db(transaction=True),
]


def _url(name: str) -> str:
    """The URL of database `name` on the test database's server."""
    parsed = urllib.parse.urlparse(DATABASE_URL)
    return parsed._replace(path=f"/{name}").geturl()


def _run(script, *args, env):
    return subprocess.run(
        [str(ROOT / "deploy" / script), *map(str, args)],
        cwd=ROOT,
        env={"PATH": os.environ.get("PATH", ""), **env},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


@pytest.fixture
def data(tmp_path):
    """Readers with money in and out, requests with fees, a few media files."""
    for i in range(3):
        reader = ReaderFactory()
        ledger_record(reader=reader, kind="deposit", amount="100.00", actor=None, method="cash")
        ledger_record(reader=reader, kind="adjustment", amount=f"-{i}.25", actor=None, note="x")
        for _ in range(2):
            FeeLineFactory(request=IllRequestFactory(reader=reader), amount="12.50")
    media = tmp_path / "media"
    (media / "deliveries" / "2026").mkdir(parents=True)
    for i in range(4):
        (media / "deliveries" / "2026" / f"copy-{i}.pdf").write_bytes(os.urandom(2000))
    return media


@pytest.fixture
def backup(data, tmp_path):
    env = {"DATABASE_URL": _url(connection.settings_dict["NAME"]), "MEDIA_ROOT": str(data)}
    result = _run("backup.sh", tmp_path / "backups", env=env)
    assert result.returncode == 0, result.stderr
    (folder,) = (tmp_path / "backups").iterdir()
    return folder, env


def _drill(folder, env):
    restore = connection.settings_dict["NAME"] + "_restore"
    return _run(
        "restore-drill.sh",
        folder,
        env={**env, "RESTORE_DATABASE_URL": _url(restore), "KEEP_RESTORED": "0", "DEBUG": "true"},
    )


def test_a_backup_restores_with_every_row_the_ledger_sums_and_the_media(backup):
    folder, env = backup
    assert sorted(p.name for p in folder.iterdir()) == [
        "SHA256SUMS",
        "counts.txt",
        "database.dump",
        "media.tar.gz",
    ]
    counts = dict(line.rsplit(" ", 1) for line in (folder / "counts.txt").read_text().splitlines())
    # Taken in the dump's snapshot, from what the test wrote.
    assert counts["rows readers_reader"] == "3"
    assert counts["rows requests_app_illrequest"] == "6"
    assert counts["ledger_entries"] == "6"
    assert counts["ledger_amount_sum"] == "296.25"  # 300 in, 0.25 + 1.25 + 2.25 out
    assert counts["account_balance_sum"] == "296.25"
    assert counts["request_fee_sum"] == "75.00"
    assert counts["media_files"] == "4"

    result = _drill(folder, env)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "the same rows in each" in result.stdout
    assert "Ledger OK: 6 entries" in result.stdout
    assert result.stdout.strip().endswith("restore-drill: OK")


def test_the_drill_fails_when_the_restored_data_differs_from_the_backup(backup):
    # As if the dump had lost a ledger entry: counts.txt (re-signed) says one more than it holds.
    folder, env = backup
    counts = folder / "counts.txt"
    counts.write_text(counts.read_text().replace("ledger_entries 6", "ledger_entries 7"))
    sums = "".join(
        f"{hashlib.sha256((folder / name).read_bytes()).hexdigest()}  {name}\n"
        for name in ("database.dump", "media.tar.gz", "counts.txt")
    )
    (folder / "SHA256SUMS").write_text(sums)
    result = _drill(folder, env)
    assert result.returncode == 1
    assert "-ledger_entries 7" in result.stdout and "+ledger_entries 6" in result.stdout
    assert "FAILED" in result.stderr


def test_the_drill_refuses_a_damaged_backup(backup):
    folder, env = backup
    with open(folder / "database.dump", "r+b") as dump:
        dump.seek(100)
        dump.write(b"\0\0\0\0")
    result = _drill(folder, env)
    assert result.returncode != 0
    assert "database.dump: FAILED" in result.stdout + result.stderr


def test_the_drill_never_restores_over_the_live_database(backup):
    folder, env = backup
    result = _run(
        "restore-drill.sh", folder, env={**env, "RESTORE_DATABASE_URL": env["DATABASE_URL"]}
    )
    assert result.returncode == 2
    assert "refusing" in result.stderr
