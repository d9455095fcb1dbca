"""A guest's requests: submit with the contact block, this browser's list, the private link,
"send me my links", the abuse limits, and the access matrix with guests in it (issue 13)."""

import re
from decimal import Decimal

import pytest
from django.core import mail
from django.test import Client, override_settings
from django.urls import reverse

from requests_app.models import IllRequest, Status, StatusChange
from tests.factories import IllRequestFactory
from tests.guests.conftest import guest_example, guest_login, links_in_outbox, submit

pytestmark = pytest.mark.django_db


# --- Submitting --------------------------------------------------------------------------------


def test_a_guest_submits_and_is_sent_to_the_requests_private_page(
    guest_1, django_capture_on_commit_callbacks
):
    link = submit(guest_1, django_capture_on_commit_callbacks)
    ill_request = IllRequest.objects.get()
    assert ill_request.is_guest and ill_request.reader is None
    assert ill_request.contact_name == "张三 Zhang San"
    assert link == ill_request.guest_link_path()
    page = guest_1.get(link, HTTP_ACCEPT_LANGUAGE="en")
    assert page.status_code == 200
    assert b"Licence to Deny?" in page.content
    assert StatusChange.objects.get().actor is None


def test_the_email_carries_the_private_link(guest_1, django_capture_on_commit_callbacks):
    link = submit(guest_1, django_capture_on_commit_callbacks)
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["zhang@example.org"]
    assert links_in_outbox() == [link]
    assert str(IllRequest.objects.get().number) in mail.outbox[0].subject


@pytest.mark.parametrize(
    "field", ["contact_name", "contact_address", "contact_phone", "contact_email"]
)
def test_the_contact_block_is_required_and_nothing_typed_is_lost(guest_1, field):
    response = guest_1.post(
        reverse("guest_submit"), guest_example(**{field: ""}), HTTP_ACCEPT_LANGUAGE="en"
    )
    assert response.status_code == 200
    assert field in response.context["form"].errors
    assert response.context["form"]["publication_title"].value() == (
        "Interlending & Document Supply"
    )
    assert not IllRequest.objects.exists()


def test_the_form_offers_copies_only(guest_1):
    response = guest_1.post(reverse("guest_submit"), guest_example(service_type="loan"))
    assert "service_type" in response.context["form"].errors
    assert not IllRequest.objects.exists()


def test_the_same_form_twice_is_one_request(guest_1, django_capture_on_commit_callbacks):
    first = submit(guest_1, django_capture_on_commit_callbacks)
    second = submit(guest_1, django_capture_on_commit_callbacks)
    assert first == second
    assert IllRequest.objects.count() == 1


def test_the_form_is_not_prefilled_with_anyones_details(
    guest_1, django_capture_on_commit_callbacks
):
    submit(guest_1, django_capture_on_commit_callbacks)
    form = guest_1.get(reverse("guest_submit")).context["form"]
    for name in ["contact_name", "contact_email", "contact_phone", "contact_address"]:
        assert not form[name].value()


# --- Two guests side by side -------------------------------------------------------------------


@pytest.fixture
def two_requests(guest_1, guest_2, django_capture_on_commit_callbacks):
    link_1 = submit(guest_1, django_capture_on_commit_callbacks, article_title="Guest one's")
    link_2 = submit(
        guest_2,
        django_capture_on_commit_callbacks,
        article_title="Guest two's",
        contact_email="li@example.org",
        token="worked-example-token-0002",
    )
    return link_1, link_2


def test_each_guest_lists_only_the_requests_of_their_own_browser(guest_1, guest_2, two_requests):
    list_1 = guest_1.get(reverse("guest_list")).content.decode()
    list_2 = guest_2.get(reverse("guest_list")).content.decode()
    assert "Guest one&#x27;s" in list_1 and "Guest two&#x27;s" not in list_1
    assert "Guest two&#x27;s" in list_2 and "Guest one&#x27;s" not in list_2


