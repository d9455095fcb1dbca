"""Staff move requests through the lifecycle in the admin; the status is never a plain field."""

import datetime
import re
from decimal import Decimal

import pytest
from django.urls import reverse

from requests_app.admin import IllRequestAdmin
from requests_app.lifecycle import request_transition
from requests_app.models import SUPPLIER_FIELDS, FeeKind, FeeLine, Status, StatusChange
from requests_app.services import REQUEST_FIELDS, request_ask_cancellation, request_cancel
from tests.factories import IllRequestFactory

pytestmark = pytest.mark.django_db


def change_url(ill_request):
    return reverse("admin:requests_app_illrequest_change", args=[ill_request.pk])


def transition_url(ill_request):
    return reverse("admin:requests_app_illrequest_transition", args=[ill_request.pk])


def test_the_change_page_offers_the_allowed_transitions_only(client_staff):
    ill_request = IllRequestFactory(status=Status.IN_PROCESS)
    content = client_staff.get(change_url(ill_request), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "?to=delivered" in content
    assert "?to=returned" not in content
    assert "?to=expired" not in content
    assert 'name="status"' not in content


def test_saving_the_change_form_does_not_change_the_status(client_staff):
    ill_request = IllRequestFactory()
    response = client_staff.get(change_url(ill_request))
    assert "status" not in response.context["adminform"].form.fields


def selected_status(response):
    return re.findall(r'<option value="([^"]*)" selected>', response.content.decode())


class TestTheStatusIsChosenExplicitly:
    """The transition page never saves a status that staff did not pick."""

    def test_a_button_preselects_the_status_it_names(self, client_staff):
        ill_request = IllRequestFactory(status=Status.IN_PROCESS)
        response = client_staff.get(transition_url(ill_request) + "?to=delivered")
        assert selected_status(response) == ["delivered"]
        assert not list(response.context["messages"])

    def test_without_a_status_in_the_address_nothing_is_preselected(self, client_staff):
        ill_request = IllRequestFactory(status=Status.IN_PROCESS)
        response = client_staff.get(transition_url(ill_request))
        assert selected_status(response) == [""]

    @pytest.mark.parametrize(
        ("asked", "shown"),
        [("on_loan", "“On loan”"), ("lost", "“lost”"), ("submitted", "“Submitted”")],
    )
    def test_a_status_not_allowed_from_here_warns_and_preselects_nothing(
        self, client_staff, asked, shown
    ):
        ill_request = IllRequestFactory(
            service_type="loan", status=Status.ON_LOAN, return_date=datetime.date(2030, 1, 31)
        )
        response = client_staff.get(
            transition_url(ill_request) + f"?to={asked}", HTTP_ACCEPT_LANGUAGE="en"
        )
        assert selected_status(response) == [""]
        [warning] = response.context["messages"]
        assert warning.level_tag == "warning"
        assert f"cannot go from “On loan” to {shown}" in warning.message
        assert "nothing is preselected" in response.content.decode()

    def test_saving_without_choosing_changes_nothing(self, client_staff):
        ill_request = IllRequestFactory(
            service_type="loan", status=Status.ON_LOAN, return_date=datetime.date(2030, 1, 31)
        )
        # What the browser sends from the page opened with ?to=on_loan: no status chosen.
        response = client_staff.post(
            transition_url(ill_request) + "?to=on_loan",
            {"note": "Renewed by phone", "visible": "on"},
            HTTP_ACCEPT_LANGUAGE="en",
        )
        assert response.status_code == 200
        assert response.context["form"].errors["to"] == ["This field is required."]
        ill_request.refresh_from_db()
        assert ill_request.status == "on_loan"
        assert not StatusChange.objects.exists()


def test_the_transition_page_changes_the_status_with_a_note(client_staff, staff):
    ill_request = IllRequestFactory()
    response = client_staff.post(
        transition_url(ill_request),
        {"to": "awaiting_cost_approval", "note": "BL charges more", "visible": "on", "quote": "45"},
    )
    assert response.status_code == 302
    ill_request.refresh_from_db()
    assert (ill_request.status, ill_request.quote) == ("awaiting_cost_approval", Decimal("45"))
    change = StatusChange.objects.get()
    assert (change.actor, change.note, change.visible_to_reader) == (staff, "BL charges more", True)


def test_a_refused_transition_is_explained_on_the_page(client_staff):
    ill_request = IllRequestFactory()
    response = client_staff.post(
        transition_url(ill_request), {"to": "awaiting_cost_approval"}, HTTP_ACCEPT_LANGUAGE="en"
    )
    assert response.status_code == 200
    assert "quoted cost" in response.content.decode()
    ill_request.refresh_from_db()
    assert ill_request.status == "submitted"


def test_a_quote_within_the_maximum_cost_is_refused_beside_the_quote_field(client_staff):
    ill_request = IllRequestFactory(max_cost=Decimal("5.00"))
    response = client_staff.post(
        transition_url(ill_request),
        {"to": "awaiting_cost_approval", "quote": "3.00", "visible": "on"},
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert response.status_code == 200
    form = response.context["form"]
    assert "not above the reader's maximum cost of 5.00 yuan" in form.errors["quote"][0]
    ill_request.refresh_from_db()
    assert ill_request.status == "submitted"


def test_the_transition_page_says_which_fields_which_status_needs(client_staff):
    ill_request = IllRequestFactory()
    content = client_staff.get(transition_url(ill_request), HTTP_ACCEPT_LANGUAGE="en")
    assert '<div class="help" id="id_note_helptext"><div>Required for unfilled' in (
        content.content.decode()
    )


def test_unfilled_without_a_reason_is_refused_beside_the_note(client_staff):
    ill_request = IllRequestFactory(status=Status.IN_PROCESS)
    response = client_staff.post(
        transition_url(ill_request), {"to": "unfilled", "visible": "on"}, HTTP_ACCEPT_LANGUAGE="en"
    )
    assert response.status_code == 200
    assert "reason" in response.context["form"].errors["note"][0]
    ill_request.refresh_from_db()
    assert ill_request.status == "in_process"


class TestBulkUnfilled:
    """Unfilled in bulk asks for the reason first, on a page of its own."""

    def post(self, client, requests, **extra):
        return client.post(
            reverse("admin:requests_app_illrequest_changelist"),
            {"action": "move_to_unfilled", "_selected_action": [r.pk for r in requests], **extra},
            HTTP_ACCEPT_LANGUAGE="en",
        )

    def test_choosing_the_action_asks_for_the_reason_and_changes_nothing(self, client_staff):
        requests = IllRequestFactory.create_batch(2, status=Status.IN_PROCESS)
        response = self.post(client_staff, requests)
        assert response.status_code == 200
        content = response.content.decode()
        assert "The requests below become “Unfilled”" in content
        assert '<textarea name="note"' in content
        for ill_request in requests:
            assert f'name="_selected_action" value="{ill_request.pk}"' in content
            ill_request.refresh_from_db()
            assert ill_request.status == "in_process"
        assert not StatusChange.objects.exists()

    def test_an_empty_reason_is_asked_for_again(self, client_staff):
        ill_request = IllRequestFactory(status=Status.IN_PROCESS)
        response = self.post(client_staff, [ill_request], apply="1", note="  ")
        assert response.status_code == 200
        assert response.context["form"].errors["note"]
        ill_request.refresh_from_db()
        assert ill_request.status == "in_process"

    def test_with_the_reason_the_requests_become_unfilled_and_the_readers_read_it(
        self, client_staff, staff
    ):
        requests = IllRequestFactory.create_batch(2, status=Status.IN_PROCESS)
        response = self.post(client_staff, requests, apply="1", note="Not held in China")
        assert response.status_code == 302
        for ill_request in requests:
            ill_request.refresh_from_db()
            assert ill_request.status == "unfilled"
            change = ill_request.history.get()
            assert (change.actor, change.note, change.visible_to_reader) == (
                staff,
                "Not held in China",
                True,
            )


def test_the_bulk_action_moves_what_it_may_and_reports_the_rest(client_staff):
    fresh = IllRequestFactory()
    done = IllRequestFactory(status=Status.CANCELLED)
    response = client_staff.post(
        reverse("admin:requests_app_illrequest_changelist"),
        {"action": "move_to_in_process", "_selected_action": [fresh.pk, done.pk]},
        follow=True,
        HTTP_ACCEPT_LANGUAGE="en",
    )
    fresh.refresh_from_db()
    done.refresh_from_db()
    assert (fresh.status, done.status) == ("in_process", "cancelled")
    shown = [(m.level_tag, m.message) for m in response.context["messages"]]
    assert shown == [
        (
            "warning",
            f"Request {done.number} is Cancelled, which is final: it cannot change any more.",
        ),
        ("success", "1 request(s) moved to “In process”; the readers are told by e-mail."),
    ]


def test_refusing_a_cancellation_confirms_what_was_done(client_staff, reader_a):
    asked = IllRequestFactory(status=Status.IN_PROCESS, cancellation_requested=True)
    not_asked = IllRequestFactory(status=Status.IN_PROCESS)
    response = client_staff.post(
        reverse("admin:requests_app_illrequest_changelist"),
        {"action": "refuse_cancellation", "_selected_action": [asked.pk, not_asked.pk]},
        follow=True,
        HTTP_ACCEPT_LANGUAGE="en",
    )
    shown = [(m.level_tag, m.message) for m in response.context["messages"]]
    assert (
        "success",
        "Cancellation refused for 1 request(s): they go on as before; "
        "the readers are told by e-mail.",
    ) in shown
    assert ("warning", f"Nobody asked to cancel request {not_asked.number}.") in shown
    asked.refresh_from_db()
    assert (asked.status, asked.cancellation_requested) == ("in_process", False)


@pytest.mark.parametrize("query", ["Interlending", "0264-1615", "nothing-matches", "12345"])
def test_search_works_for_numbers_and_text(client_staff, query):
    IllRequestFactory(number=12345)
    response = client_staff.get(reverse("admin:requests_app_illrequest_changelist") + f"?q={query}")
    assert response.status_code == 200


def test_readers_cannot_reach_the_admin(client_a):
    ill_request = IllRequestFactory()
    assert client_a.get(transition_url(ill_request)).status_code == 302


@pytest.mark.parametrize(
    ("language", "expected"),
    [("en", "Move the selected requests to: In process"), ("zh-hans", "将所选申请改为：处理中")],
)
def test_the_bulk_actions_are_described_in_the_staff_members_language(
    client_staff, language, expected
):
    IllRequestFactory()  # the action bar shows only above a list with rows
    response = client_staff.get(
        reverse("admin:requests_app_illrequest_changelist"), HTTP_ACCEPT_LANGUAGE=language
    )
    assert expected in response.content.decode()


def test_the_history_rows_are_headed_with_status_labels_not_codes(client_staff, staff):
    ill_request = IllRequestFactory(status=Status.SUBMITTED)
    StatusChange.objects.create(request=ill_request, from_status="", to_status="submitted")
    StatusChange.objects.create(
        request=ill_request, actor=staff, from_status="submitted", to_status="in_process"
    )
    content = client_staff.get(change_url(ill_request), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    headings = re.findall(r'<td class="original">\s*<p>\s*(.*?)\s*</p>', content, re.S)
    assert headings == [
        f"{ill_request.number}: Submitted",
        f"{ill_request.number}: Submitted → In process",
    ]


def change_form_data(response):
    """What the browser would post back from an admin change page, unchanged."""
    data = {}
    forms = [response.context["adminform"].form]
    for inline in response.context["inline_admin_formsets"]:
        formset = inline.formset
        forms += [formset.management_form, *formset.forms]
    for form in forms:
        for field in form:
            value = field.value()
            if value is None or value is False:
                continue
            data[field.html_name] = "on" if value is True else value
    return data


def test_a_negative_fee_line_is_refused_with_a_readable_message(client_staff):
    ill_request = IllRequestFactory()
    data = change_form_data(client_staff.get(change_url(ill_request)))
    data.update(
        {
            "fee_lines-TOTAL_FORMS": "1",
            "fee_lines-0-request": str(ill_request.pk),
            "fee_lines-0-kind": "supplier",
            "fee_lines-0-amount": "-5.00",
        }
    )
    response = client_staff.post(change_url(ill_request), data, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200
    content = response.content.decode()
    assert "A fee line&#x27;s amount is 0 or more" in content
    assert "feeline_amount_not_negative" not in content
    assert not ill_request.fee_lines.exists()


def test_a_fee_line_is_added_from_the_change_page(client_staff):
    ill_request = IllRequestFactory()
    data = change_form_data(client_staff.get(change_url(ill_request)))
    data.update(
        {
            "fee_lines-TOTAL_FORMS": "1",
            "fee_lines-0-request": str(ill_request.pk),
            "fee_lines-0-kind": "supplier",
            "fee_lines-0-amount": "5.00",
        }
    )
    assert client_staff.post(change_url(ill_request), data).status_code == 302
    assert ill_request.fee_lines.get().amount == Decimal("5.00")


class TestSavingTheChangeForm:
    """The change form corrects the reader's details; it never writes the lifecycle's fields."""

    def test_the_lifecycle_fields_are_read_only(self, client_staff):
        response = client_staff.get(change_url(IllRequestFactory()))
        fields = set(response.context["adminform"].form.fields) - {"seen"}  # hidden snapshot
        assert fields <= {*REQUEST_FIELDS, *SUPPLIER_FIELDS}
        for name in ("status", "cancellation_requested", "quote", "return_date", "number"):
            assert name not in fields
            assert name in response.context["adminform"].readonly_fields

    def test_a_status_field_posted_by_hand_is_ignored(self, client_staff):
        ill_request = IllRequestFactory()
        data = change_form_data(client_staff.get(change_url(ill_request)))
        data.update(status="delivered", cancellation_requested="on", quote="99.00")
        assert client_staff.post(change_url(ill_request), data).status_code == 302
        ill_request.refresh_from_db()
        assert (ill_request.status, ill_request.cancellation_requested, ill_request.quote) == (
            "submitted",
            False,
            None,
        )

    @pytest.mark.parametrize(
        ("status", "meanwhile", "expected"),
        [
            (
                Status.SUBMITTED,
                lambda r, staff: request_cancel(ill_request=r, actor=r.reader.user),
                ("cancelled", False, None),
            ),
            (
                Status.IN_PROCESS,
                lambda r, staff: request_ask_cancellation(ill_request=r, actor=r.reader.user),
                ("in_process", True, None),
            ),
            (
                Status.IN_PROCESS,
                lambda r, staff: request_transition(
                    ill_request=r, to="awaiting_cost_approval", actor=staff, quote=Decimal("45")
                ),
                ("awaiting_cost_approval", False, Decimal("45")),
            ),
        ],
        ids=["reader_cancels", "reader_asks_to_cancel", "staff_quote"],
    )
    def test_what_happened_while_staff_edited_is_kept(
        self, client_staff, staff, monkeypatch, status, meanwhile, expected
    ):
        ill_request = IllRequestFactory(status=status)
        data = change_form_data(client_staff.get(change_url(ill_request)))
        data["remarks"] = "Typo fixed by staff"
        save_form = IllRequestAdmin.save_form

        def meanwhile_then_save_form(self, request, form, change):
            # The form's copy of the request was loaded before this change; the save comes after.
            meanwhile(ill_request, staff)
            return save_form(self, request, form, change)

        monkeypatch.setattr(IllRequestAdmin, "save_form", meanwhile_then_save_form)
        assert client_staff.post(change_url(ill_request), data).status_code == 302
        ill_request.refresh_from_db()
        stored = (ill_request.status, ill_request.cancellation_requested, ill_request.quote)
        assert stored == expected
        assert ill_request.remarks == "Typo fixed by staff"
        assert ill_request.history.last().to_status == ill_request.status


def test_the_change_form_refuses_a_page_count_beyond_the_limit_beside_the_field(client_staff):
    ill_request = IllRequestFactory()
    data = change_form_data(client_staff.get(change_url(ill_request)))
    data["fee_pages"] = "99999999999999"
    response = client_staff.post(change_url(ill_request), data, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200
    assert response.context["adminform"].form.errors["fee_pages"] == [
        "Ensure this value is less than or equal to 100000."
    ]
    ill_request.refresh_from_db()
    assert ill_request.fee_pages is None


class TestSavingAPageThatChangedMeanwhile:
    """Found by a probe: staff saved a request that the reader had cancelled meanwhile and saw
    "Please correct the error below" with nothing marked (the urgent surcharge line the cancel
    removed was still on staff's page). Now they are told what changed, and nothing is lost."""

    @pytest.fixture
    def urgent(self):
        ill_request = IllRequestFactory(status=Status.SUBMITTED, urgency="urgent")
        FeeLine.objects.create(request=ill_request, kind=FeeKind.URGENT, amount=Decimal("10"))
        return ill_request

    def test_a_cancel_meanwhile_is_named_with_the_status_and_the_fee_line(
        self, client_staff, urgent
    ):
        data = change_form_data(client_staff.get(change_url(urgent)))
        data["remarks"] = "Typo fixed by staff"
        request_cancel(ill_request=urgent, actor=urgent.reader.user)

        response = client_staff.post(change_url(urgent), data, HTTP_ACCEPT_LANGUAGE="en")
        assert response.status_code == 200
        errors = response.context["adminform"].form.non_field_errors()
        assert len(errors) == 1
        message = errors[0]
        assert "changed while you were editing" in message
        assert "Status: Submitted → Cancelled" in message
        assert "Urgent surcharge 10.00" in message and "removed" in message
        assert urgent.reader.user.username in message  # who did it
        content = response.content.decode()
        assert message.split(":")[0] in content
        # What staff typed is still on the page, and nothing was written.
        assert "Typo fixed by staff" in content
        urgent.refresh_from_db()
        assert urgent.remarks != "Typo fixed by staff"

    def test_a_field_changed_meanwhile_is_marked_beside_the_field(self, client_staff, urgent):
        data = change_form_data(client_staff.get(change_url(urgent)))
        data["remarks"] = "Staff's remark"
        IllRequestFactory._meta.model.objects.filter(pk=urgent.pk).update(
            remarks="A colleague's remark"
        )
        response = client_staff.post(change_url(urgent), data, HTTP_ACCEPT_LANGUAGE="en")
        assert response.status_code == 200
        field_errors = response.context["adminform"].form.errors["remarks"]
        assert "A colleague's remark" in field_errors[0]
        urgent.refresh_from_db()
        assert urgent.remarks == "A colleague's remark"

    def test_saving_again_from_the_refused_page_applies_what_staff_typed(self, client_staff):
        ill_request = IllRequestFactory(status=Status.SUBMITTED)
        data = change_form_data(client_staff.get(change_url(ill_request)))
        data["remarks"] = "Staff's remark"
        request_cancel(ill_request=ill_request, actor=ill_request.reader.user)
        refused = client_staff.post(change_url(ill_request), data)
        assert refused.status_code == 200
        again = change_form_data(refused)
        assert again["remarks"] == "Staff's remark"
        assert client_staff.post(change_url(ill_request), again).status_code == 302
        ill_request.refresh_from_db()
        assert (ill_request.remarks, ill_request.status) == ("Staff's remark", "cancelled")

    def test_a_save_with_nothing_changed_meanwhile_goes_through(self, client_staff, urgent):
        data = change_form_data(client_staff.get(change_url(urgent)))
        data["remarks"] = "Fine"
        assert client_staff.post(change_url(urgent), data).status_code == 302

    def test_a_forged_or_missing_token_changes_nothing_about_the_checks(self, client_staff):
        ill_request = IllRequestFactory(status=Status.SUBMITTED)
        data = change_form_data(client_staff.get(change_url(ill_request)))
        data["_seen"] = "forged"
        data["remarks"] = "Fine"
        assert client_staff.post(change_url(ill_request), data).status_code == 302


@pytest.mark.parametrize("rows", [1, 30])
def test_the_change_page_query_count_does_not_grow_with_its_history(
    client_staff, staff, rows, django_assert_max_num_queries
):
    ill_request = IllRequestFactory(status=Status.SUBMITTED)
    StatusChange.objects.bulk_create(
        StatusChange(
            request=ill_request, actor=staff, from_status="submitted", to_status="submitted"
        )
        for _ in range(rows)
    )
    client_staff.get(change_url(ill_request))  # session, content types and the like, once
    with django_assert_max_num_queries(14):
        response = client_staff.get(change_url(ill_request), HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200
    assert response.content.decode().count(f"{ill_request.number}: Submitted") == rows


def test_a_pmid_from_an_openurl_is_a_link_to_pubmed_for_staff(client_staff):
    ill_request = IllRequestFactory(remarks="Sent by: Entrez:PubMed; PMID: 19204306")
    content = client_staff.get(change_url(ill_request), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert '<a href="https://pubmed.ncbi.nlm.nih.gov/19204306/"' in content
