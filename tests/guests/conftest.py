"""The public account and its guests: two browsers logged in with it, side by side."""

import re

import pytest
from django.core import mail
from django.core.management import call_command
from django.test import Client
from django.urls import reverse

from accounts.public import DEFAULT_PASSWORD, DEFAULT_USERNAME
from tests.requests_app.conftest import worked_example


@pytest.fixture
def public_account(db):
    call_command("public_account", verbosity=0)
    from accounts.models import PublicAccount

    return PublicAccount.objects.get()


def guest_login(client=None, *, address="203.0.113.7"):
    """A browser that logs in with the public account on the normal login page."""
    client = client or Client(REMOTE_ADDR=address)
    response = client.post(
        reverse("account_login"), {"login": DEFAULT_USERNAME, "password": DEFAULT_PASSWORD}
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    return client


@pytest.fixture
def guest_1(public_account):
    return guest_login()


@pytest.fixture
def guest_2(public_account):
    return guest_login(address="198.51.100.9")


def guest_example(**overrides):
    data = worked_example(
        contact_name="张三 Zhang San",
        contact_address="北京市海淀区 1 号",
        contact_email="zhang@example.org",
        contact_phone="13800138000",
    )
    data.update(overrides)
    return data


LINK_RE = re.compile(r"https?://[^/\s]+(/guest/r/(\d+)/([0-9a-f]+)/)")


def links_in_outbox(to: str | None = None) -> list[str]:
    """The private-link paths e-mailed so far (to `to`, if given), in order."""
    paths = []
    for message in mail.outbox:
        if to and message.to != [to]:
            continue
        paths += [m.group(1) for m in LINK_RE.finditer(message.body)]
    return paths


def submit(client, capture, **overrides):
    """Submit as a guest; return the request's private-link path (from the redirect)."""
    with capture(execute=True):
        response = client.post(reverse("guest_submit"), guest_example(**overrides))
    assert response.status_code == 302, response.content.decode()[:3000]
    return response["Location"]
