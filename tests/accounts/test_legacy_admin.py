"""Staff see and search the old system's accounts in the admin; nobody edits or deletes them."""

from decimal import Decimal

import pytest
from django.contrib.auth.models import Group, Permission
from django.urls import reverse
from django.utils import timezone

from accounts.ledger import ledger_balance
from accounts.legacy import LegacyAccount
from accounts.models import EntryKind, LedgerEntry
from readers.staff import STAFF_GROUP
from requests_app.models import IllRequest
from tests.factories import UserFactory
from tests.requests_app.test_legacy_import import generate, run_import

pytestmark = pytest.mark.django_db


@pytest.fixture
def office(client):
    user = UserFactory(username="office", is_staff=True)
    user.groups.add(Group.objects.get(name=STAFF_GROUP))
    client.force_login(user)
    return client


@pytest.fixture
def imported(tmp_path):
    generate(tmp_path, accounts=40, requests=40)
    run_import(tmp_path)


CHANGELIST = reverse("admin:accounts_legacyaccount_changelist")


def test_the_office_searches_by_username_name_and_id_number(office, imported):
    target = LegacyAccount.objects.exclude(id_number="").order_by("user_id")[5]
    for term in [target.username.upper(), target.name, target.id_number]:
        page = office.get(CHANGELIST, {"q": term}).content.decode()
        assert target.username in page, term
    other = LegacyAccount.objects.exclude(name=target.name).first()
    assert other.username not in office.get(CHANGELIST, {"q": target.id_number}).content.decode()


def test_the_list_reads_in_few_queries(office, imported, django_assert_max_num_queries):
    with django_assert_max_num_queries(12):
        assert office.get(CHANGELIST).status_code == 200


def test_the_page_is_read_only_and_shows_no_password_hash(office, imported):
    account = LegacyAccount.objects.exclude(password="").first()
    url = reverse("admin:accounts_legacyaccount_change", args=[account.pk])
    response = office.get(url)
    page = response.content.decode()
    assert response.status_code == 200
    assert account.password not in page
    assert account.password.split("$")[-1] not in page
    assert 'name="username"' not in page
    assert office.post(url, {"username": "taken-over"}).status_code == 403
    account.refresh_from_db()
    assert account.username != "taken-over"


def test_nobody_adds_or_deletes_old_accounts(admin_client, imported):
    account = LegacyAccount.objects.first()
    assert admin_client.get(reverse("admin:accounts_legacyaccount_add")).status_code == 403
    delete = reverse("admin:accounts_legacyaccount_delete", args=[account.pk])
    assert admin_client.post(delete, {"post": "yes"}).status_code == 403
    assert LegacyAccount.objects.filter(pk=account.pk).exists()
    change = reverse("admin:accounts_legacyaccount_change", args=[account.pk])
    assert 'name="username"' not in admin_client.get(change).content.decode()


def test_an_old_request_opens_in_the_request_admin(office, imported):
    ill_request = IllRequest.objects.filter(reader=None).first()
    url = reverse("admin:requests_app_illrequest_change", args=[ill_request.pk])
    assert office.get(url).status_code == 200
    listing = office.get(reverse("admin:requests_app_illrequest_changelist")).content.decode()
    assert str(ill_request.number) in listing


def test_staff_find_old_requests_by_the_old_username(office, imported):
    ill_request = IllRequest.objects.filter(reader=None).first()
    account = ill_request.legacy_account
    assert ill_request.contact_email == account.email
    listing = office.get(
        reverse("admin:requests_app_illrequest_changelist"), {"q": account.username}
    ).content.decode()
    assert f">{ill_request.number}<" in listing
    other = IllRequest.objects.exclude(legacy_account=account).first()
    assert f">{other.number}<" not in listing


# --- Staff link old accounts and move attached accounts' balances (SPEC 3) ---------------------


def _old(username, user_id, **fields):
    values = {
        "user_id": user_id,
        "username": username,
        "password": "",
        "name": "旧读者",
        "id_type": "library_card",
        "id_number": "3245",
        "balance": Decimal("30.00"),
        "status": "disabled",
        "created_at": timezone.now(),
        **fields,
    }
    return LegacyAccount.objects.create(**values)


