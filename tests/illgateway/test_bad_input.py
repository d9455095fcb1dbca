"""What no view can read is answered 400 with the portal's page, before any view (issue 7.4)."""

import urllib.error
import urllib.request

import pytest
from django.test import Client

from illgateway.middleware import is_ascii_compatible

pytestmark = pytest.mark.django_db

ADDRESSES = ["/", "/accounts/login/", "/requests/new/"]
NOT_ASCII_COMPATIBLE = ["utf-16", "UTF-16LE", "utf-32", "utf-7", "cp037", "cp500", "UTF-32BE"]
BODY = b"csrfmiddlewaretoken=x&login=reader-a&password=wrong&publication_title=Nature"
MULTIPART = (
    b"--BoUnDaRy\r\n"
    b'Content-Disposition: form-data; name="login"\r\n\r\nreader-a\r\n'
    b"--BoUnDaRy\r\n"
    b'Content-Disposition: form-data; name="password"\r\n\r\nwrong\r\n'
    b"--BoUnDaRy--\r\n"
)


def _is_bad_request_page(response):
    names = [template.name for template in response.templates]
    return response.status_code == 400 and "400.html" in names and "base.html" in names


@pytest.mark.parametrize("charset", NOT_ASCII_COMPATIBLE)
@pytest.mark.parametrize("address", ADDRESSES)
@pytest.mark.parametrize("who", ["client_anon", "client_a"])
def test_a_form_in_a_charset_that_is_not_ascii_compatible_is_a_bad_request(
    request, who, address, charset
):
    client = request.getfixturevalue(who)
    response = client.post(
        address, BODY, content_type=f"application/x-www-form-urlencoded; charset={charset}"
    )
    assert _is_bad_request_page(response), response.status_code
    content_type = f"multipart/form-data; boundary=BoUnDaRy; charset={charset}"
    multipart = client.post(address, MULTIPART, content_type=content_type)
    assert _is_bad_request_page(multipart), multipart.status_code


def _csrf_client():
    """A browser-like client: it has the CSRF cookie, and Django checks the token."""
    client = Client(enforce_csrf_checks=True)
    client.raise_request_exception = False
    client.get("/accounts/login/")
    return client, client.cookies["csrftoken"].value


@pytest.mark.parametrize("charset", ["utf-16", "utf-32", "utf-7", "cp037", "gb18030", "utf8"])
@pytest.mark.parametrize("address", ADDRESSES)
def test_with_the_csrf_cookie_the_refused_body_is_a_400_page_not_an_empty_500(
    reader_a, address, charset
):
    # Django refuses a URL-encoded body in any charset but UTF-8 and raises that refusal again
    # in the CSRF check of its own 400 page: the server answered 500 with nothing.
    client, token = _csrf_client()
    response = client.post(
        address,
        f"csrfmiddlewaretoken={token}&login=reader-a&password=x".encode(),
        content_type=f"application/x-www-form-urlencoded; charset={charset}",
    )
    assert _is_bad_request_page(response), response.status_code


def test_too_many_fields_with_the_csrf_cookie_is_a_400_page(db):
    client, token = _csrf_client()
    body = f"csrfmiddlewaretoken={token}&" + "&".join(f"f{i}=x" for i in range(1100))
    response = client.post(
        "/accounts/login/", body.encode(), content_type="application/x-www-form-urlencoded"
    )
    assert _is_bad_request_page(response), response.status_code


def test_a_broken_multipart_body_with_the_csrf_cookie_is_a_400_page(db):
    client, token = _csrf_client()
    response = client.post(
        "/accounts/login/",
        b'--BoUnDaRy\r\nContent-Disposition: form-data; name="login"\r\n\r\nx',
        content_type="multipart/form-data; boundary=",
    )
    assert _is_bad_request_page(response), response.status_code


def test_utf8_forms_are_read(client_anon, reader_a):
    for content_type in (
        "application/x-www-form-urlencoded",
        "application/x-www-form-urlencoded; charset=UTF-8",
    ):
        response = client_anon.post("/accounts/login/", BODY, content_type=content_type)
        # The login form read the data: it answers the wrong password on the page.
        assert response.status_code == 200
        assert response.context["form"].data["login"] == "reader-a"


@pytest.mark.parametrize("charset", ["utf-8", "gb18030", "gbk", "big5", "iso-8859-1", "shift_jis"])
def test_multipart_forms_in_ascii_compatible_charsets_are_read(client_anon, reader_a, charset):
    response = client_anon.post(
        "/accounts/login/",
        MULTIPART,
        content_type=f"multipart/form-data; boundary=BoUnDaRy; charset={charset}",
    )
    assert response.status_code == 200
    assert response.context["form"].data["login"] == "reader-a"


def test_an_unknown_charset_is_left_to_django():
    assert is_ascii_compatible("no-such-charset")


def test_the_answer_is_a_page_over_real_http(live_server, transactional_db):
    for charset in ("utf-16", "utf-32", "utf-7", "cp037"):
        request = urllib.request.Request(
            live_server.url + "/accounts/login/",
            data=BODY,
            headers={"Content-Type": f"application/x-www-form-urlencoded; charset={charset}"},
        )
        with pytest.raises(urllib.error.HTTPError) as answer:
            urllib.request.urlopen(request)  # noqa: S310 (the test's own live server)
        assert answer.value.code == 400
        assert "<main" in answer.value.read().decode()


@pytest.mark.parametrize(
    "address",
    [
        "/admin/requests_app/illrequest/?status__exact=%00",
        "/admin/requests_app/illrequest/?q=%00",
        "/admin/readers/reader/?q=abc%00def",
        "/requests/?q=%00",
        "/requests/?status=%00",
        "/?page=%00",
        "/admin/requests_app/illrequest/?%00=1",
    ],
)
def test_a_nul_in_the_query_string_is_a_bad_request(client_staff, address):
    assert _is_bad_request_page(client_staff.get(address))


def test_too_many_query_parameters_with_a_post_is_a_400_page(db):
    client, token = _csrf_client()
    query = "&".join(f"f{i}=x" for i in range(1100))
    response = client.post(f"/accounts/login/?{query}", {"csrfmiddlewaretoken": token})
    assert _is_bad_request_page(response), response.status_code


def test_the_page_speaks_the_readers_language():
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    response = client.get("/requests/?q=%00")
    assert response.status_code == 400
    assert "Bad request" in response.content.decode()
