"""The linking wizard (SPEC 3, seed 1.3 steps 2–4, 2.1; issue 11 items 4–7), through real HTTP.

Old accounts come from an export made by the shared `generate.py`, imported by `import_legacy`,
with the clear passwords it writes beside them (passwords.json).
"""

import csv
import json
from decimal import Decimal

import pytest
from auditlog.models import LogEntry
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.utils import timezone

from accounts.hashers import wrap_legacy_password
from accounts.ledger import ledger_balance, ledger_record
from accounts.legacy import LegacyAccount, LegacyStatus, LinkKind
from accounts.legacy_link import legacy_link
from accounts.models import EntryKind, LedgerEntry
from readers.models import Notice, Reader, ReaderStatus, ReaderType
from requests_app.models import IllRequest
from tests.accounts.sso_helpers import CARSI_SUB, oidc_login
from tests.factories import PASSWORD, ReaderFactory
from tests.requests_app.test_legacy_import import generate, run_import

pytestmark = pytest.mark.django_db
EN = {"HTTP_ACCEPT_LANGUAGE": "en"}


@pytest.fixture(autouse=True)
def clear_throttle():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def export(tmp_path):
    """An imported export with defects; returns {username: (password field kind, clear)}."""
    generate(tmp_path, accounts=80, requests=150)
    run_import(tmp_path)
    passwords = json.loads((tmp_path / "passwords.json").read_text())
    with open(tmp_path / "accounts.csv", encoding="utf-8-sig", newline="") as handle:
        kinds = {
            row["username"].strip().lower(): row["password"].partition(":")[0]
            for row in csv.DictReader(handle)
        }
    return {
        name: (kinds.get(name.lower()), clear)
        for name, clear in passwords.items()
        if LegacyAccount.objects.filter(username=name).exists()
    }


def linkable(export, kind=None, **filters):
    """An active, unlinked old account whose ID no other account shares, of the password kind."""
    for account in LegacyAccount.objects.filter(
        status=LegacyStatus.ACTIVE, reader__isnull=True, **filters
    ).exclude(password=""):
        if account.username not in export:
            continue
        if kind and export[account.username][0] != kind:
            continue
        twins = LegacyAccount.objects.filter(
            id_type=account.id_type, id_number__iexact=account.id_number
        )
        if account.id_number and twins.count() > 1:
            continue
        return account, export[account.username][1]
    raise AssertionError(f"no linkable {kind} account in the export")


def old_account(username="old-alice", clear="old-secret", **fields):
    values = {
        "user_id": fields.pop("user_id", 9001),
        "username": username,
        "password": wrap_legacy_password("PLAIN:" + clear) if clear else "",
        "name": "旧读者 Alice",
        "email": "alice@old.example.org",
        "id_type": "library_card",
        "id_number": "3245",
        "reader_type": ReaderType.OFF_CAMPUS,
        "institution": "Old Institute",
        "phone": "010-62780000",
        "balance": Decimal("50.00"),
        "status": LegacyStatus.ACTIVE,
        "created_at": timezone.now(),
        **fields,
    }
    return LegacyAccount.objects.create(**values)


def link_as_reader(client, username, password):
    response = client.post("/link/old-account/", {"username": username, "password": password}, **EN)
    return response


# --- Step 3 and 4 for a signed-in reader, every old password format ------------------------------


@pytest.mark.parametrize("kind", ["PLAIN", "MD5", "SHA1"])
def test_a_reader_links_an_old_account_of_each_password_format(export, kind, client_a, reader_a):
    account, clear = linkable(export, kind)
    # Usernames are not case sensitive, as in the old system.
    response = link_as_reader(client_a, account.username.upper(), clear)
    assert response.status_code == 302
    assert response["Location"] == "/link/confirm/"
    page = client_a.get("/link/confirm/", **EN).content.decode()
    assert "Confirm the account details" in page
    for shown in (account.name, account.email, account.id_number):
        assert shown in page
    assert LegacyAccount.objects.get(pk=account.pk).reader is None  # nothing yet
    response = client_a.post("/link/confirm/", {"confirm": ""})
    assert response.status_code == 302
    account.refresh_from_db()
    assert (account.reader, account.link_kind) == (reader_a, LinkKind.LINKED)
    assert account.linked_by == reader_a.user
    openings = LedgerEntry.objects.filter(reader=reader_a, kind=EntryKind.OPENING_BALANCE)
    if account.balance:
        assert [e.amount for e in openings] == [account.balance]
    else:
        assert not openings.exists()
    assert ledger_balance(reader_a) == account.balance
    # The old requests stay the old account's; the legacy query finds them through it.
    assert not IllRequest.objects.filter(legacy_account=account, reader=reader_a).exists()


