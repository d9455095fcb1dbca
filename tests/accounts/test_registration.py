"""Off-campus registration on its own page, and the pending state it leads to."""

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone

from accounts.legacy import LegacyAccount
from readers.models import Reader, ReaderStatus, ReaderType
from tests.factories import ReaderFactory

pytestmark = pytest.mark.django_db

FORM = {
    "username": "zhang.san",
    "password1": "a-Long-and-unusual-passphrase-7",
    "password2": "a-Long-and-unusual-passphrase-7",
    "name": "张三",
    "email": "Zhang.San@Example.ORG",
    "institution": "北京示例大学图书馆",
    "id_type": "resident_id",
    "id_number": "１１０１０１１９９００１０１１２３ｘ",
    "phone": "０１０-６２７８ ００００",
    "address": "北京市海淀区示例路 1 号",
    "postal_code": "100084",
}


def test_registration_page_labels_every_field(client_anon):
    content = client_anon.get("/accounts/signup/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    for field in FORM:
        assert f'<label for="id_{field}">' in content, field


def test_off_campus_registration_creates_a_pending_reader_and_logs_in(client_anon):
    response = client_anon.post("/accounts/signup/", FORM)
    assert response.status_code == 302
    reader = Reader.objects.get()
    assert reader.reader_type == ReaderType.OFF_CAMPUS
    assert reader.status == ReaderStatus.PENDING
    assert reader.user.username == "zhang.san"
    assert reader.user.check_password(FORM["password1"])
    # Cleaned as a person would expect: half-width digits, lower-case e-mail.
    assert reader.id_number == "11010119900101123X"
    assert reader.phone == "010-6278 0000"
    assert reader.email == "zhang.san@example.org"
    content = client_anon.get("/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "waiting for confirmation" in content


def test_registration_language_is_kept_for_emails(client_anon):
    client_anon.post("/accounts/signup/", FORM, HTTP_ACCEPT_LANGUAGE="en")
    assert Reader.objects.get().language == "en"


def test_weak_password_is_refused_beside_the_field_and_nothing_is_saved(client_anon):
    data = {**FORM, "password1": "12345678", "password2": "12345678"}
    response = client_anon.post("/accounts/signup/", data, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200
    content = response.content.decode()
    assert "This password is too common" in content
    assert 'value="北京市海淀区示例路 1 号"' in content
    assert get_user_model().objects.count() == 0


def test_every_required_field_is_asked_for(client_anon):
    response = client_anon.post("/accounts/signup/", {}, HTTP_ACCEPT_LANGUAGE="en")
    errors = response.context["form"].errors
    for field in (
        "username",
        "password1",
        "email",
        "name",
        "id_type",
        "id_number",
        "phone",
        "institution",
    ):
        assert field in errors, field
    assert Reader.objects.count() == 0


def test_bad_phone_and_postal_code_get_their_messages(client_anon):
    data = {**FORM, "phone": "ring ring", "postal_code": "!"}
    response = client_anon.post("/accounts/signup/", data, HTTP_ACCEPT_LANGUAGE="en")
    errors = response.context["form"].errors
    assert "Enter a phone number" in errors["phone"][0]
    assert "postal code" in errors["postal_code"][0]
    assert get_user_model().objects.count() == 0


def test_taken_username_is_refused(client_anon):
    ReaderFactory(user__username="zhang.san")
    response = client_anon.post("/accounts/signup/", FORM, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200
    assert "username" in response.context["form"].errors
    assert Reader.objects.count() == 1


def test_an_old_systems_username_is_kept_for_its_owner(client_anon):
    # Its owner logs in with it and the old password (seed 2.1) and keeps it as the gateway
    # login; a stranger registering it first would push the owner to "old-<id>".
    LegacyAccount.objects.create(
        user_id=77, username="Zhang.San", balance=0, status="active", created_at=timezone.now()
    )
    response = client_anon.post("/accounts/signup/", FORM, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200
    errors = response.context["form"].errors["username"]
    assert errors == [
        "This is the username of an account of the old system. If it is yours, log in with it "
        "and its old password; otherwise choose another."
    ]
    assert 'value="北京示例大学图书馆"' in response.content.decode()  # nothing typed is lost
    assert not Reader.objects.exists()


def test_same_email_as_another_reader_is_allowed(client_anon):
    ReaderFactory(email="zhang.san@example.org", user__email="zhang.san@example.org")
    response = client_anon.post("/accounts/signup/", FORM)
    assert response.status_code == 302
    assert Reader.objects.count() == 2


def test_signed_in_reader_is_not_offered_registration(client_a):
    response = client_a.get("/accounts/signup/")
    assert response.status_code == 302


def test_password_rules_speak_chinese_too(client_anon):
    data = {**FORM, "password1": "Ab1!x", "password2": "Ab1!x"}
    response = client_anon.post("/accounts/signup/", data, HTTP_ACCEPT_LANGUAGE="zh-CN")
    assert "密码长度太短。密码必须包含至少 8 个字符。" in response.content.decode()
