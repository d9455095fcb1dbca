"""Submitting a request: the form, its field rules, one request per submission, numbers, e-mail."""

import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.core import mail
from django.test import Client
from django.utils import timezone

from requests_app.models import FeeLine, IllRequest, Status, StatusChange
from tests.factories import IllRequestFactory, StaffFactory
from tests.requests_app.conftest import worked_example

pytestmark = pytest.mark.django_db

SUBMIT = "/requests/new/"


def post(client, **overrides):
    return client.post(SUBMIT, worked_example(**overrides), HTTP_ACCEPT_LANGUAGE="en")


def errors_of(response):
    return response.context["form"].errors


def test_the_form_shows_the_seed_groups_in_order(client_a):
    content = client_a.get(SUBMIT, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    legends = ["Request", "Document", "ILL options", "Contact", "Remarks"]
    positions = [content.index(f"<legend>{legend}</legend>") for legend in legends]
    assert positions == sorted(positions)
    assert content.count("<fieldset") >= 5


def test_the_form_has_the_spec_labels_in_english_with_required_marks(client_a):
    content = client_a.get(SUBMIT, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    for label in [
        "Service type",
        "Document type",
        "Publication title",
        "Article title",
        "Volume/issue",
        "Pages",
        "ISSN",
        "Maximum cost",
        "Urgency",
        "E-mail",
        "Phone",
    ]:
        assert f">{label}" in content, label
    for name in ["id_publication_title", "id_contact_email", "id_contact_phone", "id_max_cost"]:
        label_start = content.index(f'<label for="{name}">')
        assert 'class="required"' in content[label_start : label_start + 200], name


def test_the_form_shows_the_urgent_surcharge_before_submitting(client_a, settings):
    settings.URGENT_SURCHARGE = Decimal("12.50")
    content = client_a.get(SUBMIT, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "12.50 yuan extra" in content


def test_the_urgent_and_maximum_cost_notes_sit_beside_their_fields_only(client_a, settings):
    settings.URGENT_SURCHARGE = Decimal("12.50")
    content = client_a.get(SUBMIT, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    # From the group's legend to the next group's (the urgency's radios are a fieldset too).
    start = content.index("<legend>ILL options</legend>")
    ill_group = content[start : content.index("<legend>Contact</legend>")]
    urgency = ill_group.index('id="id_urgency')
    user_reference = ill_group.index('for="id_user_reference"')
    assert ill_group.count("12.50 yuan") == 1
    assert urgency < ill_group.index("12.50 yuan") < user_reference
    assert ill_group.count("the most you will pay") == 1
    assert ill_group.index("the most you will pay") < urgency


def test_the_contact_block_is_prefilled_from_the_profile(client_a, reader_a):
    form = client_a.get(SUBMIT).context["form"]
    assert form["contact_email"].value() == reader_a.email
    assert form["contact_phone"].value() == reader_a.phone
    assert form["contact_name"].value() == reader_a.name
    assert form["contact_address"].value() == reader_a.address


def test_the_worked_example_is_stored_with_a_number_and_history(client_a, reader_a):
    response = post(client_a)
    ill_request = IllRequest.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/requests/{ill_request.number}/"
    assert ill_request.reader == reader_a
    assert ill_request.status == Status.SUBMITTED
    assert ill_request.issn == "0264-1615"
    assert ill_request.article_title.startswith("Licence to Deny?")
    assert ill_request.max_cost == Decimal("0")
    change = StatusChange.objects.get()
    assert (change.from_status, change.to_status, change.actor) == ("", "submitted", reader_a.user)


def test_submitting_sends_a_confirmation_email_quoting_the_number(
    client_a, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        post(client_a)
    number = IllRequest.objects.get().number
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["reader-a@example.org"]
    assert str(number) in mail.outbox[0].subject
    assert str(number) in mail.outbox[0].body


def test_the_same_form_submitted_twice_makes_one_request(client_a):
    first = post(client_a)
    second = post(client_a)
    assert IllRequest.objects.count() == 1
    assert first["Location"] == second["Location"]


def test_two_forms_make_two_requests_after_confirming_the_duplicate(client_a):
    post(client_a)
    post(client_a, token="another-token-000000002", confirm_duplicate="1")
    assert IllRequest.objects.count() == 2


def test_a_form_without_token_still_makes_a_request(client_a):
    data = worked_example()
    del data["token"]
    client_a.post(SUBMIT, data)
    assert IllRequest.objects.count() == 1


def test_the_get_form_carries_a_fresh_token_each_time(client_a):
    first = client_a.get(SUBMIT).context["form"]["token"].value()
    second = client_a.get(SUBMIT).context["form"]["token"].value()
    assert first and second and first != second


def test_numbers_continue_above_an_existing_higher_number(client_a, reader_b):
    IllRequestFactory(reader=reader_b, number=73689, origin="legacy", submission_token=None)
    post(client_a)
    assert IllRequest.objects.get(reader__user__username="reader-a").number == 73690


def test_numbers_are_never_reused(client_a, reader_b):
    post(client_a)
    first = IllRequest.objects.get()
    StatusChange.objects.all().delete()
    first.delete()
    post(client_a, token="another-token-000000002")
    assert IllRequest.objects.get().number == first.number + 1


def test_an_urgent_request_carries_the_surcharge_as_a_fee_line(client_a, settings):
    settings.URGENT_SURCHARGE = Decimal("10.00")
    post(client_a, urgency="urgent")
    line = FeeLine.objects.get()
    assert (line.kind, line.amount) == ("urgent", Decimal("10.00"))
    assert IllRequest.objects.with_total_fee().get().total_fee == Decimal("10.00")


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("issn", "0264-1616", "ISSN check digit is wrong"),
        ("issn", "12345", "An ISSN has 8 characters"),
        ("isbn", "978-7-302-12345-4", "ISBN check digit is wrong"),
        ("doi", "11.1108/abc", "A DOI starts with 10."),
        ("doi", "10.1108/" + "a" * 193, "at most 200 characters"),
        ("year", "20O4", "Enter the year as 4 digits"),
        ("year", "1200", "Enter a year between"),
        ("pages", "101-94", "ends before it starts"),
        ("pages", "page ninety", "Enter a page or a page range"),
        ("contact_phone", "call me", "Enter a phone number"),
        ("contact_fax", "12", "between 5 and 20 digits"),
        ("contact_email", "not-an-email", "Enter a valid email address"),
        ("contact_postal_code", "!!", "postal code"),
        ("user_reference", "x" * 51, "at most 50 characters"),
        ("contact_address", "x" * 101, "at most 100 characters"),
        ("max_cost", "-1", "The maximum cost is 0 or more"),
        ("max_cost", "abc", "Enter a number"),
        ("fee_pages", "0", "greater than or equal to"),
        # Refused alike on SQLite and PostgreSQL, not stored by one and a database error on the
        # other.
        ("fee_pages", "100001", "less than or equal to 100000"),
        ("fee_pages", "99999999999999", "less than or equal to 100000"),
        ("max_cost", "100000000", "no more than 8 digits before the decimal point"),
        ("max_cost", "99999999999", "no more than 10 digits in total"),
        ("max_cost", "1.005", "no more than 2 decimal places"),
        ("service_type", "", "This field is required"),
        ("document_type", "", "This field is required"),
        ("publication_title", "", "This field is required"),
        ("contact_email", "", "This field is required"),
        ("contact_phone", "", "This field is required"),
        ("max_cost", "", "This field is required"),
        ("document_type", "poem", "Select a valid choice"),
        # The model's CHECK constraints on these are not asked of the database (forms.py): the
        # fields refuse the values themselves.
        ("service_type", "courier", "Select a valid choice"),
        ("urgency", "yesterday", "Select a valid choice"),
        ("max_cost", "-0.01", "The maximum cost is 0 or more"),
    ],
)
def test_a_bad_field_is_refused_beside_the_field_and_nothing_typed_is_lost(
    client_a, field, value, message
):
    response = post(client_a, **{field: value})
    assert response.status_code == 200
    assert IllRequest.objects.count() == 0
    assert message.lower() in " ".join(errors_of(response)[field]).lower()
    content = response.content.decode()
    assert f'id="id_{field}_error"' in content
    # Everything the reader typed is still there, the refused value included.
    form = response.context["form"]
    typed = worked_example(**{field: value})
    kept = {name: str(form[name].value()) for name in typed if name in form.fields}
    assert kept == {name: typed[name] for name in kept}
    assert field in kept


def test_the_largest_page_count_and_maximum_cost_are_stored(client_a):
    content = client_a.get(SUBMIT).content.decode()
    assert re.search(r'<input type="number" name="fee_pages"[^>]* max="100000"', content)
    response = post(client_a, fee_pages="100000", max_cost="99999999.99")
    assert response.status_code == 302
    stored = IllRequest.objects.get()
    assert (stored.fee_pages, stored.max_cost) == (100000, Decimal("99999999.99"))


@pytest.mark.parametrize("document_type", ["journal_article", "conference_paper", "book_chapter"])
def test_the_article_title_is_required_for_parts_of_publications(client_a, document_type):
    response = post(client_a, document_type=document_type, article_title="")
    assert "article_title" in errors_of(response)


@pytest.mark.parametrize(
    "document_type", ["book", "thesis", "standard", "patent", "report", "other"]
)
def test_the_article_title_is_optional_for_whole_documents(client_a, document_type):
    post(client_a, document_type=document_type, article_title="", issn="")
    assert IllRequest.objects.count() == 1


def test_valid_until_must_be_in_the_future(client_a):
    today = timezone.localdate()
    response = post(client_a, valid_until=today.isoformat())
    assert "valid_until" in errors_of(response)
    post(client_a, valid_until=(today + timedelta(days=1)).isoformat())
    assert IllRequest.objects.get().valid_until == today + timedelta(days=1)


def test_identifiers_are_stored_normalised(client_a):
    post(
        client_a,
        issn="ＩＳＳＮ ０２６４１６１５",
        isbn="978-7-302-12345-3",
        doi="https://doi.org/10.1108/02641610410538478",
        pages="pp. 94–101",
        contact_phone="０１０ 6278 0000",
        document_type="book_chapter",
    )
    stored = IllRequest.objects.get()
    assert stored.issn == "0264-1615"
    assert stored.isbn == "9787302123453"
    assert stored.doi == "10.1108/02641610410538478"
    assert stored.pages == "94-101"
    assert stored.contact_phone == "010 6278 0000"


@pytest.mark.parametrize(
    ("field", "typed", "stored"),
    [
        # As printed on a book's back, label and all: longer than the stored form.
        ("isbn", "ISBN 978-7-302-12345-3", "9787302123453"),
        ("isbn", "ISBN-13: 978-7-302-12345-3", "9787302123453"),
        ("issn", "ISSN: 0264-1615 ", "0264-1615"),
    ],
)
def test_an_identifier_typed_with_its_label_is_accepted(client_a, field, typed, stored):
    response = post(client_a, **{field: typed})
    assert response.status_code == 302, errors_of(response)
    assert getattr(IllRequest.objects.get(), field) == stored


class TestDuplicateWarning:
    def test_the_same_title_warns_with_a_link_and_submits_nothing(self, client_a, reader_a):
        existing = IllRequestFactory(
            reader=reader_a,
            article_title="Licence to deny: publisher restrictions on document delivery!",
            issn="",
        )
        response = post(client_a)
        assert response.status_code == 200
        assert IllRequest.objects.count() == 1
        content = response.content.decode()
        assert "You may have asked for this already" in content
        assert f'href="/requests/{existing.number}/"' in content
        assert 'name="confirm_duplicate"' in content
        # What was typed is still in the form.
        assert response.context["form"]["issn"].value() == "0264-1615"

    def test_submit_anyway_creates_the_request(self, client_a, reader_a):
        IllRequestFactory(reader=reader_a, article_title=worked_example()["article_title"])
        post(client_a, confirm_duplicate="1")
        assert IllRequest.objects.count() == 2

    def test_the_same_doi_warns(self, client_a, reader_a):
        IllRequestFactory(reader=reader_a, doi="10.1108/02641610410538478", article_title="Other")
        response = post(client_a, doi="doi:10.1108/02641610410538478".upper().replace("DOI", "doi"))
        assert response.context["duplicates"]

    def test_the_same_issn_volume_and_pages_warn(self, client_a, reader_a):
        IllRequestFactory(reader=reader_a, article_title="Something else entirely")
        response = post(client_a)
        assert [r.article_title for r in response.context["duplicates"]] == [
            "Something else entirely"
        ]

    def test_closed_requests_and_other_readers_requests_do_not_warn(
        self, client_a, reader_a, reader_b
    ):
        title = worked_example()["article_title"]
        IllRequestFactory(reader=reader_a, article_title=title, status=Status.CANCELLED)
        IllRequestFactory(reader=reader_b, article_title=title)
        response = post(client_a)
        assert response.status_code == 302

    def test_resubmitting_a_sent_form_does_not_warn_about_its_own_request(self, client_a):
        post(client_a)
        response = post(client_a)
        assert response.status_code == 302
        assert IllRequest.objects.count() == 1


def _pages_labels(client, ill_request, language):
    """The label of the pages field on the form, on the detail page and in the admin."""
    form = client.get(SUBMIT, HTTP_ACCEPT_LANGUAGE=language).content.decode()
    detail = client.get(ill_request.get_absolute_url(), HTTP_ACCEPT_LANGUAGE=language)
    admin = Client()
    admin.force_login(StaffFactory())
    change = admin.get(
        f"/admin/requests_app/illrequest/{ill_request.pk}/change/", HTTP_ACCEPT_LANGUAGE=language
    ).content.decode()
    return [
        re.search(r'<label for="id_pages">\s*([^<*]*?)\s*[<*]', form).group(1),
        re.search(r"<dt>([^<]*)</dt><dd>94-101</dd>", detail.content.decode()).group(1),
        re.search(r'<label for="id_pages">\s*([^<:]*?)\s*:', change).group(1),
    ]


def test_the_pages_field_is_labelled_pages_not_web_pages(client_a, reader_a):
    ill_request = IllRequestFactory(reader=reader_a, pages="94-101")
    assert _pages_labels(client_a, ill_request, "en") == ["Pages"] * 3
    # The readers' Page model says "pages" too, meaning web pages (页面); the document's page
    # range has its own msgid, translated as the seed's 页码信息.
    assert _pages_labels(client_a, ill_request, "zh-hans") == ["页码信息"] * 3


@pytest.mark.parametrize(
    ("language", "texts"),
    [
        ("en", ["at most 50 characters.", "At most 100 characters.", 'maxlength="4"']),
        ("zh-hans", ["最多50个字符。", "最多 100 个字符。", 'maxlength="4"']),
    ],
)
def test_the_limits_in_the_help_texts_are_the_models(client_a, language, texts):
    content = client_a.get(SUBMIT, HTTP_ACCEPT_LANGUAGE=language).content.decode()
    for text in texts:
        assert text in content, text


def test_a_submission_makes_the_same_few_queries(client_a, django_assert_num_queries):
    """Pinned (issue 14): the session, the user and the reader; the balance; then, in the
    transaction's savepoint here, the number (one statement), the request, its audit entry
    and its history entry. The token is not looked up first: a form sent again breaks its
    unique constraint. The e-mail is sent at once in tests (in production its queue's row is
    written in the same transaction)."""
    post(client_a, token="first-submission-000001")
    with django_assert_num_queries(10):
        # The same document again, confirmed (as the benchmark submits): no duplicate search.
        response = post(client_a, token="second-submission-00001", confirm_duplicate="1")
    assert response.status_code == 302
    assert IllRequest.objects.count() == 2
