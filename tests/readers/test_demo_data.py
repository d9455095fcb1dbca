import io

import pytest
from django.apps import apps
from django.core import serializers
from django.core.management import call_command

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
    ):
        rows.append(serializers.serialize("json", apps.get_model(label).objects.order_by("pk")))
    return rows


def test_demo_data_creates_the_cast_and_a_second_run_changes_nothing(client):
    out = io.StringIO()
    call_command("demo_data", stdout=out)
    first = snapshot()
    call_command("demo_data", stdout=out)
    assert "already loaded, nothing changed" in out.getvalue()
    assert snapshot() == first

    from django.contrib.auth import get_user_model

    from readers.models import Notice, Page, Reader

    User = get_user_model()
    assert User.objects.get(username="demo-staff").is_staff
    assert Reader.objects.get(user__username="demo-reader").is_confirmed
    assert Reader.objects.get(user__username="demo-pending").is_pending
    assert Notice.objects.filter(pinned=True).exists()
    assert Page.objects.count() == 3
    from requests_app.models import IllRequest

    assert IllRequest.objects.filter(reader__user__username="demo-reader").count() == 3
    assert client.login(username="demo-reader", password="demo-password")
