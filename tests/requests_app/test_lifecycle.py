"""The lifecycle (SPEC 4.4): allowed transitions only, each recorded and told to the reader."""

import datetime
from decimal import Decimal

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone, translation

from readers.models import Notice
from requests_app import lifecycle
from requests_app.lifecycle import TRANSITIONS, TransitionError, request_transition
from requests_app.models import Status, StatusChange
from requests_app.services import (
    request_accept_quote,
    request_ask_cancellation,
    request_cancel,
    request_decline_quote,
    request_refuse_cancellation,
)
from tests.factories import IllRequestFactory

pytestmark = pytest.mark.django_db

DETAILS = {
    Status.AWAITING_COST_APPROVAL: {"quote": Decimal("30.00")},
    Status.ON_LOAN: {"return_date": datetime.date(2030, 1, 31)},
}


@pytest.fixture(autouse=True)
def english():
    """Service messages follow the active language; these tests read the English ones."""
    from django.utils import translation

    with translation.override("en"):
        yield


def service_for(to):
    return "loan" if to in (Status.ON_LOAN, Status.RETURNED) else "copy"


# SPEC 4.4, written out: from each status, where staff (or the system, for expired) may move a
# request. Written here by hand, not read from the code, so that a change to the code's table
# is a failing test until this one is changed on purpose.
EXPECTED = {
    "submitted": {
        "in_process",
        "awaiting_cost_approval",
        "awaiting_payment",
        "delivered",
        "on_loan",
        "unfilled",
        "cancelled",
        "expired",
    },
    "in_process": {
        "awaiting_cost_approval",
        "awaiting_payment",
        "delivered",
        "on_loan",
        "unfilled",
        "cancelled",
    },
    # The reader accepts (back in process) or declines (cancelled); staff may also go on.
    "awaiting_cost_approval": {"in_process", "awaiting_payment", "unfilled", "cancelled"},
    "awaiting_payment": {"in_process", "delivered", "on_loan", "unfilled", "cancelled"},
    "on_loan": {"returned"},
    # The terminal statuses.
    "delivered": set(),
    "returned": set(),
    "unfilled": set(),
    "cancelled": set(),
    "expired": set(),
}
STATUSES = list(EXPECTED)
ALLOWED = [(f, t) for f, targets in EXPECTED.items() for t in sorted(targets)]
REFUSED = [(f, t) for f in STATUSES for t in STATUSES if t not in EXPECTED[f]]


def test_the_code_has_the_spec_table():
    assert set(Status.values) == set(STATUSES)
    assert {f: set(targets) for f, targets in TRANSITIONS.items()} == EXPECTED


@pytest.mark.parametrize(("from_status", "to"), ALLOWED)
def test_an_allowed_transition_changes_the_status_and_records_it(staff, from_status, to):
    ill_request = IllRequestFactory(status=from_status, service_type=service_for(to))
    request_transition(
        ill_request=ill_request, to=to, actor=staff, note="why", **DETAILS.get(to, {})
    )
    ill_request.refresh_from_db()
    assert ill_request.status == to
    change = StatusChange.objects.get(request=ill_request)
    assert (change.from_status, change.to_status, change.actor, change.note) == (
        from_status,
        to,
        staff,
        "why",
    )


@pytest.mark.parametrize(("from_status", "to"), REFUSED)
def test_a_transition_outside_the_table_is_refused_and_changes_nothing(staff, from_status, to):
    ill_request = IllRequestFactory(status=from_status, service_type=service_for(to))
    with pytest.raises(TransitionError) as raised:
        request_transition(ill_request=ill_request, to=to, actor=staff, **DETAILS.get(to, {}))
    assert str(ill_request.number) in str(raised.value)
    ill_request.refresh_from_db()
    assert ill_request.status == from_status
    assert not StatusChange.objects.exists()


def test_a_copy_cannot_go_on_loan_and_a_loan_cannot_be_delivered(staff):
    copy = IllRequestFactory(service_type="copy")
    loan = IllRequestFactory(service_type="loan")
    with translation.override("en"), pytest.raises(TransitionError, match="Only a"):
        request_transition(
            ill_request=copy, to="on_loan", actor=staff, return_date=datetime.date(2030, 1, 1)
        )
    with translation.override("en"), pytest.raises(TransitionError, match="Only a"):
        request_transition(ill_request=loan, to="delivered", actor=staff)


