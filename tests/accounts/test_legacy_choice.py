"""The first entry after login asks a reader from before the question once (SPEC 3, issue 11).

Readers who had a gateway account before the old system's accounts came across were never asked
whether they had one: the board sends them to the choice — 关联原有帐户 or 注册新帐户 — until
they answer; linking answers it, and so does declining. Staff, rejected readers, guests of the
public account and readers who answered are never asked.
"""

import importlib
from decimal import Decimal

import pytest
from django.apps import apps as global_apps
from django.core.cache import cache
from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from accounts.hashers import wrap_legacy_password
from accounts.ledger import ledger_balance
from accounts.legacy import LegacyAccount
from readers.models import Reader, ReaderStatus
from tests.accounts.test_registration import FORM as SIGNUP
from tests.factories import PASSWORD, NoticeFactory, ReaderFactory, StaffFactory
from tests.guests.conftest import guest_login

pytestmark = pytest.mark.django_db
EN = {"HTTP_ACCEPT_LANGUAGE": "en"}
CHOICE = reverse("legacy_choice")


@pytest.fixture(autouse=True)
def clear_throttle():
    cache.clear()
    yield
    cache.clear()


def not_asked_yet(**fields):
    """A reader from before the question: their answer is empty."""
    return ReaderFactory(legacy_choice_at=None, **fields)


def logged_in(reader_or_user):
    user = getattr(reader_or_user, "user", reader_or_user)
    client = Client()
    assert client.login(username=user.username, password=PASSWORD)
    return client


def old_account(**fields):
    values = {
        "user_id": 7,
        "username": "old-zhang",
        "password": wrap_legacy_password("PLAIN:old-secret"),
        "name": "张三",
        "id_type": "library_card",
        "id_number": "3245",
        "balance": Decimal("120.00"),
        "status": "active",
        "created_at": timezone.now(),
        **fields,
    }
    return LegacyAccount.objects.create(**values)


def test_a_reader_from_before_is_sent_from_the_board_to_the_choice():
    client = logged_in(not_asked_yet())
    response = client.get("/")
    assert response.status_code == 302 and response.url == CHOICE
    page = client.get(CHOICE, **EN).content.decode()
    assert "Link an existing account" in page
    assert reverse("legacy_link_old_account") in page
    assert "Continue without an old account" in page


def test_the_login_leads_to_the_choice():
    reader = not_asked_yet()
    client = Client()
    response = client.post(
        reverse("account_login"), {"login": reader.user.username, "password": PASSWORD}
    )
    assert response.status_code == 302 and response.url == reverse("home")
    assert client.get(response.url).url == CHOICE


def test_declining_answers_it_once_and_for_all():
    reader = not_asked_yet()
    client = logged_in(reader)
    assert client.get(CHOICE).status_code == 200
    reader.refresh_from_db()
    assert reader.legacy_choice_at is None  # looking is not answering
    response = client.post(CHOICE, **EN)
    assert response.status_code == 302 and response.url == reverse("home")
    reader.refresh_from_db()
    assert reader.legacy_choice_at is not None
    assert client.get("/").status_code == 200
    # Next login: the board, and the choice page itself sends them on.
    again = logged_in(reader)
    assert again.get("/").status_code == 200
    assert again.get(CHOICE).url == reverse("home")
    # Nothing was linked; the wizard is still there under 帐户管理.
    assert not LegacyAccount.objects.filter(reader=reader).exists()
    assert "Link an existing account" in again.get(reverse("account_legacy"), **EN).content.decode()


def test_linking_from_the_choice_answers_it_and_lands_on_the_board():
    reader = not_asked_yet()
    account = old_account()
    client = logged_in(reader)
    back = client.get(reverse("legacy_link_old_account"), **EN).content.decode()
    assert f'href="{CHOICE}"' in back  # 返回 goes back to the question
    response = client.post(
        reverse("legacy_link_old_account"), {"username": "OLD-ZHANG", "password": "old-secret"}
    )
    assert response.url == reverse("legacy_link_confirm")
    response = client.post(reverse("legacy_link_confirm"), {"confirm": "1"})
    assert response.status_code == 302 and response.url == reverse("home")
    account.refresh_from_db()
    reader.refresh_from_db()
    assert (account.reader, account.link_kind) == (reader, "linked")
    assert reader.legacy_choice_at is not None
    assert ledger_balance(reader) == Decimal("120.00")
    assert client.get("/").status_code == 200


