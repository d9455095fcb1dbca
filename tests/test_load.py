"""`make load` keeps working: the load test end to end at a tiny scale (README, "Deploying").

Not a timed test: a few users for a few seconds against gunicorn (DEBUG off) on loopback, on a
tiny data set built by bench/dataset.py; it checks that every journey ran, that no answer was
500 or more, that every confirmed submission is stored exactly once, and that the results are
written. PostgreSQL only (the data set is loaded with COPY); locust comes from `.venv-load`
(`make .venv-load/bin/locust`), apart from the application.
"""

import csv
import http.server
import json
import subprocess
import sys
import threading
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


@pytest.fixture(scope="module")
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


@pytest.fixture(scope="module")
def load_run(load_url, tmp_path_factory):
    """One run of bench/load.py at a tiny scale: its console output, report and folder."""
    out = tmp_path_factory.mktemp("load")
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
            str(out),
        ],
        cwd=ROOT,
        env={
            "PATH": "/usr/bin:/bin",
            "HOME": str(out),
            "LOAD_DATABASE_URL": load_url,
            "BENCH_DATABASE_URL": load_url,
        },
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return result, json.loads((out / "load.json").read_text()), out


def test_the_load_test_runs_every_journey_and_checks_each_submission(load_run):
    result, report, out = load_run
    assert "Building the data set: 40 readers, 400 requests" in result.stderr
    assert report["ok"] is True
    assert report["data_set"] == "built"
    assert report["scale"] == {"readers": 40, "requests": 400}
    checks = report["checks"]
    assert checks["answers_5xx"] == 0 and checks["failures"] == 0
    assert checks["submissions_confirmed"] >= 1
    assert checks["submissions_stored"] == checks["submissions_confirmed"]
    pages = {page["name"]: page for page in report["pages"]}
    # (locust keeps two digits of a time for its percentiles, while the median is kept between
    # the least and the most: over 100 ms, a p95 can read a little under the median.)
    for name in ["/ (board)", "/requests/ (list)", "/admin/requests_app/illrequest/ (submitted)"]:
        assert pages[name]["requests"] > 0, pages
        assert pages[name]["p95_ms"] > 0 and pages[name]["median_ms"] > 0
    assert pages["Aggregated"]["failures"] == 0
    assert "p95 ms" in result.stdout and "Machine: " in result.stdout
    assert (out / "load-stats.csv").read_text().startswith("Type,Name,")


def test_the_load_test_measures_a_baseline_in_the_same_run_and_reports_it_beside_each_page(
    load_run,
):
    result, report, out = load_run
    baseline, comparison = report["baseline"], report["comparison"]
    # The bare view carried load, from as many users, without a failed step.
    assert baseline["name"] == "/bench/bare/ (baseline)"
    assert baseline["requests"] >= 4 and baseline["failures"] == 0
    assert baseline["rps"] > 0 and baseline["p95_ms"] > 0 and baseline["median_ms"] > 0
    assert report["checks"]["baseline_requests"] == baseline["requests"]
    assert report["checks"]["baseline_failures"] == 0
    # Run right before the journeys, on the same server; the order is stated.
    phases = report["phases"]
    assert list(phases) == ["baseline", "journeys"]
    assert phases["baseline"]["ended"]["at"] <= phases["journeys"]["started"]["at"]
    assert report["order"].startswith("the baseline first")
    # Side by side: each page's median and p95 over the bare view's, throughput over throughput.
    journeys = {page["name"]: page for page in report["pages"]}["Aggregated"]
    assert comparison["baseline_rps"] == baseline["rps"]
    assert comparison["throughput_ratio"] == round(journeys["rps"] / baseline["rps"], 2)
    for page in report["pages"]:
        assert page["p95_ratio"] == round(page["p95_ms"] / baseline["p95_ms"], 2), page
        assert page["median_ratio"] == round(page["median_ms"] / baseline["median_ms"], 2)
    # The console summary, the markdown and the baseline's own CSV say the same.
    assert "GET /bench/bare/ (baseline)" in result.stdout
    assert "× p95" in result.stdout and "Order: the baseline first" in result.stdout
    assert f"ratio {comparison['throughput_ratio']}" in result.stdout
    markdown = (out / "load.md").read_text()
    assert "| GET /bench/bare/ (baseline) | " in markdown
    assert f"ratio {comparison['throughput_ratio']}" in markdown
    assert "/bench/bare/ (baseline)" in (out / "load-baseline-stats.csv").read_text()


class RefusingGateway(http.server.BaseHTTPRequestHandler):
    """A server that answers every page but accepts nothing: the request form comes back (200)
    instead of the new request's page, and the bare view sends to the login page (302)."""

    FORM = (
        '<form method="post"><input type="hidden" name="csrfmiddlewaretoken" value="c">'
        '<input type="hidden" name="token" value="t"></form>'
    )

    def do_GET(self):
        if self.path == "/bench/bare/":
            self.answer(302, "", location="/accounts/login/?next=/bench/bare/")
        else:
            self.answer(200, self.FORM)

    def do_POST(self):
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        self.answer(200, self.FORM)

    def answer(self, status, body, location=None):
        data = body.encode()
        self.send_response(status)
        if location:
            self.send_header("Location", location)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):
        pass


@pytest.fixture
def refusing_gateway():
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), RefusingGateway)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def _locust_stats(host, tmp_path, *user_classes):
    """Locust's rows per request name after one user of these classes ran for 3 s (locust
    exits 1 when a step failed, as these tests want)."""
    sessions = tmp_path / "sessions.json"
    sessions.write_text(
        json.dumps(
            {
                "cookie_name": "sessionid",
                "readers": [{"session": "reader", "email": "reader@example.org"}],
                "staff": "staff",
            }
        )
    )
    result = subprocess.run(
        [
            str(LOCUST),
            "-f",
            str(ROOT / "bench" / "locustfile.py"),
            "--headless",
            "--users",
            "1",
            "--spawn-rate",
            "1",
            "--run-time",
            "3s",
            "--host",
            host,
            "--csv",
            str(tmp_path / "stats"),
            "--only-summary",
            "--loglevel",
            "WARNING",
            *user_classes,
        ],
        cwd=tmp_path,
        env={
            "PATH": "/usr/bin:/bin",
            "HOME": str(tmp_path),
            "LOAD_SESSIONS": str(sessions),
            "LOAD_STAFF_USERS": "0",
            "LOAD_ATTEMPTED": str(tmp_path / "attempted.txt"),
            "LOAD_CONFIRMED": str(tmp_path / "confirmed.txt"),
        },
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode in (0, 1), result.stderr[-3000:]
    with open(tmp_path / "stats_stats.csv", encoding="utf-8") as stats:
        return {row["Name"]: row for row in csv.DictReader(stats)}


def test_a_submission_the_server_does_not_accept_is_a_failed_step(refusing_gateway, tmp_path):
    stats = _locust_stats(refusing_gateway, tmp_path, "Reader")
    submit = stats["/requests/new/ [submit]"]
    assert int(submit["Request Count"]) >= 1
    assert submit["Failure Count"] == submit["Request Count"]
    assert not (tmp_path / "confirmed.txt").exists()


def test_a_baseline_step_the_bare_view_does_not_answer_is_a_failed_step(refusing_gateway, tmp_path):
    stats = _locust_stats(refusing_gateway, tmp_path, "BareReader")
    bare = stats["/bench/bare/ (baseline)"]
    assert int(bare["Request Count"]) >= 1
    assert bare["Failure Count"] == bare["Request Count"]
