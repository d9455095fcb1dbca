"""The production guard: with DEBUG off the process refuses to start without real settings."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def start(**environment):
    env = {k: v for k, v in os.environ.items() if k not in {"DEBUG", "SECRET_KEY", "ALLOWED_HOSTS"}}
    env.update(environment, DJANGO_SETTINGS_MODULE="illgateway.settings")
    return subprocess.run(
        [sys.executable, "-c", "import django; django.setup(); print('started')"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


GOOD_KEY = "k3y-for-the-guard-test-0123456789-abcdefghijklmno"


def test_production_start_without_secret_key_names_it():
    result = start(DEBUG="false", ALLOWED_HOSTS="ill.example.edu")
    assert result.returncode != 0
    assert "SECRET_KEY" in result.stderr
    assert "ALLOWED_HOSTS (" not in result.stderr


def test_production_start_without_allowed_hosts_names_it():
    result = start(DEBUG="false", SECRET_KEY=GOOD_KEY)
    assert result.returncode != 0
    assert "ALLOWED_HOSTS" in result.stderr
    assert "SECRET_KEY (" not in result.stderr


def test_production_start_refuses_an_insecure_secret_key():
    result = start(DEBUG="false", SECRET_KEY="django-insecure-abc", ALLOWED_HOSTS="ill.example.edu")
    assert result.returncode != 0
    assert "SECRET_KEY" in result.stderr


def test_production_start_with_real_settings_succeeds():
    result = start(DEBUG="false", SECRET_KEY=GOOD_KEY, ALLOWED_HOSTS="ill.example.edu")
    assert result.returncode == 0, result.stderr
    assert "started" in result.stdout


def test_development_start_needs_nothing():
    result = start(DEBUG="true")
    assert result.returncode == 0, result.stderr


def test_a_wrong_surcharge_is_named():
    result = start(DEBUG="true", URGENT_SURCHARGE="ten yuan")
    assert result.returncode != 0
    assert "URGENT_SURCHARGE must be an amount in yuan" in result.stderr


def test_the_embedded_database_passes_the_system_checks_without_warnings(tmp_path):
    """`make run` on SQLite must not open with a warning: SQLite builds the covering indexes
    without their INCLUDE columns (models.W040), which changes speed only, on PostgreSQL."""
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env.update(
        DEBUG="true",
        DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}",
        DJANGO_SETTINGS_MODULE="illgateway.settings",
    )
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--database", "default", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert "W040" not in result.stderr + result.stdout
