"""Every form that takes a password is throttled, the admin's included, and per real client.

Found by an outside probe: 60 wrong passwords for a staff account at /admin/login/ were all
answered and the right one then worked; 40 wrong old passwords at /admin/password_change/ too;
and behind the reverse proxy every client had the proxy's address, so 20 wrong logins locked
the whole portal out.
"""

import pytest
from django.core.cache import cache

from tests.factories import PASSWORD, ReaderFactory, StaffFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def clear_throttle():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def staff_user(db):
    return StaffFactory(username="demo-staff")


def logged_in(client):
    return "_auth_user_id" in client.session


# --- The admin's login ------------------------------------------------------------------------


def test_wrong_passwords_at_the_admin_login_lock_it_like_the_portal_login(client, staff_user):
    for _ in range(6):
        client.post("/admin/login/", {"username": "demo-staff", "password": "guess"})
    client.post("/admin/login/", {"username": "demo-staff", "password": PASSWORD})
    assert not logged_in(client)


def test_the_admin_login_is_the_portal_login_form(client):
    response = client.get("/admin/login/?next=/admin/requests_app/illrequest/")
    assert response.status_code == 302
    assert response["Location"] == ("/accounts/login/?next=%2Fadmin%2Frequests_app%2Fillrequest%2F")
    # The back office's front door sends there too.
    response = client.get("/admin/", follow=True)
    assert response.redirect_chain[-1][0].startswith("/accounts/login/?next=")


def test_staff_log_in_through_the_portal_form_and_land_in_the_back_office(client, staff_user):
    response = client.post(
        "/accounts/login/?next=/admin/", {"login": "demo-staff", "password": PASSWORD}
    )
    assert response["Location"] == "/admin/"
    assert client.get("/admin/").status_code == 200


def test_staff_locked_at_the_portal_form_stay_locked_for_the_back_office(client, staff_user):
    for _ in range(5):
        client.post("/accounts/login/", {"login": "demo-staff", "password": "guess"})
    client.post("/accounts/login/?next=/admin/", {"login": "demo-staff", "password": PASSWORD})
    assert not logged_in(client)
    client.post("/admin/login/", {"username": "demo-staff", "password": PASSWORD})
    assert not logged_in(client)


def test_a_reader_at_the_admin_login_is_refused_not_sent_round(client_a):
    assert client_a.get("/admin/login/").status_code == 403


# --- Changing a password ------------------------------------------------------------------------


def test_the_admin_password_change_is_the_throttled_portal_form(client, staff_user):
    client.force_login(staff_user)
    response = client.get("/admin/password_change/")
    assert response.status_code == 302
    assert response["Location"] == "/accounts/password/change/"
    assert client.post("/admin/password_change/", {}).status_code == 302
    assert client.get("/accounts/password/change/").status_code == 200


def test_wrong_old_passwords_lock_the_password_change(client, staff_user):
    client.force_login(staff_user)
    new = "an-Entirely-new-passphrase-42"
    for _ in range(6):
        client.post(
            "/accounts/password/change/",
            {"oldpassword": "guess", "password1": new, "password2": new},
        )
    response = client.post(
        "/accounts/password/change/",
        {"oldpassword": PASSWORD, "password1": new, "password2": new},
    )
    assert response.status_code == 429
    staff_user.refresh_from_db()
    assert staff_user.check_password(PASSWORD)


# --- Behind the reverse proxy -------------------------------------------------------------------


def fail_logins(client, reader, times, **headers):
    for _ in range(times):
        client.post("/accounts/login/", {"login": reader, "password": "guess"}, **headers)


def test_without_a_trusted_proxy_a_forged_forwarded_for_is_ignored(client, settings):
    settings.ACCOUNT_RATE_LIMITS = {"login_failed": "3/5m/ip"}
    ReaderFactory(user__username="victim")
    # One client sends wrong passwords, each time claiming another address.
    for n in range(3):
        fail_logins(
            client, "nobody", 1, REMOTE_ADDR="203.0.113.9", HTTP_X_FORWARDED_FOR=f"10.0.0.{n}"
        )
    client.post(
        "/accounts/login/",
        {"login": "victim", "password": PASSWORD},
        REMOTE_ADDR="203.0.113.9",
        HTTP_X_FORWARDED_FOR="10.0.0.99",
    )
    assert not logged_in(client)