def test_logging_in_again_is_a_new_guest_with_an_empty_list(guest_1, two_requests):
    guest_1.post(reverse("account_logout"))
    again = guest_login(guest_1)
    assert list(again.get(reverse("guest_list")).context["page_obj"].object_list) == []


def test_a_guest_cannot_open_or_cancel_another_guests_request_any_way(
    guest_1, two_requests, django_capture_on_commit_callbacks
):
    _link_1, link_2 = two_requests
    theirs = IllRequest.objects.get(contact_email="li@example.org")
    mine = IllRequest.objects.get(contact_email="zhang@example.org")
    # By number, on the readers' pages.
    for name in ["request_detail", "request_cancel"]:
        assert guest_1.get(reverse(name, args=[theirs.number])).status_code in (403, 404)
        assert guest_1.post(reverse(name, args=[theirs.number])).status_code in (403, 404, 405)
    # By number with my own request's key, or a key that is not theirs.
    my_key = mine.guest_link_key()
    for url in [
        reverse("guest_request", args=[theirs.number, my_key]),
        reverse("guest_cancel", args=[theirs.number, my_key]),
        reverse("guest_request", args=[theirs.number, "0" * 40]),
    ]:
        assert guest_1.get(url).status_code == 404
        assert guest_1.post(url).status_code in (404, 405)
    # …nor any of the actions a private link offers.
    for name in ["guest_ask_cancellation", "guest_accept_quote", "guest_decline_quote"]:
        url = reverse(name, args=[theirs.number, my_key])
        assert guest_1.post(url).status_code == 404
        assert Client().post(url).status_code == 404
    assert guest_1.get(
        reverse("guest_decline_quote", args=[theirs.number, my_key])
    ).status_code == (404)
    theirs.refresh_from_db()
    assert theirs.status == Status.SUBMITTED
    assert theirs.history.count() == 1


def test_a_tampered_link_is_404(guest_1, two_requests):
    link_1, _ = two_requests
    number, key = link_1.strip("/").split("/")[-2:]
    flipped = key[:-1] + ("0" if key[-1] != "0" else "1")
    for bad in [
        f"/guest/r/{number}/{flipped}/",
        f"/guest/r/{number}/{key[:-2]}/",
        f"/guest/r/{int(number) + 1}/{key}/",
        f"/guest/r/{number}/{key}x/",
    ]:
        assert Client().get(bad).status_code == 404, bad


def test_the_private_link_works_after_logout_and_from_a_fresh_browser(
    guest_1, two_requests, django_capture_on_commit_callbacks
):
    link_1, _ = two_requests
    guest_1.post(reverse("account_logout"))
    assert guest_1.get(link_1).status_code == 200
    fresh = Client()
    assert fresh.get(link_1).status_code == 200
    cancel = link_1 + "cancel/"
    assert fresh.get(cancel).status_code == 200
    with django_capture_on_commit_callbacks(execute=True):
        assert fresh.post(cancel)["Location"] == link_1
    ill_request = IllRequest.objects.get(contact_email="zhang@example.org")
    assert ill_request.status == Status.CANCELLED
    # The guest is told by e-mail, with the link again.
    assert mail.outbox[-1].to == ["zhang@example.org"]
    assert link_1 in mail.outbox[-1].body


