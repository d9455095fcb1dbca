"""Staff of the ILL office do their job in the admin, and nothing that changes who logs in as whom.

Found by an outside probe: an office member pointed a reader at a superuser's account, gave it
an address of their own and reset the superuser's password. Each way in is tried here.
"""

import re

import pytest
from allauth.account.models import EmailAddress
from allauth.socialaccount.models import SocialAccount, SocialApp, SocialToken
from django.contrib.auth.models import Group, Permission
from django.core import mail
from django.test import TestCase
from django_tasks_db.models import DBTaskResult

from readers.models import LoginEmailChange
from readers.staff import STAFF_GROUP
from tests.factories import ReaderFactory, StaffFactory, UserFactory
from tests.readers.test_profile import form_data

pytestmark = pytest.mark.django_db


@pytest.fixture
def office_member(db):
    user = UserFactory(username="office", is_staff=True, email="office@example.org")
    user.groups.add(Group.objects.get(name=STAFF_GROUP))
    return user


@pytest.fixture
def office(client, office_member):
    client.force_login(office_member)
    return client


@pytest.fixture
def superuser(db):
    return StaffFactory(username="root", email="root@library.example.org")


def admin_form(reader, **changes):
    """What the reader's admin page posts when staff press Save."""
    return {
        **form_data(reader),
        "reader_type": reader.reader_type,
        "campus_id": reader.campus_id,
        "loginemailchange_set-TOTAL_FORMS": "0",
        "loginemailchange_set-INITIAL_FORMS": "0",
        "_save": "Save",
        **changes,
    }


def reset_links_sent_to(client, address):
    """The password-reset e-mails with a reset link that a request for `address` sends there.

    (allauth answers an unknown address with a mail that says so, without a link.)
    """
    mail.outbox.clear()
    with TestCase.captureOnCommitCallbacks(execute=True):  # e-mails leave once it commits
        client.post("/accounts/password/reset/", {"email": address})
    return [m for m in mail.outbox if address in m.to and "/password/reset/key/" in m.body]


# --- The takeover as found ----------------------------------------------------------------


def test_office_cannot_point_a_reader_at_a_superuser_account(office, superuser):
    reader = ReaderFactory()
    own_user = reader.user
    response = office.post(
        f"/admin/readers/reader/{reader.pk}/change/",
        admin_form(reader, user=superuser.pk, email="attacker@evil.example"),
    )
    assert response.status_code == 302
    reader.refresh_from_db()
    superuser.refresh_from_db()
    assert reader.user == own_user
    assert superuser.email == "root@library.example.org"
    assert not EmailAddress.objects.filter(user=superuser, email="attacker@evil.example").exists()
    # The reset for the attacker's address reaches the reader's own account, never root's.
    sent = reset_links_sent_to(office, "attacker@evil.example")
    assert sent
    assert all("root" not in m.body for m in sent)


def test_the_reader_admin_page_shows_the_account_but_offers_no_field_to_change_it(office):
    reader = ReaderFactory()
    page = office.get(f"/admin/readers/reader/{reader.pk}/change/").content.decode()
    assert reader.user.username in page
    assert 'name="user"' not in page


def test_a_reader_profile_of_a_staff_account_never_changes_the_staff_login_address(
    office, superuser
):
    # A librarian who is also a reader: their reader profile is not their staff login.
    reader = ReaderFactory(user=superuser, email="root@library.example.org")
    office.post(
        f"/admin/readers/reader/{reader.pk}/change/",
        admin_form(reader, email="attacker@evil.example"),
    )
    reader.refresh_from_db()
    superuser.refresh_from_db()
    assert reader.email == "attacker@evil.example"
    assert superuser.email == "root@library.example.org"
    assert list(EmailAddress.objects.filter(user=superuser).values_list("email", flat=True)) in (
        [],
        ["root@library.example.org"],
    )
    assert reset_links_sent_to(office, "attacker@evil.example") == []


def test_a_superuser_adding_a_reader_cannot_attach_it_to_a_staff_account(client, superuser):
    client.force_login(superuser)
    staff_user = UserFactory(username="colleague", is_staff=True)
    response = client.post(
        "/admin/readers/reader/add/",
        {**admin_form(ReaderFactory.build(user=staff_user)), "user": staff_user.pk},
    )
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert list(errors) == ["user"]
    assert not hasattr(UserFactory._meta.model.objects.get(pk=staff_user.pk), "reader")


