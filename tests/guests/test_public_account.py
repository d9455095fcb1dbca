"""`manage.py public_account` and what the public account may and may not do (issue 13)."""

import pytest
from django.core.management import CommandError, call_command
from django.test import Client
from django.urls import reverse

from accounts.models import PublicAccount
from accounts.public import GUEST_SESSION_KEY
from tests.factories import UserFactory
from tests.guests.conftest import guest_login

pytestmark = pytest.mark.django_db


def login(client, username, password):
    return client.post(reverse("account_login"), {"login": username, "password": password})


def test_before_the_command_passing_is_refused():
    response = login(Client(), "passing", "passing")
    assert response.status_code == 200
    assert not response.wsgi_request.user.is_authenticated


def test_the_command_creates_passing_passing_as_the_seed_documents(public_account):
    response = login(Client(), "passing", "passing")
    assert response.status_code == 302
    assert response.wsgi_request.session[GUEST_SESSION_KEY]
    assert public_account.user.username == "passing"
    assert not public_account.user.is_staff
    assert not hasattr(public_account.user, "reader")


def test_every_login_with_it_is_a_guest_of_its_own(public_account):
    one, two = guest_login(), guest_login()
    assert one.session[GUEST_SESSION_KEY] != two.session[GUEST_SESSION_KEY]
    assert len(one.session[GUEST_SESSION_KEY]) >= 40


def test_a_reader_login_is_no_guest(reader_a, password, public_account):
    client = Client()
    assert login(client, reader_a.user.username, password).status_code == 302
    assert GUEST_SESSION_KEY not in client.session


def test_rename_and_rotate(public_account):
    call_command("public_account", rename="gongyong", password="new-secret", verbosity=0)
    assert login(Client(), "passing", "passing").status_code == 200
    assert login(Client(), "gongyong", "passing").status_code == 200
    assert login(Client(), "gongyong", "new-secret").status_code == 302
    assert PublicAccount.objects.get().published_password == "new-secret"


def test_rotating_ends_the_guest_sessions(guest_1):
    assert guest_1.get(reverse("guest_list")).status_code == 200
    call_command("public_account", password="rotated", verbosity=0)
    response = guest_1.get(reverse("guest_list"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))


def test_disable_refuses_logins_and_ends_sessions_enable_allows_again(guest_1):
    call_command("public_account", disable=True, verbosity=0)
    assert guest_1.get(reverse("guest_list")).status_code == 302
    refused = login(Client(), "passing", "passing")
    assert refused["Location"] == reverse("account_inactive")
    assert not refused.wsgi_request.user.is_authenticated
    call_command("public_account", enable=True, verbosity=0)
    assert login(Client(), "passing", "passing").status_code == 302


def test_it_refuses_a_username_of_another_account(public_account):
    UserFactory(username="taken")
    with pytest.raises(CommandError, match="another account"):
        call_command("public_account", rename="taken", verbosity=0)
    assert PublicAccount.objects.get().user.username == "passing"


def test_it_refuses_to_rename_what_does_not_exist(db):
    with pytest.raises(CommandError, match="create it first"):
        call_command("public_account", rename="x", verbosity=0)


def test_running_it_again_shows_it_and_changes_nothing(public_account, capsys):
    call_command("public_account")
    assert "'passing': enabled; password shown" in capsys.readouterr().out
    assert PublicAccount.objects.count() == 1


def test_the_login_page_says_how_individuals_get_in(public_account, client_anon):
    content = client_anon.get(reverse("account_login")).content.decode()
    assert "Private individuals" in content or "校外个人读者" in content
    assert "<kbd>passing</kbd>" in content


def test_an_unpublished_password_is_not_on_the_login_page(public_account, client_anon):
    call_command("public_account", password="s3cret-shared", unpublished=True, verbosity=0)
    content = client_anon.get(reverse("account_login"), HTTP_ACCEPT_LANGUAGE="en").content
    assert b"s3cret-shared" not in content
    assert b"ask the ILL office" in content


def test_no_hint_without_a_public_account(client_anon):
    assert b"<kbd>" not in client_anon.get(reverse("account_login")).content


# What the shared account cannot do (issue 13 item 4).
REFUSED = [
    "profile",
    "account",
    "account_statement",
    "account_receipt",
    "legacy_data",
    "account_change_password",
    # The linking wizard: an old account is never linked to the shared account.
    "account_legacy",
    "legacy_link_old_account",
    "legacy_link_confirm",
    "legacy_attach",
]


@pytest.mark.parametrize("name", REFUSED)
def test_the_account_has_no_profile_password_account_or_legacy_pages(guest_1, name):
    for response in (guest_1.get(reverse(name)), guest_1.post(reverse(name))):
        assert response.status_code == 403
        assert b"public account" in response.content or "公用账号".encode() in response.content


def test_changing_the_password_by_post_is_refused_too(guest_1, public_account):
    response = guest_1.post(
        reverse("account_change_password"),
        {"oldpassword": "passing", "password1": "hijacked-123!", "password2": "hijacked-123!"},
    )
    assert response.status_code == 403
    public_account.user.refresh_from_db()
    assert public_account.user.check_password("passing")


def test_the_navigation_has_requests_but_no_account_or_legacy_data(guest_1):
    content = guest_1.get(reverse("home"), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert reverse("guest_submit") in content
    assert reverse("guest_list") in content
    for name in ["account", "legacy_data", "profile"]:
        assert f'href="{reverse(name)}"' not in content


def test_the_language_switch_does_not_store_a_language_for_others(guest_1, public_account):
    guest_1.post(reverse("set_language"), {"language": "en", "next": "/"})
    assert not hasattr(public_account.user, "reader")


def test_the_readers_request_pages_lead_to_the_guests_own(guest_1):
    assert guest_1.get(reverse("request_list"))["Location"] == reverse("guest_list")
    assert guest_1.get(reverse("request_submit"))["Location"] == reverse("guest_submit")


def test_wrong_passwords_from_one_place_do_not_lock_out_other_individuals(public_account):
    attacker = Client(REMOTE_ADDR="192.0.2.66")
    for _ in range(6):
        assert login(attacker, "passing", "wrong").status_code == 200
    # The attacker's own address is locked out of the account...
    refused = login(attacker, "passing", "passing")
    assert refused.status_code == 200
    assert not refused.wsgi_request.user.is_authenticated
    # ...everyone else still gets in.
    assert login(Client(REMOTE_ADDR="192.0.2.77"), "passing", "passing").status_code == 302


def test_a_readers_account_is_still_locked_for_every_address(reader_a, password):
    for i in range(6):
        login(Client(REMOTE_ADDR=f"192.0.2.{i + 1}"), reader_a.user.username, "wrong")
    locked = login(Client(REMOTE_ADDR="192.0.2.99"), reader_a.user.username, password)
    assert not locked.wsgi_request.user.is_authenticated