def test_a_cost_approval_needs_a_quote_and_a_loan_needs_a_return_date(staff):
    with pytest.raises(TransitionError, match="quoted cost"):
        request_transition(
            ill_request=IllRequestFactory(), to="awaiting_cost_approval", actor=staff
        )
    with pytest.raises(TransitionError, match="return"):
        request_transition(
            ill_request=IllRequestFactory(service_type="loan"), to="on_loan", actor=staff
        )


@pytest.mark.parametrize("quote", ["3.00", "5.00"])
def test_cost_approval_is_refused_for_a_quote_up_to_the_maximum_cost(staff, quote):
    ill_request = IllRequestFactory(status=Status.IN_PROCESS, max_cost=Decimal("5.00"))
    with pytest.raises(TransitionError, match="not above the reader's maximum cost") as raised:
        request_transition(
            ill_request=ill_request, to="awaiting_cost_approval", actor=staff, quote=Decimal(quote)
        )
    assert raised.value.field == "quote"
    ill_request.refresh_from_db()
    assert (ill_request.status, ill_request.quote) == ("in_process", None)
    assert not StatusChange.objects.exists()


def test_cost_approval_is_asked_for_a_quote_above_the_maximum_cost(
    staff, reader_a, django_capture_on_commit_callbacks
):
    reader_a.language = "en"
    reader_a.save()
    ill_request = IllRequestFactory(reader=reader_a, max_cost=Decimal("5.00"))
    with django_capture_on_commit_callbacks(execute=True):
        request_transition(
            ill_request=ill_request, to="awaiting_cost_approval", actor=staff, quote=Decimal("5.01")
        )
    ill_request.refresh_from_db()
    assert (ill_request.status, ill_request.quote) == ("awaiting_cost_approval", Decimal("5.01"))
    message = mail.outbox[0]
    expected = "for 5.01 yuan, more than your maximum cost of 5.00 yuan"
    assert expected in message.body
    assert expected in message.alternatives[0][0]


def test_a_loan_cannot_go_out_with_a_return_date_in_the_past(staff):
    ill_request = IllRequestFactory(service_type="loan", status=Status.IN_PROCESS)
    with pytest.raises(TransitionError, match="2020-01-01 has passed") as raised:
        request_transition(
            ill_request=ill_request,
            to="on_loan",
            actor=staff,
            return_date=datetime.date(2020, 1, 1),
        )
    assert raised.value.field == "return_date"
    ill_request.refresh_from_db()
    assert (ill_request.status, ill_request.return_date) == ("in_process", None)


def test_a_loan_may_be_due_back_today(staff):
    ill_request = IllRequestFactory(service_type="loan", status=Status.IN_PROCESS)
    today = timezone.localdate()
    request_transition(ill_request=ill_request, to="on_loan", actor=staff, return_date=today)
    ill_request.refresh_from_db()
    assert (ill_request.status, ill_request.return_date) == ("on_loan", today)


@pytest.mark.parametrize("note", ["", "   \n"])
def test_unfilled_is_refused_without_a_reason(staff, note):
    ill_request = IllRequestFactory(status=Status.IN_PROCESS)
    with pytest.raises(TransitionError, match="reason") as raised:
        request_transition(ill_request=ill_request, to="unfilled", actor=staff, note=note)
    assert raised.value.field == "note"
    ill_request.refresh_from_db()
    assert ill_request.status == "in_process"
    assert not StatusChange.objects.exists()


def test_unfilled_is_refused_with_a_reason_the_reader_cannot_read(staff):
    ill_request = IllRequestFactory(status=Status.IN_PROCESS)
    with pytest.raises(TransitionError, match="reader must be able to read") as raised:
        request_transition(
            ill_request=ill_request,
            to="unfilled",
            actor=staff,
            note="No library lends it",
            visible=False,
        )
    assert raised.value.field == "visible"
    ill_request.refresh_from_db()
    assert ill_request.status == "in_process"


def test_unfilled_with_a_reason_tells_the_reader_why(
    staff, reader_a, django_capture_on_commit_callbacks
):
    ill_request = IllRequestFactory(reader=reader_a, status=Status.IN_PROCESS)
    with django_capture_on_commit_callbacks(execute=True):
        request_transition(
            ill_request=ill_request, to="unfilled", actor=staff, note="No library lends it"
        )
    change = StatusChange.objects.get()
    assert (change.to_status, change.note, change.visible_to_reader) == (
        "unfilled",
        "No library lends it",
        True,
    )
    assert "No library lends it" in mail.outbox[0].body