def test_back_links_nothing(client_a, reader_a):
    account = old_account()
    link_as_reader(client_a, "OLD-ALICE", "old-secret")
    response = client_a.post("/link/confirm/", {"back": ""})
    assert response.status_code == 302
    account.refresh_from_db()
    assert account.reader is None
    assert not LedgerEntry.objects.exists()
    # The proof is gone: the confirmation page cannot be used afterwards.
    assert client_a.post("/link/confirm/", {"confirm": ""})["Location"] == "/link/old-account/"
    assert LegacyAccount.objects.get(pk=account.pk).reader is None


def test_an_old_account_links_once_and_its_balance_is_written_once(client_a, client_b, reader_b):
    account = old_account()
    link_as_reader(client_a, "old-alice", "old-secret")
    link_as_reader(client_b, "old-alice", "old-secret")  # the same password, known to B too
    client_a.post("/link/confirm/", {"confirm": ""})
    response = client_b.post("/link/confirm/", {"confirm": ""}, follow=True, **EN)
    assert "already linked" in response.content.decode()
    account.refresh_from_db()
    assert account.reader != reader_b
    assert LedgerEntry.objects.filter(kind=EntryKind.OPENING_BALANCE).count() == 1
    # Confirming again in the first tab changes nothing either.
    assert client_a.post("/link/confirm/", {"confirm": ""}).status_code == 302
    assert LedgerEntry.objects.filter(kind=EntryKind.OPENING_BALANCE).count() == 1


def test_a_reader_continues_with_one_old_account(client_a, reader_a):
    old_account()
    old_account("old-other", "pw2", user_id=9002, id_number="999")
    link_as_reader(client_a, "old-alice", "old-secret")
    client_a.post("/link/confirm/", {"confirm": ""})
    # Linked already: the link form sends on to attaching history.
    assert client_a.get("/link/old-account/")["Location"] == "/link/attach/"


# --- Wrong passwords, throttling, refusals --------------------------------------------------------


def test_a_wrong_password_is_refused_beside_the_form_and_keeps_the_username(client_a):
    old_account()
    response = link_as_reader(client_a, "old-alice", "guess")
    assert response.status_code == 400
    page = response.content.decode()
    assert "username or password of the old system is not correct" in page
    assert 'value="old-alice"' in page
    assert "guess" not in page
    assert "_legacy" not in str(dict(client_a.session))


def test_guessing_another_persons_old_password_is_throttled(client_b):
    account = old_account()
    for _ in range(5):
        assert link_as_reader(client_b, "old-alice", "guess").status_code == 400
    # Locked now, even with the right password; and nothing was linked.
    response = link_as_reader(client_b, "old-alice", "old-secret")
    assert response.status_code == 400
    assert "Too many failed login attempts" in response.content.decode()
    assert LegacyAccount.objects.get(pk=account.pk).reader is None


def test_guesses_at_the_wizard_and_the_login_form_share_one_limit(client, client_b):
    old_account()
    for _ in range(3):
        link_as_reader(client_b, "old-alice", "guess")
    for _ in range(2):
        client.post("/accounts/login/", {"login": "old-alice", "password": "guess"})
    response = client.post("/accounts/login/", {"login": "old-alice", "password": "old-secret"})
    assert response.status_code == 200
    assert "_auth_user_id" not in client.session


