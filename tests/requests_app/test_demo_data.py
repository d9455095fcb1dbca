import io

import pytest
from django.apps import apps
from django.core import serializers
from django.core.management import call_command

from accounts.legacy import LegacyAccount, check_legacy_password

pytestmark = pytest.mark.django_db


def snapshot():
    rows = []
    for label in (
        "auth.User",
        "readers.Reader",
        "readers.Notice",
        "readers.Page",
        "requests_app.IllRequest",
        "requests_app.FeeLine",
        "requests_app.StatusChange",
        "requests_app.Supplier",
        "accounts.LedgerEntry",
        "accounts.LegacyAccount",
        "accounts.PublicAccount",
    ):
        rows.append(serializers.serialize("json", apps.get_model(label).objects.order_by("pk")))
    return rows


def test_demo_data_creates_the_cast_and_a_second_run_changes_nothing(client):
    out = io.StringIO()
    call_command("demo_data", "--i-know-this-is-not-production", stdout=out)
    first = snapshot()
    call_command("demo_data", "--i-know-this-is-not-production", stdout=out)
    assert "already loaded, nothing changed" in out.getvalue()
    assert snapshot() == first

    from django.contrib.auth import get_user_model

    from readers.models import Notice, Page, Reader

    User = get_user_model()
    assert User.objects.get(username="demo-staff").is_staff
    assert Reader.objects.get(user__username="demo-reader").is_confirmed
    assert Reader.objects.get(user__username="demo-pending").is_pending
    assert Notice.objects.filter(pinned=True).exists()
    from requests_app.models import Supplier

    assert {"calis", "nstl", "cashl"} <= set(Supplier.objects.values_list("kind", flat=True))
    assert Page.objects.count() == 4  # help, about, fee schedule, copyright statement
    from requests_app.models import IllRequest

    assert IllRequest.objects.filter(reader__user__username="demo-reader").count() == 3
    # The demo reader paid in first, so the delivered demo copy was charged, not held back.
    from accounts.ledger import ledger_balance

    delivered = IllRequest.objects.get(submission_token="demo-request-delivered-copy")
    assert delivered.status == "delivered"
    demo_reader = Reader.objects.get(user__username="demo-reader")
    charged = sum(line.amount for line in delivered.fee_lines.all())
    assert charged > 0
    assert ledger_balance(demo_reader) == 100 - charged
    assert client.login(username="demo-reader", password="demo-password")
    # The public account, as the seed documents it.
    assert client.login(username="passing", password="passing")


def test_demo_data_refuses_to_run_with_debug_off_unless_told(settings):
    from django.contrib.auth import get_user_model
    from django.core.management import CommandError

    settings.DEBUG = False
    with pytest.raises(CommandError, match="--i-know-this-is-not-production"):
        call_command("demo_data", stdout=io.StringIO())
    assert not get_user_model().objects.filter(username="demo-staff").exists()


def test_demo_data_runs_with_debug_on(settings):
    from django.contrib.auth import get_user_model

    settings.DEBUG = True
    call_command("demo_data", stdout=io.StringIO())
    assert get_user_model().objects.filter(username="demo-staff").exists()


def test_manage_py_refuses_it_in_the_production_setup(tmp_path):
    import os
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    env = {
        "PATH": os.environ.get("PATH", ""),
        "DEBUG": "false",
        "SECRET_KEY": "a-production-like-secret-key-0123456789-abcdefgh",
        "ALLOWED_HOSTS": "ill.example.edu.cn",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
    }
    result = subprocess.run(
        [sys.executable, "manage.py", "demo_data"],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode != 0
    assert "--i-know-this-is-not-production" in result.stderr


def test_the_demo_old_accounts_can_be_linked_with_the_password_the_readme_gives(client):
    call_command("demo_data", "--i-know-this-is-not-production", stdout=io.StringIO())
    linkable = LegacyAccount.objects.filter(status="active")
    assert set(linkable.values_list("username", flat=True)) == {
        "old-zhang",
        "old-li",
        "old-li-2",
        "old-wang",
    }
    assert all(check_legacy_password(a, "old-password") for a in LegacyAccount.objects.all())
    # Seed 2.1: an old off-campus username logs in and goes straight to the confirmation.
    response = client.post("/accounts/login/", {"login": "old-li", "password": "old-password"})
    assert response["Location"] == "/link/confirm/"
