"""A guest's delivered PDF (issue 13 item 3, SPEC 4.6): staff attach it on the admin page as for
a reader, the guest is e-mailed the private link (in their language), and downloads the file
through that link — the copyright statement once, the same days and downloads, the same
counter — while nobody without the link reaches it."""

from datetime import timedelta
from decimal import Decimal

import pytest
import time_machine
from django.core import mail
from django.db import connection
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from accounts.models import LedgerEntry
from requests_app.delivery import (
    Refusal,
    delivery_attach,
    delivery_can_download,
    delivery_claim_download,
    delivery_purge,
)
from requests_app.lifecycle import request_transition
from requests_app.models import Delivery, IllRequest, Status
from tests.factories import IllRequestFactory
from tests.guests.conftest import guest_example, guest_login, links_in_outbox, submit
from tests.requests_app.pdfs import make_pdf, pdf_upload
from tests.requests_app.test_concurrency import race

pytestmark = pytest.mark.django_db


def deliver_url(ill_request):
    return reverse("admin:requests_app_illrequest_deliver", args=[ill_request.pk])


def change_url(ill_request):
    return reverse("admin:requests_app_illrequest_change", args=[ill_request.pk])


def statement_url(link):
    return link + "delivery/"


def download_url(link):
    return link + "delivery/download/"


def ready_emails():
    return [m for m in mail.outbox if "下载" in m.subject or "ready to download" in m.subject]


def accepted(ill_request):
    Delivery.objects.filter(request=ill_request).update(acknowledged_at=timezone.now())


def streamed(response):
    assert response.status_code == 200, response.get("Location")
    return b"".join(response.streaming_content)


@pytest.fixture
def guest_request(guest_1, staff, django_capture_on_commit_callbacks):
    """A guest's request the office is working on, and its private link."""
    link = submit(guest_1, django_capture_on_commit_callbacks)
    ill_request = IllRequest.objects.get()
    request_transition(ill_request=ill_request, to=Status.IN_PROCESS, actor=staff)
    ill_request.refresh_from_db()
    return ill_request, link


@pytest.fixture
def delivered(guest_request, client_staff, django_capture_on_commit_callbacks):
    """The guest's request delivered by staff with its PDF, from the admin page."""
    ill_request, link = guest_request
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        response = client_staff.post(deliver_url(ill_request), {"file": pdf_upload()})
    assert response.status_code == 302
    ill_request.refresh_from_db()
    assert ill_request.status == Status.DELIVERED
    return ill_request, link


# --- Staff attach the PDF, the guest is e-mailed the private link --------------------------------


def test_staff_attach_a_pdf_to_a_guest_request_as_for_a_reader(
    guest_request, client_staff, django_capture_on_commit_callbacks, settings
):
    ill_request, link = guest_request
    page = client_staff.get(change_url(ill_request), HTTP_ACCEPT_LANGUAGE="en").content
    assert b"Attach a PDF and deliver" in page
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        response = client_staff.post(
            deliver_url(ill_request), {"file": pdf_upload(), "note": "扫描件"}, follow=True
        )
    ill_request.refresh_from_db()
    assert ill_request.status == Status.DELIVERED
    assert Delivery.objects.get().request == ill_request
    # Nothing goes through the prepaid ledger: a guest has no account.
    assert not LedgerEntry.objects.exists()
    [message] = list(response.context["messages"])
    assert "guest" in str(message) or "访客" in str(message)
    # The status e-mail and the one with the file's link, both to the address on the request,
    # both with the private link and never a login page's.
    assert [m.to for m in mail.outbox] == [["zhang@example.org"]] * 2
    [ready] = ready_emails()
    assert links_in_outbox() == [link, link]
    assert f"{settings.SITE_URL}{link}" in ready.body
    assert f"{settings.SITE_URL}{link}" in ready.alternatives[0][0]
    assert f"/requests/{ill_request.number}/" not in ready.body
    assert "张三 Zhang San" in ready.body and "版权声明" in ready.body and "5" in ready.body


def test_the_delivery_email_is_in_the_guests_language(
    public_account, staff, client_staff, django_capture_on_commit_callbacks
):
    english = guest_login(address="192.0.2.20")
    with django_capture_on_commit_callbacks(execute=True):
        response = english.post(reverse("guest_submit"), guest_example(), HTTP_ACCEPT_LANGUAGE="en")
    link = response["Location"]
    ill_request = IllRequest.objects.get()
    assert ill_request.guest_language == "en"
    request_transition(ill_request=ill_request, to=Status.IN_PROCESS, actor=staff)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        client_staff.post(deliver_url(ill_request), {"file": pdf_upload()})
    [ready] = ready_emails()
    assert ready.subject.startswith(f"Request {ill_request.number}: your document is ready")
    assert "Open the link (no login needed), accept the copyright statement" in ready.body
    assert link in ready.body and "Log in" not in ready.body


