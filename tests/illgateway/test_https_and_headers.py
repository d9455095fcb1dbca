"""HTTPS behind the proxy (HSTS, redirect), `check --deploy`, cookies and caching (issue 7.5)."""

import json
import os
import re
import runpy
import subprocess
import sys
from pathlib import Path

import pytest

from tests.factories import IllRequestFactory, NoticeFactory

ROOT = Path(__file__).resolve().parents[2]

# The production setup the README documents ("Production" and the configuration table).
PRODUCTION_ENV = {
    "DEBUG": "false",
    "SECRET_KEY": "production-like-secret-key-0123456789-abcdefghijklmn",
    "ALLOWED_HOSTS": "ill.example.edu.cn",
    "CSRF_TRUSTED_ORIGINS": "https://ill.example.edu.cn",
    "DATABASE_URL": "postgres://illgateway:secret@127.0.0.1:5432/illgateway",
    "EMAIL_URL": "smtp+tls://ill:secret@smtp.example.edu.cn:587",
    "SITE_URL": "https://ill.example.edu.cn",
    "BEHIND_HTTPS_PROXY": "true",
}


def _run(args, extra_env=None, **kwargs):
    env = {"PATH": os.environ.get("PATH", ""), **PRODUCTION_ENV, **(extra_env or {})}
    return subprocess.run(
        [sys.executable, *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        **kwargs,
    )


def test_check_deploy_is_clean_in_the_documented_production_setup():
    result = _run(["manage.py", "check", "--deploy", "--fail-level", "WARNING"])
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_check_deploy_warns_without_the_https_proxy():
    # The check really looks: without HTTPS indicated there is no HSTS and no redirect.
    result = _run(
        ["manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        {"BEHIND_HTTPS_PROXY": "false"},
    )
    assert result.returncode != 0
    assert "security.W004" in result.stderr and "security.W008" in result.stderr


# Asks the production settings, through Django's test client, in a process of its own (the
# settings are read from the environment once, at start).
PROBE = """
import json, django
django.setup()
from django.conf import settings
from django.test import Client
client = Client()
# Pages that render no template: the probe has no collected static files.
plain = client.get("/i18n/setlang/?next=/help/")
secure = client.get("/i18n/setlang/?next=/help/", headers={"x-forwarded-proto": "https"})
language = client.post(
    "/i18n/setlang/", {"language": "en", "next": "/"}, headers={"x-forwarded-proto": "https"}
)
cookie = language.cookies[settings.LANGUAGE_COOKIE_NAME]
print(json.dumps({
    "plain": [plain.status_code, plain.get("Location", "")],
    "hsts": secure.get("Strict-Transport-Security"),
    "language_cookie": {
        "samesite": cookie["samesite"], "secure": bool(cookie["secure"]),
        "httponly": bool(cookie["httponly"]),
    },
    "server": secure.get("Server"),
}))
"""


def _probe(extra_env=None):
    env = {
        "DJANGO_SETTINGS_MODULE": "illgateway.settings",
        "ALLOWED_HOSTS": "testserver",
        "CACHE_URL": "locmemcache://",
        "DATABASE_URL": "sqlite://:memory:",
        **(extra_env or {}),
    }
    result = _run(["-c", PROBE], env)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_behind_the_https_proxy_plain_http_is_redirected_and_hsts_is_sent():
    answer = _probe()
    assert answer["plain"] == [301, "https://testserver/i18n/setlang/?next=/help/"]
    assert answer["hsts"] == "max-age=31536000; includeSubDomains"
    assert answer["language_cookie"] == {"samesite": "Lax", "secure": True, "httponly": True}
    # Django sends no Server header of its own (the WSGI server and the proxy may: README).
    assert answer["server"] is None


def test_hsts_is_configurable():
    answer = _probe({"HSTS_SECONDS": "600", "HSTS_INCLUDE_SUBDOMAINS": "false"})
    assert answer["hsts"] == "max-age=600"
    preload = _probe({"HSTS_PRELOAD": "true"})
    assert preload["hsts"] == "max-age=31536000; includeSubDomains; preload"


def test_without_the_https_proxy_there_is_no_redirect_and_no_hsts():
    answer = _probe({"BEHIND_HTTPS_PROXY": "false", "SECURE_COOKIES": "false"})
    assert answer["plain"] == [302, "/help/"]
    assert answer["hsts"] is None
    assert answer["language_cookie"] == {"samesite": "Lax", "secure": False, "httponly": True}


# --- Cache-Control: no-store ------------------------------------------------------------------


def _no_store(response):
    return "no-store" in response.get("Cache-Control", "")


@pytest.mark.django_db
def test_every_page_a_signed_in_reader_sees_is_not_stored(client_a, reader_a):
    number = IllRequestFactory(reader=reader_a).number
    notice = NoticeFactory()
    for url in [
        "/",
        "/profile/",
        "/requests/",
        "/requests/new/",
        f"/requests/{number}/",
        f"/requests/{number}/cancel/",
        f"/notices/{notice.pk}/",
        "/account/",
        "/help/",
        "/accounts/password/change/",
        "/requests/999999/",
    ]:
        response = client_a.get(url)
        assert response.status_code in (200, 404), (url, response.status_code)
        assert _no_store(response), url
    # Redirects after a change too (the profile saved, a request submitted…), and error pages.
    assert _no_store(client_a.post("/profile/", {}))
    assert _no_store(client_a.get("/requests/?q=%00"))


@pytest.mark.django_db
def test_every_admin_page_is_not_stored(client_staff, reader_a):
    ill_request = IllRequestFactory(reader=reader_a)
    for url in [
        "/admin/",
        "/admin/readers/reader/",
        f"/admin/readers/reader/{reader_a.pk}/change/",
        "/admin/requests_app/illrequest/",
        f"/admin/requests_app/illrequest/{ill_request.pk}/change/",
        f"/admin/requests_app/illrequest/{ill_request.pk}/transition/",
    ]:
        response = client_staff.get(url)
        assert response.status_code == 200, url
        assert _no_store(response), url


@pytest.mark.django_db
def test_a_signed_in_pending_reader_is_covered_too(client_pending):
    assert _no_store(client_pending.get("/profile/"))


@pytest.mark.django_db
def test_anonymous_public_pages_may_be_cached(client_anon):
    # The rule is about signed-in people: the public board and login page carry no one's data.
    assert not _no_store(client_anon.get("/help/"))


# --- The deploy/ files (issue 15.1) ------------------------------------------------------------

DEPLOY = ROOT / "deploy"
read_env_file = runpy.run_path(str(DEPLOY / "envfile.py"))["read_env_file"]


def _sample_env():
    """deploy/illgateway.env.sample as systemd reads it, with the one value it leaves blank."""
    env = read_env_file(str(DEPLOY / "illgateway.env.sample"))
    assert env["SECRET_KEY"] == ""  # no secret in the repository for anyone to copy
    env["SECRET_KEY"] = "sample-env-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz"
    return env


def test_check_deploy_is_clean_with_the_deploy_environment_sample():
    env = {"PATH": os.environ.get("PATH", ""), **_sample_env()}
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_the_environment_sample_documents_every_variable_the_code_reads():
    read = set(
        re.findall(r'env\.\w+\(\s*"([A-Z_]+)"', (ROOT / "illgateway/settings.py").read_text())
    )
    read |= set(
        re.findall(r'os\.environ\.get\("([A-Z_]+)"', (DEPLOY / "gunicorn.conf.py").read_text())
    )
    read |= {"SAML_LEGACY_PROVIDER", "TASKS_BACKEND"}  # a migration's; a multi-line call
    assert len(read) > 40
    sample = (DEPLOY / "illgateway.env.sample").read_text()
    documented = set(re.findall(r"^#? ?([A-Z_]+)=", sample, flags=re.MULTILINE))
    assert read - documented == set()
    # …and the README's configuration table names the application's.
    readme = (ROOT / "README.md").read_text()
    app_vars = read - {v for v in read if v.startswith("GUNICORN_")} - {"FORWARDED_ALLOW_IPS"}
    assert {v for v in app_vars if f"`{v}`" not in readme} == set()


def test_the_gunicorn_configuration_loads_with_the_sample_environment():
    env = {"PATH": os.environ.get("PATH", ""), **_sample_env(), "GUNICORN_WORKERS": "3"}
    result = subprocess.run(
        [
            str(Path(sys.executable).parent / "gunicorn"),
            "--check-config",
            "--print-config",
            "-c",
            "deploy/gunicorn.conf.py",
            "illgateway.wsgi",
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    config = {
        key.strip(): value.strip()
        for key, _, value in (line.partition("=") for line in result.stdout.splitlines())
    }
    assert config["workers"] == "3"
    assert config["worker_tmp_dir"] == "/dev/shm"
    assert config["control_socket_disable"] == "True"
    assert "%(M)s" in config["access_log_format"]


def test_nginx_lets_through_every_body_django_accepts():
    from django.conf import settings

    site = (DEPLOY / "nginx" / "illgateway.conf").read_text()
    size = re.search(r"client_max_body_size (\d+)m;", site)
    assert int(size.group(1)) * 1024 * 1024 >= settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    # …and the page where staff attach a delivered PDF takes the largest one allowed.
    deliver = re.search(r"deliver/\$ \{\s*client_max_body_size (\d+)m;", site)
    assert int(deliver.group(1)) > settings.DELIVERY_MAX_MB
    for header in ("X-Forwarded-For $proxy_add_x_forwarded_for", "X-Forwarded-Proto $scheme"):
        assert header in site
    assert "server_tokens off" in site


def test_every_scheduled_job_has_a_service_and_a_timer():
    units = {p.name for p in (DEPLOY / "systemd").iterdir()}
    for job in ("expire-requests", "purge-deliveries", "sync-federation", "check-ledger"):
        assert {f"illgateway-{job}.service", f"illgateway-{job}.timer"} <= units
    assert {"illgateway-web.service", "illgateway-worker.service"} <= units


@pytest.mark.parametrize(
    ("variable", "value", "warning"),
    [
        ("CACHE_URL", "locmemcache://", "illgateway.W001"),
        ("TASKS_BACKEND", "django_tasks.backends.immediate.ImmediateBackend", "illgateway.W003"),
    ],
)
def test_check_deploy_warns_of_state_one_server_keeps_to_itself(variable, value, warning):
    env = {"PATH": os.environ.get("PATH", ""), **_sample_env(), variable: value}
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode != 0
    assert warning in result.stderr
