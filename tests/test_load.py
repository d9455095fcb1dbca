"""`make load` keeps working: the load test end to end at a tiny scale (README, "Deploying").

Not a timed test: a few users for a few seconds against gunicorn (DEBUG off) on loopback, on a
tiny data set built by bench/dataset.py; it checks that every journey ran, that no answer was
500 or more, that every confirmed submission is stored exactly once, and that the results are
written. PostgreSQL only (the data set is loaded with COPY); locust comes from `.venv-load`
(`make .venv-load/bin/locust`), apart from the application.
"""

import json
import subprocess
import sys
from pathlib import Path

import psycopg2
import pytest
from django.db import connection

ROOT = Path(__file__).resolve().parent.parent
LOCUST = ROOT / ".venv-load" / "bin" / "locust"

pytestmark = [
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="the load test's data set is loaded with PostgreSQL's COPY (set DATABASE_URL)",
    ),
    pytest.mark.skipif(
        not LOCUST.exists(), reason="locust is not installed (make .venv-load/bin/locust)"
    ),
]


@pytest.fixture
def load_url():
    settings = connection.settings_dict
    name = f"test_{settings['NAME']}_load"
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


def test_the_load_test_runs_every_journey_and_checks_each_submission(load_url, tmp_path):
    result = subprocess.run(
        [
            sys.executable,
            str(ROOT / "bench" / "load.py"),
            "--locust",
            str(LOCUST),
            "--readers",
            "40",
            "--requests",
            "400",
            "--users",
            "4",
            "--staff",
            "1",
            "--spawn-rate",
            "4",
            "--duration",
            "6s",
            "--workers",
            "1",
            "--out",
            str(tmp_path),
        ],
        cwd=ROOT,
        env={
            "PATH": "/usr/bin:/bin",
            "HOME": str(tmp_path),
            "LOAD_DATABASE_URL": load_url,
            "BENCH_DATABASE_URL": load_url,
        },
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert "Building the data set: 40 readers, 400 requests" in result.stderr
    report = json.loads((tmp_path / "load.json").read_text())
    assert report["ok"] is True
    assert report["data_set"] == "built"
    assert report["scale"] == {"readers": 40, "requests": 400}
    checks = report["checks"]
    assert checks["answers_5xx"] == 0 and checks["failures"] == 0
    assert checks["submissions_confirmed"] >= 1
    assert checks["submissions_stored"] == checks["submissions_confirmed"]
    pages = {page["name"]: page for page in report["pages"]}
    for name in ["/ (board)", "/requests/ (list)", "/admin/requests_app/illrequest/ (submitted)"]:
        assert pages[name]["requests"] > 0, pages
        assert pages[name]["p95_ms"] >= pages[name]["median_ms"] > 0
    assert pages["Aggregated"]["failures"] == 0
    assert "p95 ms" in result.stdout and "Machine: " in result.stdout
    assert (tmp_path / "load-stats.csv").read_text().startswith("Type,Name,")
