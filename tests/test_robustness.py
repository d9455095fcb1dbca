"""No page answers 500 to anything a browser can send: every address, every member of the cast,
GET and POST, with junk parameters and junk form data."""

import pytest

from tests.factories import IllRequestFactory

pytestmark = pytest.mark.django_db

ADDRESSES = [
    "/",
    "/notices/1/",
    "/notices/999999999999/",
    "/help/",
    "/about/",
    "/fees/",
    "/profile/",
    "/account/",
    "/legacy/",
    "/requests/",
    "/requests/new/",
    "/requests/{number}/",
    "/requests/{number}/cancel/",
    "/requests/{number}/ask-cancellation/",
    "/requests/{number}/accept-quote/",
    "/requests/{number}/decline-quote/",
    "/requests/{number}/copy/",
    "/requests/99999999999999999999/",
    "/openurl",
    "/accounts/login/",
    "/accounts/signup/",
    "/accounts/logout/",
    "/accounts/password/change/",
    "/accounts/password/reset/",
    "/accounts/password/reset/key/x-y/",
    "/accounts/3rdparty/signup/",
    "/accounts/oidc/nosuch/login/",
    "/accounts/saml/nosuch/login/",
    "/accounts/saml/nosuch/acs/",
    "/i18n/setlang/",
    "/admin/",
    "/admin/readers/reader/",
    "/admin/requests_app/illrequest/",
]

JUNK = {
    "page": ["abc", "-1", "0", "9" * 30],
    "q": ["<script>alert(1)</script>", "%", "'; drop table x; --", "\x00"],
    "status": ["zzz", ""],
    "next": ["https://evil.example/", "//evil.example", "javascript:alert(1)"],
    "to": ["zzz", "on_loan"],
    "id": ["doi:", "doi:10.1/\x00"],
    "rft_id": ["info:doi/" + "x" * 5000],
    "date": ["abc"],
    "issn": ["0000-000X0"],
}

FORM_JUNK = {
    "login": "\x00",
    "password": "x" * 5000,
    "username": "<b>",
    "email": "not-an-email",
    "language": "xx",
    "service_type": "teleport",
    "document_type": "scroll",
    "publication_title": "\x00",
    "max_cost": "-1e999",
    "valid_until": "2026-02-31",
    "year": "99999999999",
    "token": "../../etc/passwd",
    "confirm_duplicate": "1",
    "id_type": "none",
    "phone": "\uff10" * 100,
    "SAMLResponse": "%%%",
    "action": "confirm_selected",
    "_selected_action": "abc",
}


@pytest.mark.parametrize(
    "who", ["client_anon", "client_a", "client_b", "client_pending", "client_staff"]
)
def test_no_address_answers_500(request, who, reader_a):
    client = request.getfixturevalue(who)
    client.raise_request_exception = False
    number = IllRequestFactory(reader=reader_a).number
    for address in ADDRESSES:
        url = address.format(number=number)
        for method in ("get", "post"):
            response = getattr(client, method)(url, JUNK if method == "get" else FORM_JUNK)
            assert response.status_code < 500, (who, method, url, response.status_code)