def test_an_unknown_status_is_refused(staff):
    with pytest.raises(TransitionError, match="not a request status"):
        request_transition(ill_request=IllRequestFactory(), to="lost", actor=staff)


def test_staff_are_not_offered_expiry_or_the_other_service_types_statuses():
    copy = IllRequestFactory(service_type="copy")
    assert lifecycle.request_allowed_transitions(copy) == [
        "in_process",
        "awaiting_cost_approval",
        "awaiting_payment",
        "delivered",
        "unfilled",
        "cancelled",
    ]


def test_every_change_emails_the_reader_in_their_language(
    staff, reader_a, django_capture_on_commit_callbacks
):
    reader_a.language = "en"
    reader_a.save()
    ill_request = IllRequestFactory(reader=reader_a)
    with django_capture_on_commit_callbacks(execute=True):
        request_transition(ill_request=ill_request, to="in_process", actor=staff, note="On its way")
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == [reader_a.email]
    assert f"Request {ill_request.number}: In process" in message.subject
    assert "On its way" in message.body
    assert f"/requests/{ill_request.number}/" in message.body


def test_a_hidden_note_is_not_emailed(staff, reader_a, django_capture_on_commit_callbacks):
    ill_request = IllRequestFactory(reader=reader_a)
    with django_capture_on_commit_callbacks(execute=True):
        request_transition(
            ill_request=ill_request, to="in_process", actor=staff, note="staff only", visible=False
        )
    assert "staff only" not in mail.outbox[0].body


def test_a_rolled_back_change_sends_nothing(staff, reader_a, django_capture_on_commit_callbacks):
    ill_request = IllRequestFactory(reader=reader_a, status=Status.CANCELLED)
    with django_capture_on_commit_callbacks(execute=True), pytest.raises(TransitionError):
        request_transition(ill_request=ill_request, to="in_process", actor=staff)
    assert mail.outbox == []


def test_important_changes_also_leave_a_personal_notice(staff, reader_a):
    ill_request = IllRequestFactory(reader=reader_a)
    request_transition(ill_request=ill_request, to="in_process", actor=staff)
    assert not Notice.objects.filter(reader=reader_a).exists()
    request_transition(
        ill_request=ill_request, to="awaiting_cost_approval", actor=staff, quote=Decimal("25")
    )
    notice = Notice.objects.get(reader=reader_a)
    assert str(ill_request.number) in notice.title_en
    assert "Awaiting cost approval" in notice.title_en
    assert "等待读者确认费用" in notice.title_zh


class TestReaderCancels:
    @pytest.mark.parametrize("status", [Status.SUBMITTED, Status.AWAITING_COST_APPROVAL])
    def test_a_reader_cancels_while_submitted_or_awaiting_cost_approval(self, reader_a, status):
        ill_request = IllRequestFactory(reader=reader_a, status=status)
        request_cancel(ill_request=ill_request, actor=reader_a.user)
        ill_request.refresh_from_db()
        assert ill_request.status == Status.CANCELLED
        assert ill_request.history.get().actor == reader_a.user

    @pytest.mark.parametrize(
        "status", [s for s in Status if s not in (Status.SUBMITTED, Status.AWAITING_COST_APPROVAL)]
    )
    def test_later_the_reader_cannot_cancel(self, reader_a, status):
        ill_request = IllRequestFactory(reader=reader_a, status=status)
        with pytest.raises(TransitionError):
            request_cancel(ill_request=ill_request, actor=reader_a.user)
        ill_request.refresh_from_db()
        assert ill_request.status == status

    def test_the_cancel_page_asks_for_confirmation_then_cancels_on_post(self, client_a, reader_a):
        ill_request = IllRequestFactory(reader=reader_a)
        url = reverse("request_cancel", args=[ill_request.number])
        page = client_a.get(url, HTTP_ACCEPT_LANGUAGE="en").content.decode()
        assert f"Cancel request {ill_request.number}?" in page
        assert f'<form method="post" action="{url}">' in page
        ill_request.refresh_from_db()
        assert ill_request.status == Status.SUBMITTED
        response = client_a.post(url)
        assert response["Location"] == ill_request.get_absolute_url()
        ill_request.refresh_from_db()
        assert ill_request.status == Status.CANCELLED

    def test_cancelling_twice_says_why_and_records_one_change(self, client_a, reader_a):
        ill_request = IllRequestFactory(reader=reader_a)
        url = reverse("request_cancel", args=[ill_request.number])
        client_a.post(url)
        response = client_a.post(url, follow=True, HTTP_ACCEPT_LANGUAGE="en")
        assert "can no longer be cancelled" in response.content.decode()
        assert ill_request.history.count() == 1

    def test_a_cancelled_request_is_kept(self, client_a, reader_a):
        ill_request = IllRequestFactory(reader=reader_a)
        client_a.post(reverse("request_cancel", args=[ill_request.number]))
        assert client_a.get(ill_request.get_absolute_url()).status_code == 200


