"""The back office on a path of the operator's choosing (ADMIN_PATH, issue 15.1)."""

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

PROBE = """
import json, django
django.setup()
from django.test import Client
from django.urls import Resolver404, resolve, reverse
client = Client()
try:
    old = resolve("/admin/").view_name
except Resolver404:
    old = None
print(json.dumps({
    "index": reverse("admin:index"),
    "moved": client.get("/back-office/")["Location"],
    "login": client.get(client.get("/back-office/")["Location"])["Location"],
    "password": client.get("/back-office/password_change/")["Location"],
    "old": old,
}))
"""


def _start(admin_path, code=PROBE):
    env = {
        "PATH": os.environ.get("PATH", ""),
        "DJANGO_SETTINGS_MODULE": "illgateway.settings",
        "SECRET_KEY": "admin-path-secret-key-0123456789-abcdefghijklmnopqrstu",
        "ALLOWED_HOSTS": "testserver",
        "DATABASE_URL": "sqlite://:memory:",
        "CACHE_URL": "locmemcache://",
        "ADMIN_PATH": admin_path,
    }
    return subprocess.run(
        [sys.executable, "-W", "ignore::UserWarning", "-c", code],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_the_admin_moves_to_admin_path_and_the_old_path_is_gone():
    result = _start("/back-office/")
    assert result.returncode == 0, result.stderr
    answer = json.loads(result.stdout.strip().splitlines()[-1])
    assert answer["index"] == "/back-office/"
    # Not signed in: the portal's (throttled) login form, then back to the admin's new path.
    assert answer["moved"] == "/back-office/login/?next=/back-office/"
    assert answer["login"] == "/accounts/login/?next=%2Fback-office%2F"
    assert answer["password"] == "/accounts/password/change/"
    assert answer["old"] is None  # /admin/ is nothing now (a 404 page)


def test_an_admin_path_that_is_not_a_plain_path_is_refused():
    for bad in ("", "/", "admin/../x", "a dmin", "管理"):
        result = _start(bad, "import django; django.setup()")
        assert result.returncode != 0, bad
        assert "ADMIN_PATH must be a path like" in result.stderr, bad
