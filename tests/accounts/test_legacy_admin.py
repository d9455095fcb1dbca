"""Staff see and search the old system's accounts in the admin; nobody edits or deletes them."""

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse

from accounts.legacy import LegacyAccount
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