def test_a_guest_request_delivered_earlier_takes_its_file_later(
    guest_request, staff, client_staff, django_capture_on_commit_callbacks
):
    ill_request, link = guest_request
    request_transition(ill_request=ill_request, to=Status.DELIVERED, actor=staff)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        client_staff.post(deliver_url(ill_request), {"file": pdf_upload(), "note": "第二部分"})
    [ready] = ready_emails()
    assert ready.to == ["zhang@example.org"] and link in ready.body
    page = Client().get(link).content.decode()
    assert "论文全文.pdf" in page and "第二部分" in page


def test_a_guest_request_with_fees_waits_for_the_guests_payment_then_releases_the_file(
    guest_request, client_staff, django_capture_on_commit_callbacks
):
    ill_request, link = guest_request
    ill_request.fee_lines.create(kind="supplier", amount=Decimal("12.00"))
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        response = client_staff.post(
            deliver_url(ill_request), {"file": pdf_upload()}, follow=True, HTTP_ACCEPT_LANGUAGE="en"
        )
    ill_request.refresh_from_db()
    assert ill_request.status == Status.AWAITING_PAYMENT
    [message] = list(response.context["messages"])
    assert "Record the guest's payment" in str(message)
    assert not LedgerEntry.objects.exists()
    # No link to the file yet: the e-mail asks for the payment.
    assert ready_emails() == []
    assert "12.00" in mail.outbox[-1].body
    page = Client().get(link, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "论文全文.pdf" in page and "once the request is delivered" in page
    assert Client().post(statement_url(link), {"accept": "on"}).status_code == 302
    assert Delivery.objects.get().acknowledged_at is None

    # Staff record the payment: delivered, the days start now, the link is e-mailed.
    Delivery.objects.update(expires_at=timezone.now() + timedelta(days=1))
    with django_capture_on_commit_callbacks(execute=True):
        client_staff.post(
            reverse("admin:requests_app_illrequest_guest_payment", args=[ill_request.pk]),
            {"amount": "12.00", "method": "cash", "note": ""},
        )
    ill_request.refresh_from_db()
    assert ill_request.status == Status.DELIVERED
    [ready] = ready_emails()
    assert link in ready.body
    assert Delivery.objects.get().expires_at > timezone.now() + timedelta(days=29)
    assert not LedgerEntry.objects.exists()


# --- The guest downloads through the private link ------------------------------------------------


def test_the_private_page_shows_the_delivery_and_the_guest_accepts_once_and_downloads(delivered):
    ill_request, link = delivered
    fresh = Client()  # the link, opened in another browser, not logged in
    page = fresh.get(link, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    delivery = Delivery.objects.get()
    assert "论文全文.pdf" in page
    assert f"{timezone.localtime(delivery.delivered_at):%Y-%m-%d}" in page
    assert timezone.localtime(delivery.expires_at).strftime("%Y-%m-%d %H:%M") in page
    assert "0 of 5" in page
    assert f'href="{statement_url(link)}"' in page
    # Without accepting, the download goes to the statement.
    response = fresh.post(download_url(link))
    assert response.status_code == 302 and response["Location"] == statement_url(link)
    statement = fresh.get(statement_url(link), HTTP_ACCEPT_LANGUAGE="en")
    assert statement.status_code == 200 and b"Accept and download" in statement.content
    assert f'href="{link}"'.encode() in statement.content
    refused = fresh.post(statement_url(link), {}, HTTP_ACCEPT_LANGUAGE="en")
    assert refused.status_code == 400 and b"Tick the box" in refused.content
    assert Delivery.objects.get().downloads == 0

    response = fresh.post(statement_url(link), {"accept": "on"})
    assert streamed(response) == make_pdf()
    assert response["Content-Type"] == "application/pdf"
    assert "no-store" in response["Cache-Control"]
    delivery.refresh_from_db()
    assert delivery.downloads == 1 and delivery.acknowledged_at is not None
    # Accepted once: the next download is the page's button.
    page = fresh.get(link, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Read the copyright statement" not in page
    assert "1 of 5" in page and "4 downloads left" in page
    assert f'action="{download_url(link)}"' in page
    assert streamed(fresh.post(download_url(link))) == make_pdf()
    assert Delivery.objects.get().downloads == 2


def test_the_guests_own_logged_in_browser_downloads_too(guest_1, delivered):
    _ill_request, link = delivered
    assert streamed(guest_1.post(statement_url(link), {"accept": "on"})) == make_pdf()
    assert Delivery.objects.get().downloads == 1


def test_a_get_of_the_download_only_shows_the_private_page(delivered):
    ill_request, link = delivered
    accepted(ill_request)
    response = Client().get(download_url(link))
    assert response.status_code == 302 and response["Location"] == link
    assert Delivery.objects.get().downloads == 0


# --- Who may not: the access matrix --------------------------------------------------------------


@pytest.fixture
def second_guest_link(guest_2, django_capture_on_commit_callbacks):
    return submit(
        guest_2,
        django_capture_on_commit_callbacks,
        contact_email="li@example.org",
        token="worked-example-token-0002",
    )


def _key(link):
    return link.strip("/").split("/")[-1]


def _refused_everywhere(client, urls):
    for url in urls:
        assert client.get(url).status_code == 404, url
        assert client.post(url, {"accept": "on"}).status_code == 404, url
    assert Delivery.objects.get().downloads == 0
    assert Delivery.objects.get().acknowledged_at is None


def test_another_guests_link_does_not_open_the_file(guest_2, delivered, second_guest_link):
    ill_request, _link = delivered
    theirs = IllRequest.objects.get(contact_email="li@example.org")
    their_key = _key(second_guest_link)
    # The other guest's key on this request's number, and their own (undelivered) request.
    mine_with_their_key = f"/guest/r/{ill_request.number}/{their_key}/"
    _refused_everywhere(
        guest_2,
        [
            statement_url(mine_with_their_key),
            download_url(mine_with_their_key),
            statement_url(second_guest_link),
            download_url(second_guest_link),
        ],
    )
    delivery = Delivery.objects.get()
    assert delivery_can_download(delivery, user=None, link=their_key) == Refusal.NOT_YOURS
    assert theirs.guest_link_key() == their_key


def test_a_tampered_key_is_404(delivered):
    ill_request, link = delivered
    key = _key(link)
    flipped = key[:-1] + ("0" if key[-1] != "0" else "1")
    bad = [
        f"/guest/r/{ill_request.number}/{flipped}/",
        f"/guest/r/{ill_request.number}/{key[:-2]}/",
        f"/guest/r/{ill_request.number}/{key}x/",
        f"/guest/r/{ill_request.number + 1}/{key}/",
    ]
    _refused_everywhere(Client(), [u for b in bad for u in (statement_url(b), download_url(b))])


def test_a_logged_in_reader_cannot_reach_the_guests_file(client_a, reader_a, delivered):
    ill_request, link = delivered
    accepted(ill_request)
    # By number on the readers' pages: not theirs.
    assert client_a.get(reverse("request_detail", args=[ill_request.number])).status_code == 404
    for name in ("delivery_statement", "delivery_download"):
        url = reverse(name, args=[ill_request.number])
        assert client_a.get(url).status_code == 404
        assert client_a.post(url, {"accept": "on"}).status_code == 404
    # Their login is no right to it.
    delivery = Delivery.objects.get()
    assert delivery_can_download(delivery, user=reader_a.user) == Refusal.NOT_YOURS
    assert delivery_claim_download(delivery, user=reader_a.user) == Refusal.NOT_YOURS
    # Nor a wrong key under the guest's address.
    wrong = f"/guest/r/{ill_request.number}/{'0' * 40}/"
    assert client_a.post(download_url(wrong)).status_code == 404
    assert Delivery.objects.get().downloads == 0


def test_anonymous_without_the_link_gets_nothing(client_anon, delivered):
    ill_request, _link = delivered
    accepted(ill_request)
    for name in ("delivery_statement", "delivery_download"):
        response = client_anon.post(reverse(name, args=[ill_request.number]), {"accept": "on"})
        assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    delivery = Delivery.objects.get()
    assert delivery_can_download(delivery, user=None) == Refusal.NOT_YOURS
    assert delivery_can_download(delivery, user=None, link="") == Refusal.NOT_YOURS
    assert Delivery.objects.get().downloads == 0


def test_a_readers_file_is_never_opened_by_a_link(reader_a, staff, delivered):
    _ill_request, link = delivered
    theirs = IllRequestFactory(reader=reader_a, status=Status.IN_PROCESS)
    delivery = delivery_attach(ill_request=theirs, upload=pdf_upload(), actor=staff)
    accepted(theirs)
    delivery.refresh_from_db()
    for key in (_key(link), "", "0" * 40):
        assert delivery_can_download(delivery, user=None, link=key) == Refusal.NOT_YOURS
    # The reader's own login still is.
    assert delivery_can_download(delivery, user=reader_a.user) is None


def test_a_request_without_a_file_has_no_download(guest_request):
    _ill_request, link = guest_request
    assert Client().get(statement_url(link)).status_code == 404
    assert Client().post(download_url(link)).status_code == 404
    assert b"delivery-heading" not in Client().get(link).content


# --- The same limits and the same counter --------------------------------------------------------


def test_after_the_days_the_download_is_refused_and_the_page_says_so(delivered):
    ill_request, link = delivered
    accepted(ill_request)
    expires_at = Delivery.objects.get().expires_at
    with time_machine.travel(expires_at + timedelta(seconds=1), tick=False):
        browser = Client()
        response = browser.post(download_url(link), HTTP_ACCEPT_LANGUAGE="en")
        assert response.status_code == 302 and response["Location"] == link
        page = browser.get(link, HTTP_ACCEPT_LANGUAGE="en").content
        assert b"The download period of this document has ended." in page
        assert b"The download period ended on" in page
        assert browser.get(statement_url(link)).status_code == 302
    assert Delivery.objects.get().downloads == 0


def test_after_the_last_download_the_next_is_refused(delivered):
    ill_request, link = delivered
    accepted(ill_request)
    browser = Client()
    for _ in range(5):
        assert streamed(browser.post(download_url(link))) == make_pdf()
    refused = browser.post(download_url(link), HTTP_ACCEPT_LANGUAGE="en")
    assert refused.status_code == 302 and refused["Location"] == link
    page = browser.get(link, HTTP_ACCEPT_LANGUAGE="en").content
    assert b"Every download of this document has been used" in page and b"5 of 5" in page
    assert Delivery.objects.get().downloads == 5


def test_every_browser_with_the_link_counts_against_the_same_limit_staff_see(
    guest_1, client_staff, guest_request, settings, django_capture_on_commit_callbacks
):
    settings.DELIVERY_MAX_DOWNLOADS = 2
    ill_request, link = guest_request
    with django_capture_on_commit_callbacks(execute=True):
        client_staff.post(deliver_url(ill_request), {"file": pdf_upload()})
    elsewhere = Client()
    assert streamed(elsewhere.post(statement_url(link), {"accept": "on"})) == make_pdf()
    # The guest's own browser: already accepted, one download left.
    page = guest_1.get(link, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "1 of 2" in page and "1 download left" in page
    assert streamed(guest_1.post(download_url(link))) == make_pdf()
    assert elsewhere.post(download_url(link)).status_code == 302
    delivery = Delivery.objects.get()
    assert delivery.downloads == 2 and delivery.last_downloaded_at is not None
    admin_page = client_staff.get(change_url(ill_request)).content.decode()
    assert "2 / 2" in admin_page


def test_a_removed_file_is_said_so_and_offers_no_download(delivered):
    ill_request, link = delivered
    accepted(ill_request)
    Delivery.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    assert delivery_purge() == 1
    page = Client().get(link, HTTP_ACCEPT_LANGUAGE="en").content
    assert b"The file was removed on" in page and b"Download the PDF" not in page
    assert Client().post(download_url(link)).status_code == 302
    assert Delivery.objects.get().downloads == 0


# --- Query counts --------------------------------------------------------------------------------


@pytest.mark.parametrize("with_delivery", [False, True])
def test_the_private_page_reads_in_as_many_queries_with_a_delivery(
    guest_request, staff, with_delivery, django_assert_max_num_queries
):
    ill_request, link = guest_request
    if with_delivery:
        delivery_attach(ill_request=ill_request, upload=pdf_upload(), actor=staff)
    browser = Client()
    browser.get(link)
    with django_assert_max_num_queries(5):
        response = browser.get(link)
    assert response.status_code == 200
    assert (b"delivery-heading" in response.content) is with_delivery


def test_the_statement_page_under_the_link_query_count(delivered, django_assert_max_num_queries):
    _ill_request, link = delivered
    browser = Client()
    browser.get(statement_url(link))
    with django_assert_max_num_queries(5):
        assert browser.get(statement_url(link)).status_code == 200


# --- Two downloads at once through the link (PostgreSQL) ------------------------------------------


@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="SQLite serialises all writes: no race to show"
)
@pytest.mark.django_db(transaction=True)
def test_parallel_downloads_through_the_link_never_pass_the_limit(staff, settings):
    settings.DELIVERY_MAX_DOWNLOADS = 2
    ill_request = IllRequestFactory(
        reader=None,
        is_guest=True,
        guest_session="s" * 64,
        guest_link_nonce="n" * 32,
        contact_name="张三",
        contact_email="zhang@example.org",
        status=Status.IN_PROCESS,
    )
    delivery_attach(ill_request=ill_request, upload=pdf_upload(), actor=staff)
    accepted(ill_request)
    key = ill_request.guest_link_key()

    def claim():
        delivery = Delivery.objects.select_related("request").get()
        return delivery_claim_download(delivery, user=None, link=key)

    results = race(*[claim for _ in range(6)])
    assert results.count(None) == 2
    assert [r for r in results if r is not None] == [Refusal.USED_UP] * 4
    assert Delivery.objects.get().downloads == 2