def test_behind_a_trusted_proxy_each_client_is_counted_alone(client, settings):
    settings.ACCOUNT_RATE_LIMITS = {"login_failed": "3/5m/ip"}
    settings.ALLAUTH_TRUSTED_PROXY_COUNT = 1
    ReaderFactory(user__username="victim")
    proxy = {"REMOTE_ADDR": "127.0.0.1"}
    # An attacker behind the proxy fails three times (and forges a header of its own, which
    # the proxy appends the real address to).
    fail_logins(client, "nobody", 3, HTTP_X_FORWARDED_FOR="198.51.100.1, 192.0.2.66", **proxy)
    client.post(
        "/accounts/login/",
        {"login": "victim", "password": PASSWORD},
        HTTP_X_FORWARDED_FOR="192.0.2.66",
        **proxy,
    )
    assert not logged_in(client)
    # Another reader, through the same proxy, is not locked out with the attacker.
    response = client.post(
        "/accounts/login/",
        {"login": "victim", "password": PASSWORD},
        HTTP_X_FORWARDED_FOR="192.0.2.7",
        **proxy,
    )
    assert response.status_code == 302


def test_the_proxy_setting_comes_from_the_environment(monkeypatch):
    import subprocess
    import sys

    env = {
        "DEBUG": "true",
        "TRUSTED_PROXY_COUNT": "1",
        "PATH": "/usr/bin:/bin",
    }
    code = (
        "import django, os; os.environ['DJANGO_SETTINGS_MODULE']='illgateway.settings'; "
        "django.setup(); from django.conf import settings; "
        "print(settings.ALLAUTH_TRUSTED_PROXY_COUNT, settings.ALLAUTH_TRUSTED_CLIENT_IP_HEADER)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    )
    assert out.stdout.split() == ["1", "None"]
    env = {**env, "TRUSTED_PROXY_COUNT": "0", "TRUSTED_CLIENT_IP_HEADER": "X-Real-IP"}
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    )
    assert out.stdout.split() == ["0", "X-Real-IP"]


def test_the_per_account_lock_does_not_depend_on_the_host_header(client):
    # Found by the production review: allauth keys the per-account lock by the Host header, port
    # included; whoever reaches the application server directly could vary the port
    # (testserver:1, testserver:2, …) and get five fresh tries for the same account each time.
    reader = ReaderFactory()
    username = reader.user.username
    for port in range(1, 7):
        client.post(
            "/accounts/login/",
            {"login": username, "password": "guess"},
            HTTP_HOST=f"testserver:{port}",
            REMOTE_ADDR=f"10.0.0.{port}",
        )
    client.post(
        "/accounts/login/",
        {"login": username, "password": PASSWORD},
        HTTP_HOST="testserver:99",
        REMOTE_ADDR="10.0.0.99",
    )
    assert not logged_in(client)


def test_the_per_account_lock_folds_case_as_the_database_compares_logins(client):
    # Usernames are compared case-insensitively by the database (UPPER(username) = UPPER(%s)
    # on PostgreSQL), where "ı" (dotless i) and "ſ" (long s) are the same as "I" and "S": they
    # must count on the same lock, or each spelling gets five fresh tries for one account.
    reader = ReaderFactory(user__username="old-lis")
    for n, spelling in enumerate(["old-lis", "OLD-LIS", "old-lıs", "old-liſ", "OLD-LıS"]):
        client.post(
            "/accounts/login/",
            {"login": spelling, "password": "guess"},
            REMOTE_ADDR=f"10.0.1.{n}",
        )
    client.post(
        "/accounts/login/",
        {"login": reader.user.username, "password": PASSWORD},
        REMOTE_ADDR="10.0.1.99",
    )
    assert not logged_in(client)