# --- A changed login address is told and recorded --------------------------------------------


def test_staff_changing_a_reader_email_tells_the_old_address_and_records_who(
    office, office_member, django_capture_on_commit_callbacks
):
    reader = ReaderFactory(email="old@example.org", user__email="old@example.org")
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        office.post(
            f"/admin/readers/reader/{reader.pk}/change/",
            admin_form(reader, email="new@example.org"),
        )
    reader.refresh_from_db()
    assert reader.email == reader.user.email == "new@example.org"

    told = [m for m in mail.outbox if m.to == ["old@example.org"]]
    assert len(told) == 1
    assert "new@example.org" not in told[0].body  # the new address is not handed to the old one
    assert "ILL office" in told[0].body or "馆际互借" in told[0].body

    change = LoginEmailChange.objects.get(reader=reader)
    assert (change.old_email, change.new_email, change.changed_by) == (
        "old@example.org",
        "new@example.org",
        office_member,
    )
    page = office.get(f"/admin/readers/reader/{reader.pk}/change/").content.decode()
    assert "old@example.org" in page and "office" in page


def test_a_reader_changing_their_own_address_is_told_at_the_old_one_too(
    client_a, reader_a, django_capture_on_commit_callbacks
):
    old = reader_a.email
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        client_a.post(
            "/profile/",
            {
                "name": reader_a.name,
                "email": "mine@example.org",
                "phone": reader_a.phone,
                "address": reader_a.address,
                "postal_code": reader_a.postal_code,
                "institution": reader_a.institution,
                "language": reader_a.language,
            },
        )
    assert [m.to for m in mail.outbox] == [[old]]
    change = LoginEmailChange.objects.get(reader=reader_a)
    assert change.changed_by == reader_a.user


def test_saving_without_changing_the_address_tells_nobody(
    office, django_capture_on_commit_callbacks
):
    reader = ReaderFactory()
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        response = office.post(
            f"/admin/readers/reader/{reader.pk}/change/",
            admin_form(reader, phone="010 1234 5678"),
        )
    assert response.status_code == 302
    assert mail.outbox == []
    assert not LoginEmailChange.objects.exists()


def test_the_record_of_address_changes_cannot_be_edited_from_the_admin(office, office_member):
    reader = ReaderFactory(email="old@example.org")
    office.post(
        f"/admin/readers/reader/{reader.pk}/change/",
        admin_form(
            reader,
            email="new@example.org",
        ),
    )
    change = LoginEmailChange.objects.get()
    # Posting inline rows that try to delete or add records changes nothing.
    office.post(
        f"/admin/readers/reader/{reader.pk}/change/",
        admin_form(
            reader,
            email="new@example.org",
            **{
                "loginemailchange_set-TOTAL_FORMS": "2",
                "loginemailchange_set-INITIAL_FORMS": "1",
                "loginemailchange_set-0-id": change.pk,
                "loginemailchange_set-0-reader": reader.pk,
                "loginemailchange_set-0-DELETE": "on",
                "loginemailchange_set-1-old_email": "x@example.org",
                "loginemailchange_set-1-new_email": "y@example.org",
            },
        ),
    )
    assert list(LoginEmailChange.objects.values_list("old_email", flat=True)) == ["old@example.org"]


# --- The matrix: what the ILL office may open in the admin ---------------------------------

# Exactly the office's permissions. A new one is a decision: add it here on purpose.
OFFICE_PERMISSIONS = {
    "readers.view_reader",
    "readers.change_reader",
    "readers.view_registrationtoconfirm",
    "readers.change_registrationtoconfirm",
    "readers.view_notice",
    "readers.add_notice",
    "readers.change_notice",
    "readers.delete_notice",
    "readers.view_page",
    "readers.add_page",
    "readers.change_page",
    "readers.view_loginemailchange",
    "accounts.view_legacyaccount",
    "requests_app.view_illrequest",
    "requests_app.change_illrequest",
    "requests_app.view_feeline",
    "requests_app.add_feeline",
    "requests_app.change_feeline",
    "requests_app.delete_feeline",
    "requests_app.view_statuschange",
    "requests_app.view_guestpayment",
    "requests_app.add_guestpayment",
    "accounts.view_ledgerentry",
    "accounts.add_ledgerentry",
    "accounts.view_account",
    "auditlog.view_logentry",
}


