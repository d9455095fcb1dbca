"""The ILL office group gives staff what the back office needs, and no more."""

import pytest
from django.contrib.auth.models import Group

from readers.models import ReaderStatus
from readers.staff import STAFF_GROUP
from tests.factories import PendingReaderFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def office_staff(client):
    user = UserFactory(username="office", is_staff=True)
    user.groups.add(Group.objects.get(name=STAFF_GROUP))
    client.force_login(user)
    return client


def test_the_group_exists_after_migrate_with_the_office_permissions():
    perms = set(Group.objects.get(name=STAFF_GROUP).permissions.values_list("codename", flat=True))
    assert {
        "change_reader",
        "change_registrationtoconfirm",
        "add_notice",
        "change_illrequest",
    } <= perms
    assert "delete_reader" not in perms
    assert "delete_illrequest" not in perms
    assert "add_user" not in perms


def test_office_staff_confirm_registrations_from_the_queue(office_staff):
    pending = PendingReaderFactory()
    assert office_staff.get("/admin/readers/registrationtoconfirm/").status_code == 200
    office_staff.post(
        "/admin/readers/registrationtoconfirm/",
        {"action": "confirm_selected", "_selected_action": [pending.pk]},
    )
    pending.refresh_from_db()
    assert pending.status == ReaderStatus.CONFIRMED


def test_office_staff_work_on_requests_and_notices_but_not_on_users(office_staff):
    assert office_staff.get("/admin/requests_app/illrequest/").status_code == 200
    assert office_staff.get("/admin/readers/notice/add/").status_code == 200
    assert office_staff.get("/admin/auth/user/").status_code == 403