def test_a_disabled_account_says_whom_to_ask(client_a):
    account = old_account(status=LegacyStatus.DISABLED)
    response = link_as_reader(client_a, "old-alice", "old-secret")
    assert response.status_code == 400
    page = response.content.decode()
    assert "disabled" in page and "ask the ILL office" in page
    assert LegacyAccount.objects.get(pk=account.pk).reader is None


def test_an_account_without_a_password_says_whom_to_ask(client_a):
    old_account(clear="")
    response = link_as_reader(client_a, "old-alice", "anything")
    assert response.status_code == 400
    assert "ask the ILL office" in response.content.decode()


def test_an_unknown_username_gets_the_same_answer_as_a_wrong_password(client_a):
    old_account()
    unknown = link_as_reader(client_a, "nobody", "x").content.decode()
    assert "username or password of the old system is not correct" in unknown


# --- Access ------------------------------------------------------------------------------------


def test_anonymous_visitors_are_sent_to_the_login_page(client):
    old_account()
    for url in ("/link/old-account/", "/link/confirm/", "/link/attach/", "/account/old-system/"):
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"] == "/accounts/login/"
    response = client.post("/link/old-account/", {"username": "old-alice", "password": "x"})
    assert response["Location"] == "/accounts/login/"


def test_staff_without_a_reader_profile_are_told_the_wizard_is_for_readers(client_staff):
    for url in ("/link/old-account/", "/link/confirm/", "/link/attach/", "/account/old-system/"):
        assert client_staff.get(url).status_code == 403


def test_another_readers_proof_does_not_travel(client_a, client_b, reader_b):
    account = old_account()
    link_as_reader(client_a, "old-alice", "old-secret")
    # B never proved the password: B's confirmation page has nothing to confirm.
    assert client_b.get("/link/confirm/")["Location"] == "/link/old-account/"
    client_b.post("/link/confirm/", {"confirm": ""})
    assert LegacyAccount.objects.get(pk=account.pk).reader is None


def test_a_proof_at_the_login_form_does_not_pass_to_whoever_logs_in_next(client, reader_b):
    # A shared library terminal: A proves an old password at the login form and walks away at
    # 账户信息确认; B logs in with a gateway account in the same browser.
    account = old_account()
    client.post("/accounts/login/", {"login": "old-alice", "password": "old-secret"})
    client.post("/accounts/login/", {"login": "reader-b", "password": PASSWORD})
    assert client.session["_auth_user_id"] == str(reader_b.user.pk)
    page = client.get("/link/confirm/", **EN)
    assert account.id_number not in page.content.decode()
    assert page["Location"] == "/link/old-account/"
    client.post("/link/confirm/", {"confirm": ""})
    account.refresh_from_db()
    assert account.reader is None
    assert not LedgerEntry.objects.filter(reader=reader_b).exists()


def test_a_campus_proof_does_not_pass_to_a_reader_who_logs_in_next(
    client, oidc_configured, reader_b
):
    account = old_account(reader_type=ReaderType.CAMPUS)
    oidc_login(client, CARSI_SUB)
    link_as_reader(client, "old-alice", "old-secret")
    client.post("/accounts/login/", {"login": "reader-b", "password": PASSWORD})
    assert client.session["_auth_user_id"] == str(reader_b.user.pk)
    assert client.get("/link/confirm/")["Location"] == "/link/old-account/"
    client.post("/link/confirm/", {"confirm": ""})
    account.refresh_from_db()
    assert account.reader is None


def test_a_link_the_ledger_cannot_hold_is_refused_in_words_and_links_nothing(client_a, reader_a):
    ledger_record(reader=reader_a, kind="adjustment", amount="99999990.00", actor=None, note="test")
    account = old_account()  # 50.00 more would be beyond what the ledger holds
    link_as_reader(client_a, "old-alice", "old-secret")
    response = client_a.post("/link/confirm/", {"confirm": ""}, follow=True, **EN)
    assert response.status_code == 200
    assert "99999999.99" in response.content.decode()
    account.refresh_from_db()
    assert account.reader is None
    assert ledger_balance(reader_a) == Decimal("99999990.00")


