"""个人管理: the profile page, for the whole cast."""

import pytest

from tests.factories import PendingReaderFactory

pytestmark = pytest.mark.django_db


def form_data(reader, **changes):
    data = {
        "name": reader.name,
        "email": reader.email,
        "id_type": reader.id_type,
        "id_number": reader.id_number,
        "phone": reader.phone,
        "address": reader.address,
        "postal_code": reader.postal_code,
        "institution": reader.institution,
        "language": reader.language,
    }
    data.update(changes)
    return data


def test_reader_sees_own_profile(client_a, reader_a, reader_b):
    content = client_a.get("/profile/").content.decode()
    assert reader_a.name in content
    assert reader_b.name not in content


def test_reader_edits_contact_details(client_a, reader_a):
    response = client_a.post(
        "/profile/", form_data(reader_a, phone="021 5555 6666", address="上海市 新地址")
    )
    assert response.status_code == 302
    reader_a.refresh_from_db()
    assert reader_a.phone == "021 5555 6666"
    assert reader_a.address == "上海市 新地址"


def test_id_is_fixed_after_confirmation(client_a, reader_a):
    old = reader_a.id_number
    client_a.post("/profile/", form_data(reader_a, id_number="FORGED", id_type="passport"))
    reader_a.refresh_from_db()
    assert reader_a.id_number == old
    assert reader_a.id_type == "library_card"


def test_pending_reader_may_correct_the_id(client_pending, pending_reader):
    response = client_pending.post("/profile/", form_data(pending_reader, id_number="P123"))
    assert response.status_code == 302
    pending_reader.refresh_from_db()
    assert pending_reader.id_number == "P123"


def test_invalid_input_is_shown_beside_the_field_and_nothing_is_saved(client_a, reader_a):
    response = client_a.post(
        "/profile/",
        form_data(reader_a, phone="not a phone", address="x" * 101),
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert response.status_code == 200
    content = response.content.decode()
    assert 'id="id_phone_error"' in content
    assert 'value="not a phone"' in content
    reader_a.refresh_from_db()
    assert reader_a.phone == "010-62780000"


def test_anonymous_visitor_is_sent_to_login(client_anon):
    response = client_anon.get("/profile/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_staff_without_reader_profile_is_told(client_staff):
    response = client_staff.get("/profile/", HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 403
    assert "no reader profile" in response.content.decode()


def test_password_change_is_offered_to_password_accounts_only(client, reader_a):
    # SPEC 5: 帐户管理 holds the password; a reader still waiting (no account page yet) finds
    # it on the profile.
    client.force_login(reader_a.user)
    assert "/accounts/password/change/" in client.get("/account/").content.decode()
    assert "/accounts/password/change/" not in client.get("/profile/").content.decode()
    waiting = PendingReaderFactory()
    client.force_login(waiting.user)
    assert "/accounts/password/change/" in client.get("/profile/").content.decode()
    sso_reader = PendingReaderFactory()
    sso_reader.user.set_unusable_password()
    sso_reader.user.save()
    client.force_login(sso_reader.user)
    assert "/accounts/password/change/" not in client.get("/profile/").content.decode()
    sso_reader.status = "confirmed"
    sso_reader.save()
    assert "/accounts/password/change/" not in client.get("/account/").content.decode()


def test_password_change_works(client_a, reader_a, password):
    new = "an-Entirely-new-passphrase-42"
    response = client_a.post(
        "/accounts/password/change/",
        {"oldpassword": password, "password1": new, "password2": new},
    )
    assert response.status_code == 302
    reader_a.user.refresh_from_db()
    assert reader_a.user.check_password(new)


def test_password_reset_sends_a_link(client_anon, reader_a, django_capture_on_commit_callbacks):
    from django.core import mail

    with django_capture_on_commit_callbacks(execute=True):
        response = client_anon.post("/accounts/password/reset/", {"email": reader_a.email})
    assert response.status_code == 302
    assert len(mail.outbox) == 1
    assert "/accounts/password/reset/key/" in mail.outbox[0].body


def test_guessing_the_old_password_on_the_change_form_is_throttled(client_a, reader_a, password):
    from django.core.cache import cache

    cache.clear()
    new = "an-Entirely-new-passphrase-42"
    for guess in range(5):
        client_a.post(
            "/accounts/password/change/",
            {"oldpassword": f"guess-{guess}", "password1": new, "password2": new},
        )
    response = client_a.post(
        "/accounts/password/change/",
        {"oldpassword": password, "password1": new, "password2": new},
    )
    assert response.status_code == 429
    assert "请稍等几分钟" in response.content.decode()
    reader_a.user.refresh_from_db()
    assert reader_a.user.check_password(password)
    cache.clear()


def test_after_an_email_change_password_resets_go_only_to_the_new_address(
    client_a, reader_a, client_anon, django_capture_on_commit_callbacks
):
    from allauth.account.models import EmailAddress
    from django.core import mail

    EmailAddress.objects.create(user=reader_a.user, email=reader_a.email, primary=True)
    old = reader_a.email
    client_a.post("/profile/", form_data(reader_a, email="new-address@example.org"))
    reader_a.refresh_from_db()
    assert reader_a.user.email == "new-address@example.org"

    with django_capture_on_commit_callbacks(execute=True):
        client_anon.post("/accounts/password/reset/", {"email": old})
    # At most allauth's "no account with this address" notice: no reset link.
    assert all("/accounts/password/reset/key/" not in m.body for m in mail.outbox)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        client_anon.post("/accounts/password/reset/", {"email": "new-address@example.org"})
    assert [m.to for m in mail.outbox] == [["new-address@example.org"]]
    assert "/accounts/password/reset/key/" in mail.outbox[0].body


def test_staff_changing_a_readers_email_moves_the_login_email_too(client_staff, reader_a):
    from allauth.account.models import EmailAddress

    EmailAddress.objects.create(user=reader_a.user, email=reader_a.email, primary=True)
    data = {**form_data(reader_a, email="staff-set@example.org")}
    data["loginemailchange_set-TOTAL_FORMS"] = data["loginemailchange_set-INITIAL_FORMS"] = "0"
    data["reader_type"] = reader_a.reader_type
    data["campus_id"] = ""
    response = client_staff.post(f"/admin/readers/reader/{reader_a.pk}/change/", data)
    assert response.status_code == 302, response.content.decode()[:2000]
    assert list(
        EmailAddress.objects.filter(user=reader_a.user).values_list("email", flat=True)
    ) == ["staff-set@example.org"]
