"""allauth pages the gateway does not offer, and the portal's own error pages."""

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "url", ["/accounts/email/", "/accounts/password/set/", "/accounts/3rdparty/"]
)
def test_allauth_pages_we_do_not_offer_are_not_found(client_a, client_anon, url):
    assert client_a.get(url).status_code == 404
    assert client_a.post(url, {"email": "x@example.org", "action_add": "1"}).status_code == 404
    assert client_anon.get(url).status_code == 404


def test_not_found_page_is_in_the_portal_layout_and_language(client_a):
    response = client_a.get("/notices/999999/", HTTP_ACCEPT_LANGUAGE="zh-CN")
    assert response.status_code == 404
    content = response.content.decode()
    assert "页面不存在" in content
    assert '<main id="main"' in content
    english = client_a.get("/no/such/page/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Page not found" in english


def test_an_expired_form_is_explained(reader_a, password):
    client = Client(enforce_csrf_checks=True)
    response = client.post(
        "/accounts/login/", {"login": "reader-a", "password": password}, HTTP_ACCEPT_LANGUAGE="en"
    )
    assert response.status_code == 403
    assert "The form has expired" in response.content.decode()


def test_login_and_landing_pages_lead_to_off_campus_registration(client_anon):
    for url in ("/", "/accounts/login/"):
        assert 'href="/accounts/signup/"' in client_anon.get(url).content.decode()


def test_language_switch_is_remembered_for_the_readers_emails(client_a, reader_a):
    assert reader_a.language == "zh-hans"
    client_a.post("/i18n/setlang/", {"language": "en", "next": "/"})
    reader_a.refresh_from_db()
    assert reader_a.language == "en"
    client_a.post("/i18n/setlang/", {"language": "xx", "next": "/"})
    reader_a.refresh_from_db()
    assert reader_a.language == "en"


def test_language_switch_works_for_visitors_and_staff(client_anon, client_staff):
    for client in (client_anon, client_staff):
        response = client.post("/i18n/setlang/", {"language": "en", "next": "/help/"})
        assert response.status_code == 302
        assert "English" in client.get("/help/").content.decode()


def test_opening_an_action_address_explains_itself(client_a):
    response = client_a.get("/requests/1/accept-quote/", HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 405
    assert "Use the button on the page" in response.content.decode()
    assert response["Allow"] == "POST"