def test_the_old_accounts_page_shows_only_the_readers_own(client_a, client_b, reader_a):
    old_account()
    link_as_reader(client_a, "old-alice", "old-secret")
    client_a.post("/link/confirm/", {"confirm": ""})
    assert "old-alice" in client_a.get("/account/old-system/").content.decode()
    assert "old-alice" not in client_b.get("/account/old-system/").content.decode()


# --- Several old accounts of one person (item 6) -----------------------------------------------


def test_other_accounts_with_the_same_id_are_attached_by_their_password(client_a, reader_a):
    old_account()
    twin = old_account("old-alice-2", "pw-2", user_id=9002, balance=Decimal("20.00"))
    stranger = old_account("old-bob", "pw-3", user_id=9003, id_number="777")
    link_as_reader(client_a, "old-alice", "old-secret")
    client_a.post("/link/confirm/", {"confirm": ""})
    page = client_a.get("/account/old-system/", **EN).content.decode()
    assert "old-alice-2" in page and "old-bob" not in page
    # Another person's account is not attached even with its password.
    response = client_a.post("/link/attach/", {"username": "old-bob", "password": "pw-3"}, **EN)
    assert response.status_code == 400
    assert LegacyAccount.objects.get(pk=stranger.pk).reader is None
    response = client_a.post("/link/attach/", {"username": "old-alice-2", "password": "bad"})
    assert response.status_code == 400
    response = client_a.post("/link/attach/", {"username": "old-alice-2", "password": "pw-2"})
    assert response.status_code == 302
    twin.refresh_from_db()
    assert (twin.reader, twin.link_kind) == (reader_a, LinkKind.ATTACHED)
    # Its money is shown, not counted: only the linked account's opening balance is.
    assert ledger_balance(reader_a) == Decimal("50.00")
    page = client_a.get("/account/old-system/", **EN).content.decode()
    assert "20.00" in page and "Not moved yet" in page


def test_other_accounts_of_a_linked_person_no_longer_log_in(client):
    reader = ReaderFactory()
    legacy_link(legacy_account=old_account(), reader=reader, actor=None)
    old_account("old-alice-2", "pw-2", user_id=9002)
    response = client.post("/accounts/login/", {"login": "old-alice-2", "password": "pw-2"}, **EN)
    assert response.status_code == 200
    assert "attach this one as history" in response.content.decode()
    assert "_auth_user_id" not in client.session


# --- Debts (item 7) ---------------------------------------------------------------------------


def test_a_debt_is_the_opening_balance_and_shown_on_the_board_and_account(
    client_a, reader_a, client_staff
):
    old_account(balance=Decimal("-12.50"))
    link_as_reader(client_a, "old-alice", "old-secret")
    assert "owes 12.50 yuan" in client_a.get("/link/confirm/", **EN).content.decode()
    client_a.post("/link/confirm/", {"confirm": ""})
    assert ledger_balance(reader_a) == Decimal("-12.50")
    notice = Notice.objects.get(reader=reader_a)
    assert "12.50" in notice.body_en and "ILL office" in notice.body_en
    assert "12.50" in notice.body_zh
    board = client_a.get("/", **EN).content.decode()
    assert "Debt from the old system" in board
    account_page = client_a.get("/account/", **EN).content.decode()
    assert "You owe the ILL office 12.50 yuan" in account_page
    # The owing block of the ledger applies.
    assert "cannot submit new requests" in client_a.get("/requests/new/", **EN).content.decode()
    # Staff record the settlement on the reader's admin page; the block is lifted.
    client_staff.post(
        f"/admin/accounts/ledgerentry/record/{reader_a.pk}/",
        {
            "token": "a" * 32,
            "kind": "debt_settlement",
            "amount": "12.50",
            "method": "cash",
            "note": "",
        },
    )
    assert ledger_balance(reader_a) == Decimal("0.00")
    assert "cannot submit new requests" not in client_a.get("/requests/new/", **EN).content.decode()


# --- Campus first login (seed 1.3) ---------------------------------------------------------------


