"""Two gunicorn servers and a worker on one PostgreSQL, one stopped mid-traffic (issue 15.3).

Runs bench/multi_server.py at a small scale against a scratch database beside the test
database (`<name>_multi`, dropped and re-created by the script)."""

import json
import os
import subprocess
import sys
import urllib.parse
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DATABASE_URL = os.environ.get("DATABASE_URL", "")

pytestmark = pytest.mark.skipif(
    not DATABASE_URL.startswith(("postgres://", "postgresql://")),
    reason="several servers share one PostgreSQL: set DATABASE_URL to a PostgreSQL database",
)


def scratch_database_url(suffix: str) -> str:
    parsed = urllib.parse.urlparse(DATABASE_URL)
    return parsed._replace(path=f"{parsed.path.rstrip('/')}_{suffix}").geturl()


def test_two_servers_lose_and_duplicate_nothing_when_one_stops_and_a_worker_is_killed():
    result = subprocess.run(
        [sys.executable, "bench/multi_server.py", "--readers", "4", "--submissions", "4"],
        cwd=ROOT,
        env={"PATH": os.environ.get("PATH", ""), "DATABASE_URL": scratch_database_url("multi")},
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    summary = json.loads(result.stdout)
    assert result.returncode == 0, result.stdout + result.stderr[-5000:]
    assert summary["ok"] is True
    assert summary["submissions_made"] == summary["requests_stored"] == 16
    assert summary["lost"] == summary["duplicated"] == []
    assert summary["emails_sent"] == 16
    assert summary["emails_sent_twice"] == summary["emails_missing"] == []
    assert summary["b_worker_killed"]
    assert summary["served_after_the_stop"]["B"] > 0
    assert summary["survivor_healthz"] == 200
    assert summary["login_throttle_shared"] is True
    assert summary["responses_5xx"] == 0
