"""`make bench` keeps working: the benchmark run end to end at a tiny scale (README, "Benchmarks").

Not a timed test: it checks that the data set is built and then reused, that gunicorn serves
every page measured (no error answers), and that the table and the JSON say what was measured.
PostgreSQL only: the data set is loaded with COPY into a database of its own.
"""

import json
import subprocess
import sys
from pathlib import Path

import psycopg2
import pytest
from django.db import connection

ROOT = Path(__file__).resolve().parent.parent

pytestmark = pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="the benchmark loads its data set with PostgreSQL's COPY (set DATABASE_URL)",
)


@pytest.fixture
def bench_url():
    settings = connection.settings_dict
    name = f"test_{settings['NAME']}_bench"
    host = settings.get("HOST") or "127.0.0.1"
    port = settings.get("PORT") or 5432
    user = settings.get("USER") or "postgres"
    password = settings.get("PASSWORD") or ""
    auth = f"{user}:{password}@" if password else f"{user}@"
    base = f"postgres://{auth}{host}:{port}"
    yield f"{base}/{name}"
    admin = psycopg2.connect(f"{base}/postgres")
    admin.autocommit = True
    with admin.cursor() as cursor:
        cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    admin.close()


def run(bench_url, tmp_path, *extra):
    result = subprocess.run(
        [
            sys.executable,
            str(ROOT / "bench" / "run.py"),
            "--readers",
            "40",
            "--requests",
            "400",
            "--seconds",
            "0.2",
            "--rounds",
            "1",
            "--concurrency",
            "1",
            "--workers",
            "1",
            "--json",
            str(tmp_path / "bench.json"),
            *extra,
        ],
        cwd=ROOT,
        env={"PATH": "/usr/bin:/bin", "BENCH_DATABASE_URL": bench_url, "HOME": str(tmp_path)},
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return result.stdout, json.loads((tmp_path / "bench.json").read_text())


def test_the_benchmark_builds_its_data_measures_every_page_and_reuses_the_data(bench_url, tmp_path):
    out, report = run(bench_url, tmp_path)
    assert "Building the data set: 40 readers, 400 requests" in out
    names = [r["name"] for r in report["results"]]
    for expected in [
        "reader: home",
        "reader (20): list",
        "reader (20): list, last page",
        "reader (100): list, last page",
        "reader: detail",
        "reader: form",
        "reader: submit",
        "admin requests: default",
        "admin requests: delivered",
        "admin requests: search number",
        "admin requests: search reader",
        "admin requests: search title",
        "admin readers: default",
        "admin ledger entries: default",
        "admin audit log: default",
    ]:
        assert expected in names
    for result in report["results"]:
        assert "error" not in result, result
        assert result["error_count"] == 0, result
        assert result["page"]["requests"] > 0 and result["bare"]["requests"] > 0, result
        assert result["ratio"] > 0
        assert result["page"]["p95_ms"] >= result["page"]["p50_ms"] > 0
    assert report["scale"] == {"readers": 40, "requests": 400}
    assert "ratio" in out and "admin requests: search title" in out

    out, report = run(bench_url, tmp_path, "--only", "reader: home")
    assert "Reusing the data set" in out
    # A reused data set is vacuumed after its migrations (a stale visibility map would make the
    # reader's list count read the heap instead of its index).
    assert "vacuum analyze:" in out.split("Reusing the data set", 1)[1]
    assert [r["name"] for r in report["results"]] == ["reader: home"]


def test_the_import_benchmark_prints_the_import_beside_both_baselines(bench_url):
    """`make bench-import` at a tiny scale: each file's import against a bare COPY of the file,
    and the requests' import against the floor (the rows it wrote, COPY + their indexes)."""
    result = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "import_legacy.py"), "--accounts", "30",
         "--requests", "300"],
        cwd=ROOT,
        env={"PATH": "/usr/bin:/bin", "DATABASE_URL": bench_url,
             "LEGACY_PASSWORD_ITERATIONS": "1000"},
        capture_output=True,
        text=True,
        timeout=600,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    lines = result.stdout.splitlines()
    accounts = next(line for line in lines if line.startswith("accounts "))
    requests = next(line for line in lines if line.startswith("requests "))
    floor = next(line for line in lines if line.endswith("the rows written, COPY + their indexes"))
    assert accounts.split()[1] == "30" and requests.split()[1] == "300"
    # file, rows, import s, rows/s, COPY s, COPY rows/s, ratio, peak MB (at this scale the
    # import's start-up dwarfs the COPY: its seconds and the ratio may print as 0.00)
    for line in (accounts, requests):
        seconds, rate, _copy_s, copy_rate, _ratio, peak = (float(f) for f in line.split()[2:])
        assert seconds > 0 and rate > 0 and copy_rate > 0 and peak > 0, line
    # COPY + indexes s, its rows/s, the import's ratio to it
    fields = [float(field) for field in floor.split()[:3]]
    assert fields[0] > 0 and fields[1] > 0 and fields[2] >= 0, floor
    # The floor's copies of the request tables are dropped after it is measured.
    with psycopg2.connect(bench_url) as measured, measured.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_tables WHERE tablename LIKE 'bench_%'")
        assert cursor.fetchone()[0] == 0
        cursor.execute("SELECT count(*) FROM requests_app_illrequest")
        assert cursor.fetchone()[0] > 0
    measured.close()