def test_the_campus_first_login_offers_both_choices(client, oidc_configured):
    oidc_login(client, CARSI_SUB)
    page = client.get("/accounts/3rdparty/signup/", **EN).content.decode()
    assert "Link an existing account" in page and 'href="/link/old-account/"' in page
    assert "Register a new account" in page
    assert "choose (1)" in page


def test_a_campus_reader_who_links_does_not_register_again(client, oidc_configured):
    account = old_account(reader_type=ReaderType.CAMPUS)
    oidc_login(client, CARSI_SUB)
    assert client.get("/link/old-account/").status_code == 200
    response = link_as_reader(client, "Old-Alice", "old-secret")
    assert response["Location"] == "/link/confirm/"
    assert get_user_model().objects.count() == 0
    response = client.post("/link/confirm/", {"confirm": ""})
    assert response.status_code == 302
    reader = Reader.objects.get()
    assert reader.reader_type == ReaderType.CAMPUS
    assert reader.status == ReaderStatus.CONFIRMED  # as the old account was
    assert (reader.name, reader.email, reader.id_number) == (account.name, account.email, "3245")
    assert reader.user.username.startswith("sso-")
    assert not reader.user.has_usable_password()
    assert "_auth_user_id" in client.session
    account.refresh_from_db()
    assert account.reader == reader
    assert ledger_balance(reader) == Decimal("50.00")


def test_a_campus_back_leaves_the_registration_open(client, oidc_configured):
    old_account(reader_type=ReaderType.CAMPUS)
    oidc_login(client, CARSI_SUB)
    link_as_reader(client, "old-alice", "old-secret")
    response = client.post("/link/confirm/", {"back": ""})
    assert response["Location"] == "/accounts/3rdparty/signup/"
    assert get_user_model().objects.count() == 0
    assert client.get("/accounts/3rdparty/signup/").status_code == 200


def test_staff_can_ask_to_confirm_readers_who_link(client, oidc_configured, settings):
    settings.LEGACY_LINK_NEEDS_CONFIRMATION = True
    old_account(reader_type=ReaderType.CAMPUS)
    oidc_login(client, CARSI_SUB)
    link_as_reader(client, "old-alice", "old-secret")
    client.post("/link/confirm/", {"confirm": ""})
    assert Reader.objects.get().status == ReaderStatus.PENDING


# --- Off-campus first login on the normal login page (seed 2.1) ----------------------------------


def test_an_old_username_logs_in_and_goes_straight_to_confirmation(client):
    account = old_account()
    response = client.post("/accounts/login/", {"login": "OLD-Alice", "password": "old-secret"})
    assert response.status_code == 302
    assert response["Location"] == "/link/confirm/"
    assert "_auth_user_id" not in client.session
    page = client.get("/link/confirm/", **EN).content.decode()
    assert account.name in page and account.id_number in page
    response = client.post("/link/confirm/", {"confirm": ""})
    assert response.status_code == 302
    user = get_user_model().objects.get()
    assert user.username == "old-alice"  # the old username, free in the gateway
    assert user.reader.status == ReaderStatus.CONFIRMED
    assert user.reader.reader_type == ReaderType.OFF_CAMPUS
    assert ledger_balance(user.reader) == Decimal("50.00")
    assert "_auth_user_id" in client.session
    # From now on the same username and password log in as the gateway account.
    client.logout()
    client.post("/accounts/login/", {"login": "old-alice", "password": "old-secret"})
    assert client.session["_auth_user_id"] == str(user.pk)
    assert get_user_model().objects.count() == 1


def test_a_taken_username_gets_another_and_the_reader_is_told(client):
    ReaderFactory(user__username="old-alice")
    old_account()
    client.post("/accounts/login/", {"login": "old-alice", "password": "old-secret"})
    response = client.post("/link/confirm/", {"confirm": ""}, follow=True, **EN)
    assert "old-9001" in response.content.decode()
    assert get_user_model().objects.filter(username="old-9001").exists()