class TestCancellationRequest:
    def test_a_reader_asks_staff_to_cancel_a_request_in_process(self, client_a, reader_a):
        ill_request = IllRequestFactory(reader=reader_a, status=Status.IN_PROCESS)
        client_a.post(reverse("request_ask_cancellation", args=[ill_request.number]))
        ill_request.refresh_from_db()
        assert ill_request.cancellation_requested
        assert ill_request.status == Status.IN_PROCESS
        content = client_a.get(reverse("request_list"), HTTP_ACCEPT_LANGUAGE="en").content.decode()
        assert "cancellation requested" in content

    def test_asking_twice_records_it_once(self, reader_a):
        ill_request = IllRequestFactory(reader=reader_a, status=Status.IN_PROCESS)
        request_ask_cancellation(ill_request=ill_request, actor=reader_a.user)
        request_ask_cancellation(ill_request=ill_request, actor=reader_a.user)
        assert ill_request.history.count() == 1

    def test_asking_is_refused_where_the_reader_can_cancel_or_it_is_over(self, reader_a):
        for status in (Status.SUBMITTED, Status.DELIVERED):
            with pytest.raises(TransitionError):
                request_ask_cancellation(
                    ill_request=IllRequestFactory(reader=reader_a, status=status),
                    actor=reader_a.user,
                )

    def test_staff_cancelling_clears_the_flag(self, reader_a, staff):
        ill_request = IllRequestFactory(reader=reader_a, status=Status.IN_PROCESS)
        request_ask_cancellation(ill_request=ill_request, actor=reader_a.user)
        request_transition(ill_request=ill_request, to="cancelled", actor=staff)
        ill_request.refresh_from_db()
        assert (ill_request.status, ill_request.cancellation_requested) == ("cancelled", False)

    @pytest.mark.parametrize(
        ("status", "to"),
        [
            (Status.AWAITING_PAYMENT, Status.IN_PROCESS),
            (Status.IN_PROCESS, Status.AWAITING_PAYMENT),
        ],
    )
    def test_a_move_that_goes_on_leaves_the_request_to_cancel_pending(
        self, client_a, client_staff, reader_a, staff, status, to
    ):
        ill_request = IllRequestFactory(reader=reader_a, status=status)
        request_ask_cancellation(ill_request=ill_request, actor=reader_a.user)
        request_transition(ill_request=ill_request, to=to, actor=staff)
        ill_request.refresh_from_db()
        assert (ill_request.status, ill_request.cancellation_requested) == (to, True)
        # Staff still find it among the requests waiting for their decision...
        pending = client_staff.get(
            reverse("admin:requests_app_illrequest_changelist") + "?cancellation_requested__exact=1"
        )
        assert [r.pk for r in pending.context["cl"].result_list] == [ill_request.pk]
        # ...and the reader is still told it is being decided.
        page = client_a.get(ill_request.get_absolute_url(), HTTP_ACCEPT_LANGUAGE="en")
        assert "You asked the ILL office to cancel this request" in page.content.decode()

    @pytest.mark.parametrize(
        ("service_type", "to", "details"),
        [
            ("copy", Status.CANCELLED, {}),
            ("copy", Status.UNFILLED, {"note": "Not held in China"}),
            ("copy", Status.DELIVERED, {}),
            ("loan", Status.ON_LOAN, {"return_date": datetime.date(2099, 1, 31)}),
            ("copy", Status.AWAITING_COST_APPROVAL, {"quote": Decimal("45")}),
        ],
    )
    def test_a_status_where_staff_cannot_cancel_any_more_settles_it(
        self, reader_a, staff, service_type, to, details
    ):
        ill_request = IllRequestFactory(
            reader=reader_a, service_type=service_type, status=Status.IN_PROCESS
        )
        request_ask_cancellation(ill_request=ill_request, actor=reader_a.user)
        request_transition(ill_request=ill_request, to=to, actor=staff, **details)
        ill_request.refresh_from_db()
        assert (ill_request.status, ill_request.cancellation_requested) == (to, False)

    def test_staff_may_refuse_the_cancellation(self, reader_a, staff):
        ill_request = IllRequestFactory(reader=reader_a, status=Status.IN_PROCESS)
        request_ask_cancellation(ill_request=ill_request, actor=reader_a.user)
        request_refuse_cancellation(ill_request=ill_request, actor=staff)
        ill_request.refresh_from_db()
        assert (ill_request.status, ill_request.cancellation_requested) == ("in_process", False)
        with pytest.raises(TransitionError):
            request_refuse_cancellation(ill_request=ill_request, actor=staff)


