import datetime

import pytest
import time_machine
from django.core.cache import cache

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def clear_throttle():
    cache.clear()
    yield
    cache.clear()


def test_login_page_labels_every_input(client_anon):
    content = client_anon.get("/accounts/login/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert '<label for="id_login">' in content
    assert '<label for="id_password">' in content


def test_reader_logs_in_with_username_and_password(client_anon, reader_a, password):
    response = client_anon.post("/accounts/login/", {"login": "reader-a", "password": password})
    assert response.status_code == 302
    assert response["Location"] == "/"
    assert client_anon.get("/").context["user"] == reader_a.user


def test_username_is_case_insensitive(client_anon, reader_a, password):
    response = client_anon.post("/accounts/login/", {"login": "READER-A", "password": password})
    assert response.status_code == 302


def test_wrong_password_says_so_and_keeps_the_username(client_anon, reader_a):
    response = client_anon.post(
        "/accounts/login/", {"login": "reader-a", "password": "nope"}, HTTP_ACCEPT_LANGUAGE="en"
    )
    assert response.status_code == 200
    content = response.content.decode()
    assert "not correct" in content
    assert 'value="reader-a"' in content


def test_login_follows_next(client_anon, reader_a, password):
    response = client_anon.post(
        "/accounts/login/?next=/help/", {"login": "reader-a", "password": password}
    )
    assert response["Location"] == "/help/"


def test_repeated_wrong_passwords_lock_the_account_until_the_window_has_passed(
    client_anon, reader_a, password
):
    # LOGIN_FAILED_RATE's default: 5 failures per account in 5 minutes.
    with time_machine.travel("2026-11-28 10:00:00+08:00", tick=False) as clock:
        for _ in range(5):
            client_anon.post("/accounts/login/", {"login": "reader-a", "password": "guess"})
        clock.shift(datetime.timedelta(minutes=4, seconds=50))
        response = client_anon.post(
            "/accounts/login/",
            {"login": "reader-a", "password": password},
            HTTP_ACCEPT_LANGUAGE="en",
        )
        assert response.status_code in (200, 429)
        assert "Too many failed login attempts" in response.content.decode()
        assert "_auth_user_id" not in client_anon.session
        # The lock ends by itself once the window has passed: nobody clears anything.
        clock.shift(datetime.timedelta(seconds=11))
        response = client_anon.post("/accounts/login/", {"login": "reader-a", "password": password})
        assert response.status_code == 302
        assert "_auth_user_id" in client_anon.session


def test_the_lock_is_per_account(client_anon, reader_a, reader_b, password):
    for _ in range(5):
        client_anon.post("/accounts/login/", {"login": "reader-a", "password": "guess"})
    response = client_anon.post("/accounts/login/", {"login": "reader-b", "password": password})
    assert response.status_code == 302


def test_logout_is_a_post(client_a):
    page = client_a.get("/accounts/logout/")
    assert page.status_code == 200  # a confirmation page, nothing changed yet
    assert "_auth_user_id" in client_a.session
    response = client_a.post("/accounts/logout/")
    assert response.status_code == 302
    assert "_auth_user_id" not in client_a.session