def test_when_both_the_old_username_and_its_fallback_are_taken_another_is_found(client):
    # Anyone may register "old-alice" and "old-9001" before the owner comes: the owner still
    # gets an account, and is told its username.
    ReaderFactory(user__username="old-alice")
    ReaderFactory(user__username="old-9001")
    account = old_account()
    client.post("/accounts/login/", {"login": "old-alice", "password": "old-secret"})
    response = client.post("/link/confirm/", {"confirm": ""}, follow=True, **EN)
    assert response.status_code == 200
    user = Reader.objects.get(legacy_accounts=account).user
    assert user.username not in ("old-alice", "old-9001")
    assert user.username.startswith("old-9001")
    assert f"“{user.username}”" in response.content.decode()


def test_an_old_login_back_creates_nothing(client):
    old_account()
    client.post("/accounts/login/", {"login": "old-alice", "password": "old-secret"})
    assert client.post("/link/confirm/", {"back": ""})["Location"] == "/accounts/login/"
    assert not get_user_model().objects.exists()
    assert client.get("/link/confirm/")["Location"] == "/accounts/login/"


def test_a_wrong_old_password_at_the_login_form_is_a_failed_login(client):
    old_account()
    response = client.post("/accounts/login/", {"login": "old-alice", "password": "nope"})
    assert response.status_code == 200
    assert client.get("/link/confirm/")["Location"] == "/accounts/login/"


def test_a_disabled_old_account_at_the_login_form_says_whom_to_ask(client):
    old_account(status=LegacyStatus.DISABLED)
    response = client.post("/accounts/login/", {"login": "old-alice", "password": "old-secret"})
    assert (
        "ask the ILL office" in response.content.decode() or "馆际互借" in response.content.decode()
    )
    assert client.get("/link/confirm/")["Location"] == "/accounts/login/"


def test_a_campus_old_account_at_the_login_form_is_sent_to_sso(client):
    old_account(reader_type=ReaderType.CAMPUS)
    response = client.post(
        "/accounts/login/", {"login": "old-alice", "password": "old-secret"}, **EN
    )
    assert "campus single sign-on" in response.content.decode()


# --- Query counts ------------------------------------------------------------------------------


def test_query_counts(client_a, reader_a, django_assert_num_queries):
    old_account()
    old_account("old-alice-2", "pw-2", user_id=9002)
    with django_assert_num_queries(5):
        assert client_a.get("/link/old-account/").status_code == 200
    link_as_reader(client_a, "old-alice", "old-secret")
    with django_assert_num_queries(5):
        assert client_a.get("/link/confirm/").status_code == 200
    client_a.post("/link/confirm/", {"confirm": ""})
    with django_assert_num_queries(6):
        assert client_a.get("/account/old-system/").status_code == 200
    with django_assert_num_queries(5):
        assert client_a.get("/link/attach/").status_code == 200


def test_details_the_old_system_lacked_are_asked_in_the_profile(client, oidc_configured):
    # No phone and an address longer than the gateway keeps: the campus login's e-mail stands in
    # where the old one is missing; the rest is left for the reader, who is sent to the profile.
    old_account(reader_type=ReaderType.CAMPUS, phone="", email="", address="路" * 300)
    oidc_login(client, CARSI_SUB)
    link_as_reader(client, "old-alice", "old-secret")
    response = client.post("/link/confirm/", {"confirm": ""}, **EN)
    assert response["Location"] == "/profile/"
    reader = Reader.objects.get()
    assert (reader.phone, reader.address) == ("", "")
    assert reader.name == "旧读者 Alice"
    page = client.get("/profile/", **EN).content.decode()
    assert "please complete your profile" in page


def test_the_audit_trail_records_the_link_and_never_a_password(client_a, reader_a):
    account = old_account()
    link_as_reader(client_a, "old-alice", "old-secret")
    client_a.post("/link/confirm/", {"confirm": ""})
    entries = LogEntry.objects.get_for_object(account)
    assert any("link_kind" in (e.changes_dict or {}) for e in entries)
    dump = json.dumps([e.changes_dict for e in entries])
    assert "password" not in dump and account.password not in dump