def test_a_closed_request_says_there_is_nothing_left_to_do(
    two_requests, django_capture_on_commit_callbacks
):
    link_1, _ = two_requests
    fresh = Client()
    page = fresh.get(link_1, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Nothing for you to do now" not in page  # it can still be cancelled
    with django_capture_on_commit_callbacks(execute=True):
        fresh.post(link_1 + "cancel/")
    page = fresh.get(link_1, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    # Not a bare "What you can do" heading with nothing under it.
    assert "Nothing for you to do now" in page


def test_declining_a_quote_asks_first_stating_it(
    two_requests, staff, django_capture_on_commit_callbacks
):
    # As for readers (issue 14): declining cancels for good, so it is confirmed like cancelling.
    from requests_app.lifecycle import request_transition

    link_1, _ = two_requests
    ill_request = IllRequest.objects.get(contact_email="zhang@example.org")
    with django_capture_on_commit_callbacks(execute=True):
        request_transition(
            ill_request=ill_request,
            to=Status.AWAITING_COST_APPROVAL,
            actor=staff,
            quote=Decimal("45.50"),
        )
    fresh = Client()
    url = link_1 + "decline-quote/"
    page = fresh.get(link_1, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert f'<a class="button" href="{url}">' in page
    confirm = fresh.get(url, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "the quoted cost of 45.50 yuan" in confirm
    assert f'<form method="post" action="{url}">' in confirm
    ill_request.refresh_from_db()
    assert ill_request.status == Status.AWAITING_COST_APPROVAL
    with django_capture_on_commit_callbacks(execute=True):
        assert fresh.post(url)["Location"] == link_1
    ill_request.refresh_from_db()
    assert ill_request.status == Status.CANCELLED
    # A tampered link declines nothing.
    assert fresh.get(url.replace("/decline-quote/", "x/decline-quote/")).status_code == 404


def test_readers_and_staff_do_not_see_guest_requests_in_their_lists(
    client_a, two_requests, reader_a
):
    IllRequestFactory(reader=reader_a, publication_title="The reader's own")
    content = client_a.get(reverse("request_list")).content.decode()
    assert "Guest one" not in content and "Guest two" not in content
    assert client_a.get(reverse("guest_list")).status_code == 403


def test_a_guest_cannot_see_a_readers_request(guest_1, reader_a):
    theirs = IllRequestFactory(reader=reader_a)
    assert guest_1.get(reverse("request_detail", args=[theirs.number])).status_code == 403
    assert theirs.article_title not in guest_1.get(reverse("guest_list")).content.decode()
    assert guest_1.get(reverse("guest_request", args=[theirs.number, "0" * 40])).status_code == 404


def test_anonymous_visitors_are_sent_to_log_in_for_the_list_and_the_form(client_anon):
    for name in ["guest_list", "guest_submit"]:
        assert client_anon.get(reverse(name))["Location"].startswith(reverse("account_login"))


def test_the_list_explains_how_to_find_a_request_again(guest_1):
    content = guest_1.get(reverse("guest_list"), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "private link" in content
    assert reverse("guest_links") in content


# --- Send me my links -----------------------------------------------------------------------


def test_send_me_my_links_emails_the_links_of_that_address(
    two_requests, django_capture_on_commit_callbacks
):
    link_1, link_2 = two_requests
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        response = Client().post(reverse("guest_links"), {"email": "ZHANG@example.org"})
    assert response.status_code == 302
    assert links_in_outbox("zhang@example.org") == [link_1]
    assert link_2 not in "".join(m.body for m in mail.outbox)


def test_send_me_my_links_answers_the_same_for_an_unknown_address(
    two_requests, django_capture_on_commit_callbacks
):
    mail.outbox.clear()
    answers = []
    for email in ["zhang@example.org", "nobody@example.org"]:
        client = Client()
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post(reverse("guest_links"), {"email": email}, follow=True)
        content = response.content.decode().replace(email, "EMAIL")
        answers.append(re.sub(r'name="csrfmiddlewaretoken" value="[^"]*"', "", content))
    assert answers[0] == answers[1]
    assert [m.to for m in mail.outbox] == [["zhang@example.org"]]


@override_settings(ACCOUNT_RATE_LIMITS={"guest_links": "2/1h/key"})
def test_send_me_my_links_is_rate_limited(two_requests, django_capture_on_commit_callbacks):
    mail.outbox.clear()
    statuses = []
    for _ in range(3):
        with django_capture_on_commit_callbacks(execute=True):
            response = Client().post(
                reverse("guest_links"), {"email": "zhang@example.org"}, HTTP_ACCEPT_LANGUAGE="en"
            )
        statuses.append(response.status_code)
    assert statuses == [302, 302, 429]
    assert b"Too many requests for links" in response.content
    assert len(mail.outbox) == 2


# --- Abuse limits -------------------------------------------------------------------------------


def _submit_n(client, capture, n, **overrides):
    codes = []
    for i in range(n):
        with capture(execute=True):
            response = client.post(
                reverse("guest_submit"),
                guest_example(token=f"limit-token-{id(client)}-{i:04d}", **overrides),
                HTTP_ACCEPT_LANGUAGE="en",
            )
        codes.append(response.status_code)
    return codes, response


@override_settings(GUEST_REQUESTS_PER_SESSION=2)
def test_the_limit_per_browser_session(guest_1, django_capture_on_commit_callbacks):
    codes, response = _submit_n(guest_1, django_capture_on_commit_callbacks, 3)
    assert codes == [302, 302, 429]
    assert b"from this browser" in response.content
    # Nothing typed is lost.
    assert response.context["form"]["article_title"].value()
    assert IllRequest.objects.count() == 2


@override_settings(GUEST_REQUESTS_PER_EMAIL=2)
def test_the_limit_per_email_address_across_browsers(
    public_account, django_capture_on_commit_callbacks
):
    codes = []
    for address in ["192.0.2.1", "192.0.2.2", "192.0.2.3"]:
        codes += _submit_n(guest_login(address=address), django_capture_on_commit_callbacks, 1)[0]
    assert codes == [302, 302, 429]
    assert IllRequest.objects.count() == 2


@override_settings(GUEST_REQUESTS_PER_ADDRESS=2)
def test_the_limit_per_client_address(public_account, django_capture_on_commit_callbacks):
    codes = []
    for i in range(3):
        client = guest_login(address="192.0.2.50")
        codes += _submit_n(
            client, django_capture_on_commit_callbacks, 1, contact_email=f"p{i}@example.org"
        )[0]
    assert codes == [302, 302, 429]


@override_settings(GUEST_REQUESTS_PER_ADDRESS=1, ALLAUTH_TRUSTED_PROXY_COUNT=1)
def test_behind_the_proxy_the_address_the_proxy_names_is_counted(
    public_account, django_capture_on_commit_callbacks
):
    def through_proxy(client_address, forged):
        client = Client(REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR=f"{forged}, {client_address}")
        return guest_login(client)

    codes = []
    # Two different clients behind one proxy: both may submit.
    for i, addr in enumerate(["192.0.2.61", "192.0.2.62"]):
        codes += _submit_n(
            through_proxy(addr, "1.1.1.1"),
            django_capture_on_commit_callbacks,
            1,
            contact_email=f"q{i}@example.org",
        )[0]
    # The first client again, writing another address into the header itself: still counted.
    codes += _submit_n(
        through_proxy("192.0.2.61", "9.9.9.9"),
        django_capture_on_commit_callbacks,
        1,
        contact_email="q9@example.org",
    )[0]
    assert codes == [302, 302, 429]


# --- Paying --------------------------------------------------------------------------------------


def test_the_guest_pays_after_the_office_confirms_and_staff_record_the_payment(
    guest_1, client_staff, django_capture_on_commit_callbacks
):
    link = submit(guest_1, django_capture_on_commit_callbacks)
    ill_request = IllRequest.objects.get()
    ill_request.fee_lines.create(kind="supplier", amount=Decimal("25.00"))
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        client_staff.post(
            reverse("admin:requests_app_illrequest_transition", args=[ill_request.pk]),
            {"to": "delivered", "note": "", "visible": "on"},
        )
    ill_request.refresh_from_db()
    assert ill_request.status == Status.AWAITING_PAYMENT
    body = mail.outbox[-1].body
    assert mail.outbox[-1].to == ["zhang@example.org"]
    assert "25.00" in body and reverse("fees") in body and link in body
    page = Client().get(link).content.decode()
    assert "25.00" in page
    # Too little: recorded, still waiting.
    url = reverse("admin:requests_app_illrequest_guest_payment", args=[ill_request.pk])
    assert client_staff.get(url).status_code == 200
    client_staff.post(url, {"amount": "10.00", "method": "cash", "note": ""})
    ill_request.refresh_from_db()
    assert ill_request.status == Status.AWAITING_PAYMENT
    with django_capture_on_commit_callbacks(execute=True):
        client_staff.post(url, {"amount": "15.00", "method": "transfer", "note": "ref 42"})
    ill_request.refresh_from_db()
    assert ill_request.status == Status.DELIVERED
    assert ill_request.guest_payments.count() == 2
    assert mail.outbox[-1].to == ["zhang@example.org"]
    # The private page lists both payments as amounts, right-aligned like the fees.
    page = Client().get(link).content.decode()
    assert '<td class="num">10.00</td>' in page and '<td class="num">15.00</td>' in page


def test_staff_cannot_deliver_an_unpaid_guest_request_from_awaiting_payment(
    guest_1, client_staff, django_capture_on_commit_callbacks
):
    submit(guest_1, django_capture_on_commit_callbacks)
    ill_request = IllRequest.objects.get()
    ill_request.fee_lines.create(kind="supplier", amount=Decimal("5.00"))
    transition = reverse("admin:requests_app_illrequest_transition", args=[ill_request.pk])
    client_staff.post(transition, {"to": "awaiting_payment", "visible": "on"})
    response = client_staff.post(transition, {"to": "delivered", "visible": "on"})
    assert response.status_code == 200
    assert "not paid for yet" in response.content.decode() or "尚未付" in response.content.decode()
    ill_request.refresh_from_db()
    assert ill_request.status == Status.AWAITING_PAYMENT


@pytest.mark.parametrize("amount", ["0", "-5", "abc", ""])
def test_a_bad_payment_amount_is_refused_beside_the_field(
    guest_1, client_staff, django_capture_on_commit_callbacks, amount
):
    submit(guest_1, django_capture_on_commit_callbacks)
    ill_request = IllRequest.objects.get()
    url = reverse("admin:requests_app_illrequest_guest_payment", args=[ill_request.pk])
    response = client_staff.post(url, {"amount": amount, "method": "cash"})
    assert response.status_code == 200
    assert response.context["form"].errors["amount"]
    assert not ill_request.guest_payments.exists()


def test_a_readers_request_has_no_guest_payment_page(client_staff, reader_a):
    theirs = IllRequestFactory(reader=reader_a)
    url = reverse("admin:requests_app_illrequest_guest_payment", args=[theirs.pk])
    assert client_staff.get(url).status_code == 404


# --- Staff ---------------------------------------------------------------------------------------


def test_staff_see_guest_requests_in_the_same_queue_marked_with_the_contact_block(
    client_staff, two_requests, reader_a
):
    IllRequestFactory(reader=reader_a)
    changelist = client_staff.get(
        reverse("admin:requests_app_illrequest_changelist"), {"status__exact": "submitted"}
    )
    content = changelist.content.decode()
    assert changelist.context["cl"].result_count == 3
    assert "zhang@example.org" in content and "li@example.org" in content
    guests_only = client_staff.get(
        reverse("admin:requests_app_illrequest_changelist"), {"guest": "yes"}
    )
    assert guests_only.context["cl"].result_count == 2
    ill_request = IllRequest.objects.get(contact_email="zhang@example.org")
    page = client_staff.get(
        reverse("admin:requests_app_illrequest_change", args=[ill_request.pk])
    ).content.decode()
    assert "北京市海淀区 1 号" in page and "13800138000" in page
    assert reverse("admin:requests_app_illrequest_guest_payment", args=[ill_request.pk]) in page


def test_the_csv_export_names_the_guest(client_staff, two_requests):
    response = client_staff.get(reverse("admin:requests_app_illrequest_export"))
    body = b"".join(response.streaming_content).decode("utf-8-sig")
    assert "zhang@example.org" in body


# --- Query counts --------------------------------------------------------------------------------


@pytest.mark.parametrize("count", [1, 5])
def test_the_guest_list_reads_in_few_queries(
    public_account, django_capture_on_commit_callbacks, django_assert_max_num_queries, count
):
    client = guest_login()
    for i in range(count):
        submit(client, django_capture_on_commit_callbacks, token=f"query-count-token-{i:06d}")
    with django_assert_max_num_queries(6):
        assert client.get(reverse("guest_list")).status_code == 200


def test_the_private_page_reads_in_few_queries(
    guest_1, django_capture_on_commit_callbacks, django_assert_max_num_queries
):
    link = submit(guest_1, django_capture_on_commit_callbacks)
    anonymous = Client()
    with django_assert_max_num_queries(5):
        assert anonymous.get(link).status_code == 200


def test_the_submit_form_reads_in_few_queries(guest_1, django_assert_max_num_queries):
    with django_assert_max_num_queries(4):
        assert guest_1.get(reverse("guest_submit")).status_code == 200


def test_an_openurl_fills_the_guests_form(guest_1):
    query = "genre=article&atitle=Licence+to+Deny%3F&title=Interlending&issn=0264-1615"
    response = guest_1.get(f"{reverse('openurl')}?{query}")
    assert response["Location"] == f"{reverse('guest_openurl')}?{query}"
    response = guest_1.get(response["Location"], follow=True)
    form = response.context["form"]
    assert form["article_title"].value() == "Licence to Deny?"
    assert form["issn"].value() == "0264-1615"
    assert not IllRequest.objects.exists()


def test_the_private_page_is_not_kept_by_the_browser_even_logged_out(
    guest_1, django_capture_on_commit_callbacks
):
    link = submit(guest_1, django_capture_on_commit_callbacks)
    for url in [link, link + "cancel/"]:
        response = Client().get(url)
        assert "no-store" in response["Cache-Control"]
        assert "13800138000" in response.content.decode() or url.endswith("cancel/")


def test_the_ill_office_group_records_a_guests_payment_and_sees_it_in_the_history(
    guest_1, django_capture_on_commit_callbacks
):
    from django.contrib.auth.models import Group

    from readers.staff import STAFF_GROUP
    from tests.factories import UserFactory

    member = UserFactory(username="office", is_staff=True)
    member.groups.add(Group.objects.get(name=STAFF_GROUP))
    office = Client()
    office.force_login(member)
    submit(guest_1, django_capture_on_commit_callbacks)
    ill_request = IllRequest.objects.get()
    url = reverse("admin:requests_app_illrequest_guest_payment", args=[ill_request.pk])
    assert office.post(url, {"amount": "3.00", "method": "cash"}).status_code == 302
    page = office.get(
        reverse("admin:requests_app_illrequest_change", args=[ill_request.pk])
    ).content.decode()
    assert "3.00" in page
    history = office.get(
        reverse("admin:requests_app_illrequest_history", args=[ill_request.pk]),
        HTTP_ACCEPT_LANGUAGE="en",
    ).content.decode()
    assert "guest payment" in history


def test_staff_without_the_permission_cannot_record_a_payment(
    guest_1, django_capture_on_commit_callbacks
):
    from django.contrib.auth.models import Permission

    from tests.factories import UserFactory

    clerk = UserFactory(username="clerk", is_staff=True)
    clerk.user_permissions.add(
        *Permission.objects.filter(codename__in=["view_illrequest", "change_illrequest"])
    )
    client = Client()
    client.force_login(clerk)
    submit(guest_1, django_capture_on_commit_callbacks)
    ill_request = IllRequest.objects.get()
    url = reverse("admin:requests_app_illrequest_guest_payment", args=[ill_request.pk])
    assert client.post(url, {"amount": "3.00", "method": "cash"}).status_code == 403
    assert not ill_request.guest_payments.exists()