def test_a_reader_linking_later_from_the_account_page_returns_there(client_a, reader_a):
    old_account()
    client_a.post(
        reverse("legacy_link_old_account"), {"username": "old-zhang", "password": "old-secret"}
    )
    response = client_a.post(reverse("legacy_link_confirm"), {"confirm": "1"})
    assert response.url == reverse("account_legacy")


def test_staff_link_answers_it_for_the_reader(admin_client):
    reader = not_asked_yet()
    account = old_account(password="", status="disabled")
    admin_client.post(
        reverse("admin:accounts_legacyaccount_link", args=[account.pk]),
        {"reader": reader.user.username, "kind": "linked"},
    )
    reader.refresh_from_db()
    assert reader.legacy_choice_at is not None
    assert logged_in(reader).get("/").status_code == 200


@pytest.mark.parametrize(
    "who",
    ["answered", "staff reader", "staff", "rejected", "guest", "pending"],
)
def test_who_is_not_asked(who, client):
    if who == "answered":
        client = logged_in(ReaderFactory())
    elif who == "staff reader":
        client = logged_in(not_asked_yet(user=StaffFactory(is_superuser=False)))
    elif who == "staff":
        client = logged_in(StaffFactory())
    elif who == "rejected":
        client = logged_in(not_asked_yet(status=ReaderStatus.REJECTED, rejection_reason="x"))
    elif who == "guest":
        call_command("public_account", verbosity=0)
        client = guest_login()
    else:
        reader = not_asked_yet(status=ReaderStatus.PENDING, decided_at=None)
        response = logged_in(reader).get("/")
        # A pending reader from before is asked too: linking brings their money and history.
        assert response.status_code == 302 and response.url == CHOICE
        return
    assert client.get("/").status_code == 200


def test_registering_now_answers_it(client):
    # The registration pages put the choice (the off-campus one: "do not register again").
    assert client.post(reverse("account_signup"), SIGNUP).status_code == 302
    reader = Reader.objects.get(user__username=SIGNUP["username"])
    assert reader.legacy_choice_at is not None
    assert client.get("/").status_code == 200


def test_the_choice_is_for_readers_only(client, client_staff):
    response = client.get(CHOICE)
    assert response.status_code == 302 and reverse("account_login") in response.url
    assert client.post(CHOICE).status_code == 302
    assert client_staff.get(CHOICE).status_code == 403


@pytest.mark.parametrize("count", [1, 30])
def test_the_board_costs_no_query_more_for_a_reader_who_answered(
    client_a, reader_a, django_assert_num_queries, count
):
    for _ in range(count):
        NoticeFactory()
        NoticeFactory(reader=reader_a)
    # Session, user, reader (with the answer), notices count and page, personal notices,
    # unread notices in the navigation: as before the question.
    with django_assert_num_queries(BOARD_QUERIES):
        assert client_a.get("/").status_code == 200


BOARD_QUERIES = 7


def test_readers_who_linked_before_are_marked_answered_by_the_migration(reader_a, reader_b):
    migration = importlib.import_module(
        "accounts.migrations.0011_readers_linked_answered_the_old_account_question"
    )
    linked_at = timezone.now() - timezone.timedelta(days=3)
    old_account(reader=reader_a, link_kind="linked", linked_at=linked_at)
    Reader.objects.update(legacy_choice_at=None)
    migration.mark_linked_readers(global_apps, None)
    reader_a.refresh_from_db()
    reader_b.refresh_from_db()
    assert reader_a.legacy_choice_at == linked_at
    assert reader_b.legacy_choice_at is None
