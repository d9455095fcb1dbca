"""Campus single sign-on through OpenID Connect, against the real development IdP."""

import pytest
from django.contrib.auth import get_user_model

from readers.models import Reader, ReaderStatus, ReaderType
from tests.accounts.sso_helpers import CARSI_SUB, LOOKALIKE_SUB, RICH_SUB, oidc_login
from tests.factories import ReaderFactory

pytestmark = pytest.mark.django_db

REGISTRATION = {
    "name": "李文",
    "email": "li.wen@example.edu.cn",
    "institution": "School of History",
    "id_type": "student_card",
    "id_number": "2023010123",
    "phone": "138 0000 0000",
    "address": "清华园 1 号",
    "postal_code": "100084",
}


def test_login_page_shows_the_campus_button_once_configured(client, oidc_configured):
    content = client.get("/accounts/login/").content.decode()
    assert "统一认证 Campus login" in content
    assert 'action="/accounts/oidc/campus/login/"' in content


def test_without_a_provider_the_login_page_says_sso_is_not_configured(client, settings):
    settings.SOCIALACCOUNT_PROVIDERS = {}
    content = client.get("/accounts/login/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "not configured yet" in content


def test_rich_identity_is_prefilled_in_the_registration_form(client, oidc_configured):
    response = oidc_login(client, RICH_SUB)
    assert response.status_code == 302
    assert response["Location"] == "/accounts/3rdparty/signup/"
    form = client.get("/accounts/3rdparty/signup/", HTTP_ACCEPT_LANGUAGE="en")
    content = form.content.decode()
    assert 'value="Li Wen"' in content
    assert 'value="li.wen@example.edu.cn"' in content
    assert 'value="School of History"' in content
    assert "2023010123" in content  # the campus ID, fixed as the IdP released it
    assert get_user_model().objects.count() == 0  # nothing is created before the form is sent


def test_campus_registration_creates_a_pending_campus_reader(client, oidc_configured):
    oidc_login(client, RICH_SUB)
    response = client.post("/accounts/3rdparty/signup/", REGISTRATION)
    assert response.status_code == 302
    reader = Reader.objects.get()
    assert reader.reader_type == ReaderType.CAMPUS
    assert reader.status == ReaderStatus.PENDING
    assert reader.campus_id == "2023010123"
    assert reader.phone == "138 0000 0000"
    assert not reader.user.has_usable_password()
    assert reader.user.username.startswith("sso-")
    home = client.get("/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "waiting for confirmation" in home


def test_carsi_identity_with_only_an_opaque_identifier_can_register(client, oidc_configured):
    oidc_login(client, CARSI_SUB)
    form = client.get("/accounts/3rdparty/signup/")
    assert form.status_code == 200
    response = client.post("/accounts/3rdparty/signup/", REGISTRATION)
    assert response.status_code == 302
    reader = Reader.objects.get()
    assert reader.user.socialaccount_set.get().uid == CARSI_SUB
    assert reader.campus_id == ""


def test_registration_errors_keep_what_was_typed(client, oidc_configured):
    oidc_login(client, CARSI_SUB)
    data = {**REGISTRATION, "phone": "call me", "id_number": ""}
    response = client.post("/accounts/3rdparty/signup/", data, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200
    content = response.content.decode()
    assert "Enter a phone number" in content
    assert 'value="清华园 1 号"' in content
    assert 'value="call me"' in content
    assert Reader.objects.count() == 0
    assert get_user_model().objects.count() == 0


def test_campus_identity_with_a_readers_email_gets_its_own_registration(client, oidc_configured):
    existing = ReaderFactory(user__username="demo-reader", email="demo-reader@example.org")
    existing.user.email = "demo-reader@example.org"
    existing.user.save()
    response = oidc_login(client, LOOKALIKE_SUB)
    # Not logged in as the existing reader: sent to register instead.
    assert response["Location"] == "/accounts/3rdparty/signup/"
    assert "_auth_user_id" not in client.session
    client.post("/accounts/3rdparty/signup/", {**REGISTRATION, "email": "demo-reader@example.org"})
    assert Reader.objects.count() == 2
    new = Reader.objects.exclude(pk=existing.pk).get()
    assert new.user != existing.user
    assert new.status == ReaderStatus.PENDING
    assert existing.user.socialaccount_set.count() == 0


def test_returning_campus_reader_logs_straight_in(client, oidc_configured):
    oidc_login(client, RICH_SUB)
    client.post("/accounts/3rdparty/signup/", REGISTRATION)
    client.post("/accounts/logout/")
    response = oidc_login(client, RICH_SUB)
    assert response.status_code == 302
    assert response["Location"] == "/"
    assert client.get("/").context["user"].reader.name == "李文"
    assert Reader.objects.count() == 1


def test_campus_login_keeps_the_next_address(client, oidc_configured):
    oidc_login(client, RICH_SUB)
    client.post("/accounts/3rdparty/signup/", REGISTRATION)
    client.post("/accounts/logout/")
    response = oidc_login(client, RICH_SUB, next_url="/help/")
    assert response["Location"] == "/help/"


def test_password_reset_never_reaches_a_campus_account(
    client, oidc_configured, django_capture_on_commit_callbacks
):
    from django.core import mail

    existing = ReaderFactory(user__username="demo-reader", email="demo-reader@example.org")
    existing.user.email = "demo-reader@example.org"
    existing.user.save()
    oidc_login(client, LOOKALIKE_SUB)
    client.post("/accounts/3rdparty/signup/", {**REGISTRATION, "email": "other@example.edu.cn"})
    campus = Reader.objects.exclude(pk=existing.pk).get()
    # The provider's e-mail was not kept: only the one the reader typed.
    assert campus.user.emailaddress_set.get().email == "other@example.edu.cn"
    client.post("/accounts/logout/")

    with django_capture_on_commit_callbacks(execute=True):
        client.post("/accounts/password/reset/", {"email": "demo-reader@example.org"})
    assert len(mail.outbox) == 1
    assert "demo-reader" in mail.outbox[0].body
    assert campus.user.username not in mail.outbox[0].body

    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        client.post("/accounts/password/reset/", {"email": "other@example.edu.cn"})
    assert all(campus.user.username not in m.body for m in mail.outbox)
    campus.user.refresh_from_db()
    assert not campus.user.has_usable_password()


def test_login_message_names_the_reader_not_the_internal_username(client, oidc_configured):
    oidc_login(client, RICH_SUB)
    client.post("/accounts/3rdparty/signup/", REGISTRATION)
    client.post("/accounts/logout/")
    oidc_login(client, RICH_SUB)
    content = client.get("/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "李文" in content
    assert "sso-" not in content
