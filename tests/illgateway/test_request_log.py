"""One log line per request, JSON when LOG_FORMAT=json (issue 15.2)."""

import json
import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

PROBE = """
import django
django.setup()
from django.test import Client
Client().get("/i18n/setlang/?next=/help/&title=secret")
Client().get("/healthz")  # no tables in this database: 503
"""


def _run(log_format):
    env = {
        "PATH": os.environ.get("PATH", ""),
        "DJANGO_SETTINGS_MODULE": "illgateway.settings",
        "SECRET_KEY": "log-probe-secret-key-0123456789-abcdefghijklmnopq",
        "ALLOWED_HOSTS": "testserver",
        "DATABASE_URL": "sqlite://:memory:",
        "CACHE_URL": "locmemcache://",
        "LOG_FORMAT": log_format,
    }
    result = subprocess.run(
        [sys.executable, "-W", "ignore::UserWarning", "-c", PROBE],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return result.stderr.strip().splitlines()


def test_json_logs_one_object_per_request_with_method_path_status_and_duration():
    # Django's own ERROR line for a 5xx stays (with the traceback, for a crash).
    lines = [line for line in map(json.loads, _run("json")) if line["logger"] != "django.request"]
    requests = [line for line in lines if line["logger"] == "illgateway.request"]
    assert [(r["method"], r["path"], r["status"]) for r in requests] == [
        ("GET", "/i18n/setlang/", 302),
        ("GET", "/healthz", 503),
    ]
    for line in requests:
        assert isinstance(line["duration_ms"], float) and line["duration_ms"] >= 0
        assert line["level"] == "INFO" and line["time"].endswith("+00:00")
    # The query string (what a reader may have typed) is not logged; the failing check says why.
    assert "secret" not in "\n".join(_run("json"))
    assert [line["logger"] for line in lines] == [
        "illgateway.request",
        "illgateway.health",
        "illgateway.request",
    ]
    assert "no such table" in lines[1]["exception"]


def test_text_logs_one_readable_line_per_request():
    lines = [line for line in _run("text") if " illgateway.request " in line]
    assert len(lines) == 2
    assert lines[1].split()[2:7] == ["INFO", "illgateway.request", "GET", "/healthz", "503"]
    assert lines[1].endswith("ms")


def test_an_unknown_log_format_is_refused():
    with pytest.raises(AssertionError, match="LOG_FORMAT must be text or json"):
        _run("xml")


def test_the_json_formatter_keeps_exceptions_and_non_ascii_text():
    from illgateway.logformat import JsonFormatter

    try:
        raise ValueError("坏")
    except ValueError:
        record = logging.LogRecord(
            "x", logging.ERROR, __file__, 1, "读者 %s", ("甲",), sys.exc_info()
        )
    line = json.loads(JsonFormatter().format(record))
    assert line["message"] == "读者 甲"
    assert "ValueError: 坏" in line["exception"]