class TestQuote:
    @pytest.fixture
    def quoted(self, reader_a, staff):
        ill_request = IllRequestFactory(reader=reader_a)
        request_transition(
            ill_request=ill_request,
            to="awaiting_cost_approval",
            actor=staff,
            quote=Decimal("45.50"),
        )
        return ill_request

    def test_the_detail_page_asks_the_reader_to_accept_or_decline(self, client_a, quoted):
        content = client_a.get(
            quoted.get_absolute_url(), HTTP_ACCEPT_LANGUAGE="en"
        ).content.decode()
        assert "45.50 yuan" in content
        assert reverse("request_accept_quote", args=[quoted.number]) in content
        assert reverse("request_decline_quote", args=[quoted.number]) in content

    def test_accepting_puts_the_request_back_in_process(self, client_a, quoted):
        client_a.post(reverse("request_accept_quote", args=[quoted.number]))
        quoted.refresh_from_db()
        assert quoted.status == Status.IN_PROCESS
        assert "45.50" in quoted.history.last().text

    def test_declining_cancels(self, client_a, quoted):
        client_a.post(reverse("request_decline_quote", args=[quoted.number]))
        quoted.refresh_from_db()
        assert quoted.status == Status.CANCELLED

    def test_declining_asks_first_stating_the_quote(self, client_a, quoted):
        # Issue 14: declining cancels for good, so it is confirmed like cancelling.
        url = reverse("request_decline_quote", args=[quoted.number])
        detail = client_a.get(quoted.get_absolute_url(), HTTP_ACCEPT_LANGUAGE="en").content
        assert f'<a class="button" href="{url}">'.encode() in detail
        page = client_a.get(url, HTTP_ACCEPT_LANGUAGE="en")
        assert page.status_code == 200
        html = page.content.decode()
        assert f"Decline the cost and cancel request {quoted.number}?" in html
        assert "the quoted cost of 45.50 yuan" in html
        assert f'<form method="post" action="{url}">' in html
        quoted.refresh_from_db()
        assert quoted.status == Status.AWAITING_COST_APPROVAL
        assert quoted.history.count() == 1

    def test_the_decline_page_in_chinese_uses_full_width_punctuation(self, client_a, quoted):
        url = reverse("request_decline_quote", args=[quoted.number])
        html = client_a.get(url, HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
        assert f"{quoted.number}？</h1>" in html
        cancel = client_a.get(reverse("request_cancel", args=[quoted.number]))
        assert f"取消申请 {quoted.number}？</h1>" in cancel.content.decode()

    def test_the_decline_page_of_a_request_without_a_quote_goes_back(self, client_a, reader_a):
        ill_request = IllRequestFactory(reader=reader_a)
        response = client_a.get(reverse("request_decline_quote", args=[ill_request.number]))
        assert response.status_code == 302
        assert response["Location"] == ill_request.get_absolute_url()

    def test_the_decline_page_query_count(self, client_a, quoted, django_assert_num_queries):
        with django_assert_num_queries(DECLINE_PAGE_QUERIES):
            client_a.get(reverse("request_decline_quote", args=[quoted.number]))

    def test_without_a_quote_there_is_nothing_to_accept(self, reader_a):
        ill_request = IllRequestFactory(reader=reader_a)
        with pytest.raises(TransitionError):
            request_accept_quote(ill_request=ill_request, actor=reader_a.user)
        with pytest.raises(TransitionError):
            request_decline_quote(ill_request=ill_request, actor=reader_a.user)


DECLINE_PAGE_QUERIES = 5