def test_the_office_group_has_exactly_the_office_permissions():
    group = Group.objects.get(name=STAFF_GROUP)
    granted = {
        f"{p.content_type.app_label}.{p.codename}"
        for p in group.permissions.select_related("content_type")
    }
    assert granted == OFFICE_PERMISSIONS


@pytest.fixture
def login_objects(superuser):
    """One object of every admin page that decides who can log in as whom."""
    user = UserFactory(username="someone")
    app = SocialApp.objects.create(provider="openid_connect", provider_id="x", name="x")
    account = SocialAccount.objects.create(user=user, provider="x", uid="u1")
    token = SocialToken.objects.create(app=app, account=account, token="t")
    address = EmailAddress.objects.create(user=user, email="someone@example.org")
    task = DBTaskResult.objects.create(
        args_kwargs={"args": [], "kwargs": {"body": "reset link"}},
        task_path="core.mail.deliver_email",
        queue_name="default",
        backend_name="default",
        priority=0,
    )
    return {
        "auth/user": user.pk,
        "auth/group": Group.objects.get(name=STAFF_GROUP).pk,
        "account/emailaddress": address.pk,
        "socialaccount/socialapp": app.pk,
        "socialaccount/socialaccount": account.pk,
        "socialaccount/socialtoken": token.pk,
        "django_tasks_database/dbtaskresult": task.pk,
    }


@pytest.mark.parametrize(
    "page",
    [
        "auth/user",
        "auth/group",
        "account/emailaddress",
        "socialaccount/socialapp",
        "socialaccount/socialaccount",
        "socialaccount/socialtoken",
        # Queued e-mails hold password-reset links: reading them is logging in as their owner.
        "django_tasks_database/dbtaskresult",
    ],
)
def test_the_office_cannot_open_any_page_that_decides_who_logs_in(office, login_objects, page):
    pk = login_objects[page]
    for url in (
        f"/admin/{page}/",
        f"/admin/{page}/add/",
        f"/admin/{page}/{pk}/change/",
        f"/admin/{page}/{pk}/delete/",
    ):
        assert office.get(url).status_code == 403, url
    assert office.post(f"/admin/{page}/{pk}/change/", {}).status_code == 403
    assert office.post(f"/admin/{page}/{pk}/delete/", {"post": "yes"}).status_code == 403
    index = office.get("/admin/").content.decode()
    assert f'href="/admin/{page}/"' not in index


def test_the_office_group_cannot_be_extended_by_its_members(office, office_member):
    perm = Permission.objects.get(codename="change_user")
    group = Group.objects.get(name=STAFF_GROUP)
    response = office.post(
        f"/admin/auth/group/{group.pk}/change/", {"name": STAFF_GROUP, "permissions": [perm.pk]}
    )
    assert response.status_code == 403
    assert not group.permissions.filter(pk=perm.pk).exists()
    assert not office_member.has_perm("auth.change_user")


OFFICE_PAGES = [
    "/admin/readers/reader/",
    "/admin/readers/registrationtoconfirm/",
    "/admin/readers/notice/",
    "/admin/readers/notice/add/",
    "/admin/readers/page/",
    "/admin/requests_app/illrequest/",
    "/admin/accounts/legacyaccount/",
]


@pytest.mark.parametrize("url", OFFICE_PAGES)
def test_the_office_opens_the_pages_of_its_job(office, url):
    ReaderFactory()
    assert office.get(url).status_code == 200


@pytest.mark.parametrize("url", ["/admin/readers/reader/", *OFFICE_PAGES])
def test_staff_without_the_group_see_no_page_of_the_back_office(client, url):
    client.force_login(UserFactory(username="bare-staff", is_staff=True))
    assert client.get(url).status_code == 403
    index = client.get("/admin/").content.decode()
    assert not re.search(r'href="/admin/\w+/\w+/"', index)