def test_the_office_links_a_disabled_account_without_password(office, reader_a):
    account = _old("old-x", 1)
    page = office.get(reverse("admin:accounts_legacyaccount_change", args=[account.pk]))
    link_url = reverse("admin:accounts_legacyaccount_link", args=[account.pk])
    assert link_url in page.content.decode()
    assert office.get(link_url).status_code == 200
    response = office.post(link_url, {"reader": reader_a.user.username.upper(), "kind": "linked"})
    assert response.status_code == 302
    account.refresh_from_db()
    assert (account.reader, account.link_kind) == (reader_a, "linked")
    assert account.linked_by.username == "office"
    assert ledger_balance(reader_a) == Decimal("30.00")
    # Once: a second link is refused with the reason, and no second opening balance.
    response = office.post(link_url, {"reader": reader_a.user.username, "kind": "linked"})
    assert response.status_code == 200
    assert ledger_balance(reader_a) == Decimal("30.00")


def test_an_unknown_reader_is_an_error_beside_the_field(office):
    account = _old("old-x", 1)
    url = reverse("admin:accounts_legacyaccount_link", args=[account.pk])
    response = office.post(url, {"reader": "nobody", "kind": "linked"}, HTTP_ACCEPT_LANGUAGE="en")
    assert "No reader has this username" in response.content.decode()
    assert LegacyAccount.objects.get(pk=account.pk).reader is None


def test_an_attached_accounts_balance_is_moved_once_as_a_transfer(office, reader_a):
    linked = _old("old-x", 1, balance=Decimal("10.00"))
    twin = _old("old-y", 2, balance=Decimal("-4.00"))
    for account, kind in ((linked, "linked"), (twin, "attached")):
        url = reverse("admin:accounts_legacyaccount_link", args=[account.pk])
        office.post(url, {"reader": reader_a.user.username, "kind": kind})
    assert ledger_balance(reader_a) == Decimal("10.00")  # the attached debt is not counted yet
    move = reverse("admin:accounts_legacyaccount_move", args=[twin.pk])
    assert office.get(move).status_code == 200
    assert office.post(move).status_code == 302
    assert office.post(move).status_code == 200  # refused: moved already
    entries = LedgerEntry.objects.filter(reader=reader_a, kind=EntryKind.TRANSFER_OUT)
    assert [e.amount for e in entries] == [Decimal("-4.00")]
    cleared = LedgerEntry.objects.filter(legacy_account=twin, kind=EntryKind.TRANSFER_IN)
    assert [(e.amount, e.counterpart_of) for e in cleared] == [(Decimal("4.00"), entries[0])]
    assert ledger_balance(reader_a) == Decimal("6.00")
    # The linked account's balance is the opening balance, never moved again.
    move_linked = reverse("admin:accounts_legacyaccount_move", args=[linked.pk])
    assert office.post(move_linked).status_code == 200
    assert ledger_balance(reader_a) == Decimal("6.00")


def test_staff_without_the_link_permission_cannot_link(client, reader_a):
    user = UserFactory(username="viewer", is_staff=True)
    user.user_permissions.add(Permission.objects.get(codename="view_legacyaccount"))
    client.force_login(user)
    account = _old("old-x", 1)
    url = reverse("admin:accounts_legacyaccount_link", args=[account.pk])
    page = client.get(reverse("admin:accounts_legacyaccount_change", args=[account.pk]))
    assert url not in page.content.decode()
    assert client.get(url).status_code == 403
    assert client.post(url, {"reader": reader_a.user.username, "kind": "linked"}).status_code == 403
    assert LegacyAccount.objects.get(pk=account.pk).reader is None


def test_readers_and_anonymous_visitors_do_not_reach_the_link_page(client, client_a, reader_a):
    account = _old("old-x", 1)
    url = reverse("admin:accounts_legacyaccount_link", args=[account.pk])
    assert client.get(url).status_code == 302
    assert client_a.get(url).status_code in (302, 403)
    client_a.post(url, {"reader": reader_a.user.username, "kind": "linked"})
    assert LegacyAccount.objects.get(pk=account.pk).reader is None


def test_the_link_pages_read_in_few_queries(office, django_assert_num_queries):
    account = _old("old-x", 1)
    with django_assert_num_queries(6):
        office.get(reverse("admin:accounts_legacyaccount_link", args=[account.pk]))
