"""Who may see and act on a request: its reader only; others get 404, even with a guessed number."""

import pytest
from django.urls import reverse

from requests_app.models import IllRequest, Status
from tests.factories import IllRequestFactory

pytestmark = pytest.mark.django_db

# (url name, takes a number, HTTP method that acts)
PAGES = [
    ("request_detail", "get"),
    ("request_cancel", "get"),
    ("request_copy", "get"),
    ("request_cancel", "post"),
    ("request_ask_cancellation", "post"),
    ("request_accept_quote", "post"),
    ("request_decline_quote", "get"),
    ("request_decline_quote", "post"),
]
POST_ONLY = ["request_ask_cancellation", "request_accept_quote"]


@pytest.fixture
def own_request(reader_a):
    return IllRequestFactory(reader=reader_a, status=Status.AWAITING_COST_APPROVAL, quote=20)


# What the owner gets from each page of a request awaiting their cost approval: the answer, and
# the status the request is left in. Pages answer 200; actions go back to the request's page.
OWNER_OUTCOMES = {
    ("request_detail", "get"): (200, Status.AWAITING_COST_APPROVAL),
    ("request_cancel", "get"): (200, Status.AWAITING_COST_APPROVAL),  # asks for confirmation
    ("request_copy", "get"): (200, Status.AWAITING_COST_APPROVAL),  # a prefilled new form
    ("request_cancel", "post"): (302, Status.CANCELLED),
    # Asking staff to cancel is for requests in process; here the reader cancels by themselves.
    ("request_ask_cancellation", "post"): (302, Status.AWAITING_COST_APPROVAL),
    ("request_accept_quote", "post"): (302, Status.IN_PROCESS),
    ("request_decline_quote", "get"): (200, Status.AWAITING_COST_APPROVAL),  # asks first
    ("request_decline_quote", "post"): (302, Status.CANCELLED),
}


def test_every_page_has_its_expected_outcome():
    assert set(OWNER_OUTCOMES) == set(PAGES)


@pytest.mark.parametrize(("name", "method"), PAGES)
def test_the_owner_may_use_every_page(client_a, own_request, name, method):
    response = getattr(client_a, method)(reverse(name, args=[own_request.number]))
    status_code, status = OWNER_OUTCOMES[name, method]
    assert response.status_code == status_code
    if status_code == 302:
        assert response["Location"] == own_request.get_absolute_url()
    own_request.refresh_from_db()
    assert own_request.status == status
    assert own_request.cancellation_requested is False


@pytest.mark.parametrize(("name", "method"), PAGES)
def test_another_reader_gets_404_and_changes_nothing(client_b, own_request, name, method):
    response = getattr(client_b, method)(reverse(name, args=[own_request.number]))
    assert response.status_code == 404
    own_request.refresh_from_db()
    assert own_request.status == Status.AWAITING_COST_APPROVAL
    assert own_request.history.count() == 0


@pytest.mark.parametrize(("name", "method"), PAGES)
def test_a_guessed_number_that_does_not_exist_is_404_too(client_b, own_request, name, method):
    response = getattr(client_b, method)(reverse(name, args=[own_request.number + 1]))
    assert response.status_code == 404


@pytest.mark.parametrize(("name", "method"), PAGES)
def test_a_pending_reader_is_refused_with_403(client_pending, own_request, name, method):
    response = getattr(client_pending, method)(reverse(name, args=[own_request.number]))
    assert response.status_code == 403


@pytest.mark.parametrize(("name", "method"), PAGES)
def test_anonymous_visitors_are_sent_to_login(client_anon, own_request, name, method):
    url = reverse(name, args=[own_request.number])
    response = getattr(client_anon, method)(url)
    assert response.status_code == 302
    assert response["Location"] == f"{reverse('account_login')}?next={url}"
    own_request.refresh_from_db()
    assert own_request.status == Status.AWAITING_COST_APPROVAL


@pytest.mark.parametrize("name", ["request_list", "request_submit", "openurl"])
def test_reader_pages_refuse_pending_readers_and_staff_without_profile(
    client_pending, client_staff, name
):
    # A pending reader's citation link is kept for later instead (test_kept_citation.py).
    if name != "openurl":
        assert client_pending.get(reverse(name)).status_code == 403
    assert client_staff.get(reverse(name)).status_code == 403


@pytest.mark.parametrize("name", ["request_list", "request_submit", "openurl"])
def test_reader_pages_send_anonymous_visitors_to_login(client_anon, name):
    response = client_anon.get(reverse(name))
    assert response["Location"].startswith(reverse("account_login"))


@pytest.mark.parametrize("name", POST_ONLY)
def test_it_rejects_get_on_actions(client_a, own_request, name):
    response = client_a.get(reverse(name, args=[own_request.number]))
    assert response.status_code == 405
    own_request.refresh_from_db()
    assert own_request.status == Status.AWAITING_COST_APPROVAL


@pytest.mark.parametrize("name", ["request_detail", "request_copy"])
def test_it_rejects_post_on_pages(client_a, own_request, name):
    assert client_a.post(reverse(name, args=[own_request.number])).status_code == 405


def test_a_pending_reader_cannot_submit(client_pending):
    from tests.requests_app.conftest import worked_example

    response = client_pending.post(reverse("request_submit"), worked_example())
    assert response.status_code == 403
    assert not IllRequest.objects.exists()


def test_the_list_shows_only_the_readers_own_requests(client_a, reader_a, reader_b):
    mine = IllRequestFactory(reader=reader_a, publication_title="Mine")
    IllRequestFactory(reader=reader_b, publication_title="Not mine")
    content = client_a.get(reverse("request_list")).content.decode()
    assert f">{mine.number}</a>" in content
    assert "Not mine" not in content


# --- The public account's guests (issue 13) ------------------------------------------------


@pytest.fixture
def client_guest(db):
    from django.core.management import call_command

    from tests.guests.conftest import guest_login

    call_command("public_account", verbosity=0)
    return guest_login()


@pytest.mark.parametrize(("name", "method"), PAGES)
def test_a_guest_of_the_public_account_is_refused_and_changes_nothing(
    client_guest, own_request, name, method
):
    response = getattr(client_guest, method)(reverse(name, args=[own_request.number]))
    assert response.status_code == 403
    assert own_request.article_title not in response.content.decode()
    own_request.refresh_from_db()
    assert own_request.status == Status.AWAITING_COST_APPROVAL
    assert own_request.history.count() == 0


@pytest.mark.parametrize("name", ["guest_list", "guest_submit"])
def test_guest_pages_refuse_readers_pending_readers_and_staff(
    client_a, client_pending, client_staff, name
):
    for client in (client_a, client_pending, client_staff):
        assert client.get(reverse(name)).status_code == 403
