"""Text fields: invisible characters never stored, every field has a limit (issue 7.5).

Control characters (C0, C1), bidirectional overrides and isolates, zero-width characters and
U+FFFD are stripped from what is typed in every form (the reader's, the sign-ups', the admin's
and its rejection, transition and bulk-reason forms), line breaks kept in multi-line fields, and
never reach the database, the history or an e-mail. Over-long text is refused beside its field,
with what was typed kept.
"""

import re

import pytest
from django import forms
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.core import mail
from django.db import models
from django.test import RequestFactory

from core.text import clean_text
from readers.models import Notice, Page, Reader
from requests_app.admin import ReasonForm, TransitionForm
from requests_app.forms import IllRequestForm
from requests_app.models import FeeLine, IllRequest, StatusChange
from tests.factories import IllRequestFactory, PageFactory
from tests.requests_app.conftest import worked_example

pytestmark = pytest.mark.django_db

# Written out here, not taken from core.text: the test says what must never be stored.
UNWANTED = re.compile(
    "[\x00-\x08\x0b-\x1f\x7f-\x9f\u00ad\u200b-\u200f\u202a-\u202e\u2060\u2066-\u2069\ufeff\ufffd]"
)
HOSTILE = (
    "\x00\x07\x1b\x7f\x85\x9f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
    "\u200b\u200c\u200d\u2060\ufeff\ufffd"
)


def dirty(text: str) -> str:
    """`text` with every unwanted character in its middle (and a bidi override at the end)."""
    middle = len(text) // 2
    return text[:middle] + HOSTILE + text[middle:] + "\u202e"


def assert_clean(instance, *, multiline_fields=()):
    for field in instance._meta.concrete_fields:
        if not isinstance(field, (models.CharField, models.TextField)):
            continue
        value = getattr(instance, field.attname) or ""
        assert not UNWANTED.search(value), (field.name, value)
        if field.name not in multiline_fields:
            assert "\n" not in value and "\r" not in value, (field.name, value)


def visible(value: str) -> str:
    return value.replace(" ", "")


# --- the function itself -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "multiline", "stored"),
    [
        ("Nature", False, "Nature"),
        ("图书馆\u3000第 1 卷", False, "图书馆\u3000第 1 卷"),  # ideographic space is text
        ("Na\u202eture\u200b", False, "Nature"),
        ("a\x00b\tc\nd", False, "a b c d"),  # controls between words leave a space
        ("\ufeffTitle\ufffd", False, "Title"),
        ("docu\u00adment", False, "document"),
        ("one\r\ntwo\rthree\nfour\u2028five", True, "one\ntwo\nthree\nfour\nfive"),
        ("keep\n\nparagraphs\x07", True, "keep\n\nparagraphs "),
        ("\u2066isolated\u2069 \u202bembedded\u202c", True, "isolated embedded"),
        ("Title\udcff", False, "Title "),
        ("😀 emoji and ℃", False, "😀 emoji and ℃"),
    ],
)
def test_clean_text(typed, multiline, stored):
    assert clean_text(typed, multiline=multiline) == stored


# --- every form --------------------------------------------------------------------------------

REQUEST_TEXT = {
    "author": "Brooks, Sam",
    "publication_title": "Interlending & Document Supply",
    "edition": "2nd edition",
    "article_title": "Licence to Deny? Publisher restrictions",
    "place": "Bradford",
    "publisher": "Emerald",
    "calis_oid": "CAL012004",
    "language": "English",
    "user_reference": "thesis ch. 2",
    "holding_library": "British Library",
    "contact_name": "读者甲",
    "contact_address": "北京市海淀区示例路 1 号",
}


def test_the_request_form_stores_no_invisible_characters(client_a):
    data = worked_example(
        **{name: dirty(value) for name, value in REQUEST_TEXT.items()},
        # Identifiers pasted with a zero-width space still pass their checks.
        issn="0264\u200b-1615",
        pages="94\u200b-101",
        volume_issue="32\u202e(2)",
        year="\u200b2004",
        contact_phone="010-6278\u200b0000",
        contact_email="reader-a\u200b@example.org",
        remarks=dirty("Please send\r\nthe PDF") + "\r\nthanks",
    )
    response = client_a.post("/requests/new/", data)
    assert response.status_code == 302, response.context["form"].errors
    ill_request = IllRequest.objects.get()
    assert_clean(ill_request, multiline_fields={"remarks"})
    for name, value in REQUEST_TEXT.items():
        assert visible(getattr(ill_request, name)) == visible(value), name
    assert ill_request.issn == "0264-1615"
    assert ill_request.pages == "94-101"
    assert ill_request.year == "2004"
    assert ill_request.contact_email == "reader-a@example.org"
    assert ill_request.remarks.splitlines()[1:] == ["the PDF", "thanks"]


def test_the_request_form_shown_again_shows_the_clean_text(client_a):
    data = worked_example(publication_title="", author=dirty("Brooks, Sam"))
    response = client_a.post("/requests/new/", data)
    assert response.status_code == 200
    assert not UNWANTED.search(response.content.decode())


def test_the_profile_stores_no_invisible_characters(client_pending, pending_reader):
    data = {
        "name": dirty("待确认 Pending"),
        "email": pending_reader.email,
        "id_type": "passport",
        "id_number": dirty("E12345678"),
        "phone": "138\u200b0000 0000",
        "address": dirty("上海市示例区示例街 2 号"),
        "postal_code": "200000",
        "institution": dirty("Example Institute"),
        "language": "en",
    }
    response = client_pending.post("/profile/", data)
    assert response.status_code == 302, response.context["form"].errors
    pending_reader.refresh_from_db()
    assert_clean(pending_reader)
    assert visible(pending_reader.name) == "待确认Pending"
    assert pending_reader.id_number.replace(" ", "") == "E12345678"


def test_the_off_campus_sign_up_stores_no_invisible_characters(client_anon):
    data = {
        "username": "zhang.san",
        "password1": "a-Long-and-unusual-passphrase-7",
        "password2": "a-Long-and-unusual-passphrase-7",
        "name": dirty("张三"),
        "email": "zhang.san@example.org",
        "institution": dirty("北京示例大学图书馆"),
        "id_type": "resident_id",
        "id_number": dirty("110101199001011234"),
        "phone": "010-62780000",
        "address": dirty("北京市海淀区示例路 1 号"),
        "postal_code": "100084",
    }
    response = client_anon.post("/accounts/signup/", data)
    assert response.status_code == 302, response.context["form"].errors
    reader = Reader.objects.get()
    assert_clean(reader)
    assert visible(reader.name) == "张三"
    assert visible(reader.institution) == "北京示例大学图书馆"


def test_passwords_are_taken_exactly_as_typed(client_anon):
    password = "pass\u200bword-\u202eLong-and-unusual-7"
    data = {
        "username": "li.si",
        "password1": password,
        "password2": password,
        "name": "李四",
        "email": "li.si@example.org",
        "institution": "Example",
        "id_type": "resident_id",
        "id_number": "110101199001011234",
        "phone": "010-62780000",
    }
    assert client_anon.post("/accounts/signup/", data).status_code == 302
    user = get_user_model().objects.get(username="li.si")
    assert user.check_password(password)
    assert not user.check_password(clean_text(password))


# --- the admin's forms -------------------------------------------------------------------------


def _admin_data(response):
    """What the browser would post back from an admin change page, unchanged."""
    data = {}

    def add(form):
        for name, field in form.fields.items():
            if field.disabled:
                continue
            key = form.add_prefix(name)
            value = form[name].value()
            if isinstance(field.widget, forms.MultiWidget):
                parts = value if isinstance(value, list) else field.widget.decompress(value)
                for index, part in enumerate(parts):
                    data[f"{key}_{index}"] = "" if part is None else str(part)
            elif isinstance(field, forms.BooleanField):
                if value:
                    data[key] = "on"
            elif isinstance(value, list | tuple):
                data[key] = [str(v) for v in value]
            else:
                data[key] = "" if value is None else str(value)

    add(response.context["adminform"].form)
    for inline in response.context["inline_admin_formsets"]:
        formset = inline.formset
        add(formset.management_form)
        for form in formset.forms:
            add(form)
    return data


def test_the_admin_request_form_and_its_fee_lines_store_no_invisible_characters(
    client_staff, reader_a
):
    ill_request = IllRequestFactory(reader=reader_a)
    url = f"/admin/requests_app/illrequest/{ill_request.pk}/change/"
    data = _admin_data(client_staff.get(url))
    data["publication_title"] = dirty("Nature Reviews")
    data["remarks"] = dirty("line one") + "\r\nline two"
    # A new fee line, with a note.
    prefix = "fee_lines" if "fee_lines-TOTAL_FORMS" in data else "feeline_set"
    total = int(data[f"{prefix}-TOTAL_FORMS"])
    data[f"{prefix}-TOTAL_FORMS"] = str(total + 1)
    data.update(
        {
            f"{prefix}-{total}-kind": FeeLine._meta.get_field("kind").choices[0][0],
            f"{prefix}-{total}-amount": "12.50",
            f"{prefix}-{total}-note": dirty("postage"),
        }
    )
    response = client_staff.post(url, data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    ill_request.refresh_from_db()
    assert_clean(ill_request, multiline_fields={"remarks"})
    assert visible(ill_request.publication_title) == "NatureReviews"
    assert ill_request.remarks.splitlines()[1] == "line two"
    fee_line = FeeLine.objects.get(request=ill_request)
    assert_clean(fee_line)
    assert visible(fee_line.note) == "postage"


def test_the_admin_notice_and_page_forms_store_no_invisible_characters(client_staff):
    add = client_staff.get("/admin/readers/notice/add/")
    data = _admin_data(add)
    data.update(
        title_zh=dirty("通知"),
        body_zh=dirty("第一行") + "\r\n第二行",
        title_en=dirty("Notice"),
        body_en=dirty("First line") + "\r\nSecond line",
    )
    response = client_staff.post("/admin/readers/notice/add/", data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    notice = Notice.objects.get()
    assert_clean(notice, multiline_fields={"body_zh", "body_en"})
    assert notice.body_en.splitlines()[1] == "Second line"

    page = PageFactory()
    url = f"/admin/readers/page/{page.pk}/change/"
    data = _admin_data(client_staff.get(url))
    data.update(title_en=dirty("Help"), body_en=dirty("How to") + "\r\nask")
    response = client_staff.post(url, data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    page.refresh_from_db()
    assert_clean(page, multiline_fields={"body_zh", "body_en"})


def test_the_admin_reader_form_stores_no_invisible_characters(client_staff, reader_a):
    url = f"/admin/readers/reader/{reader_a.pk}/change/"
    data = _admin_data(client_staff.get(url))
    data.update(name=dirty("读者甲"), institution=dirty("Example University"))
    response = client_staff.post(url, data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    reader_a.refresh_from_db()
    assert_clean(reader_a)
    assert visible(reader_a.name) == "读者甲"


def test_the_rejection_reason_reaches_neither_database_nor_e_mail_with_them(
    client_staff, pending_reader, django_capture_on_commit_callbacks
):
    reason = dirty("Your ID could not be checked") + "\r\nPlease come in person."
    with django_capture_on_commit_callbacks(execute=True):
        response = client_staff.post(
            f"/admin/readers/reader/{pending_reader.pk}/reject/", {"reason": reason}
        )
    assert response.status_code == 302
    pending_reader.refresh_from_db()
    assert_clean(pending_reader, multiline_fields={"rejection_reason"})
    assert "Please come in person." in pending_reader.rejection_reason
    assert mail.outbox
    for message in mail.outbox:
        assert not UNWANTED.search(message.subject + message.body)


def test_the_transition_note_reaches_neither_history_nor_e_mail_with_them(
    client_staff, reader_a, django_capture_on_commit_callbacks
):
    ill_request = IllRequestFactory(reader=reader_a)
    with django_capture_on_commit_callbacks(execute=True):
        response = client_staff.post(
            f"/admin/requests_app/illrequest/{ill_request.pk}/transition/",
            {
                "to": "unfilled",
                "note": dirty("Not held in China") + "\r\nsecond line",
                "visible": "on",
            },
        )
    assert response.status_code == 302, response.context["form"].errors
    change = StatusChange.objects.filter(request=ill_request).latest("at")
    assert_clean(change, multiline_fields={"note"})
    assert change.note.splitlines()[1] == "second line"
    assert mail.outbox
    for message in mail.outbox:
        assert not UNWANTED.search(message.subject + message.body)
        assert "second line" in message.body


def test_the_bulk_reason_reaches_no_history_with_them(client_staff, reader_a):
    ill_request = IllRequestFactory(reader=reader_a)
    response = client_staff.post(
        "/admin/requests_app/illrequest/",
        {
            "action": "move_to_unfilled",
            "_selected_action": [ill_request.pk],
            "apply": "1",
            "note": dirty("Not held in China"),
        },
    )
    assert response.status_code == 302
    change = StatusChange.objects.filter(request=ill_request).latest("at")
    assert change.to_status == "unfilled"
    assert_clean(change, multiline_fields={"note"})


# --- limits ------------------------------------------------------------------------------------


def _text_fields(form):
    return {
        name: field
        for name, field in form.fields.items()
        if isinstance(field, forms.CharField)
        and not isinstance(field.widget, forms.HiddenInput | forms.PasswordInput)
        and not field.disabled
    }


def _admin_forms(superuser):
    request = RequestFactory().get("/")
    request.user = superuser
    for model, model_admin in admin.site._registry.items():
        if model._meta.app_label not in ("readers", "requests_app"):
            continue
        yield model._meta.label, model_admin.get_form(request)()
        for inline in model_admin.get_inline_instances(request):
            yield f"{model._meta.label} inline", inline.get_formset(request)().empty_form


def test_every_text_field_of_every_form_has_a_maximum_length(staff, reader_a):
    from accounts.forms import OffCampusSignupForm
    from readers.admin import RejectionForm
    from readers.forms import ReaderProfileForm
    from requests_app.forms import RequestFilterForm

    ill_request = IllRequestFactory(reader=reader_a)
    all_forms = [
        ("request form", IllRequestForm()),
        ("request filter", RequestFilterForm()),
        ("profile", ReaderProfileForm()),
        ("off-campus sign-up", OffCampusSignupForm()),
        ("transition", TransitionForm(ill_request=ill_request)),
        ("bulk reason", ReasonForm()),
        ("rejection", RejectionForm()),
        *_admin_forms(staff),
    ]
    unlimited = [
        (label, name)
        for label, form in all_forms
        for name, field in _text_fields(form).items()
        if not field.max_length
    ]
    assert not unlimited


def _over_long(field):
    return "字" * (field.max_length + 1)


@pytest.mark.parametrize("name", sorted(_text_fields(IllRequestForm())))
def test_over_long_request_text_is_refused_beside_its_field_and_kept(client_a, name):
    field = IllRequestForm().fields[name]
    value = _over_long(field)
    response = client_a.post(
        "/requests/new/", worked_example(**{name: value}), HTTP_ACCEPT_LANGUAGE="en"
    )
    assert response.status_code == 200
    assert name in response.context["form"].errors
    content = response.content.decode()
    assert f'id="id_{name}_error"' in content
    assert "at most" in content
    assert value in content  # what was typed is shown again
    assert not IllRequest.objects.exists()


def test_over_long_remarks_no_longer_go_in(client_a):
    response = client_a.post("/requests/new/", worked_example(remarks="x" * 100_000))
    assert response.status_code == 200
    assert "remarks" in response.context["form"].errors
    assert not IllRequest.objects.exists()


@pytest.mark.parametrize("name", ["name", "id_number", "phone", "address", "institution"])
def test_over_long_profile_text_is_refused_beside_its_field_and_kept(
    client_pending, pending_reader, name
):
    from readers.forms import ReaderProfileForm

    value = _over_long(ReaderProfileForm().fields[name])
    data = {
        "name": pending_reader.name,
        "email": pending_reader.email,
        "id_type": pending_reader.id_type,
        "id_number": pending_reader.id_number,
        "phone": pending_reader.phone,
        "address": pending_reader.address,
        "postal_code": pending_reader.postal_code,
        "institution": pending_reader.institution,
        "language": pending_reader.language,
        name: value,
    }
    before = Reader.objects.get(pk=pending_reader.pk)
    response = client_pending.post("/profile/", data, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200
    assert name in response.context["form"].errors
    content = response.content.decode()
    assert f'id="id_{name}_error"' in content and value in content
    assert getattr(Reader.objects.get(pk=pending_reader.pk), name) == getattr(before, name)


def test_over_long_admin_text_is_refused_beside_its_field_and_kept(client_staff):
    page = PageFactory()
    url = f"/admin/readers/page/{page.pk}/change/"
    data = _admin_data(client_staff.get(url))
    value = "字" * (Page._meta.get_field("body_zh").max_length + 1)
    data["body_zh"] = value
    response = client_staff.post(url, data, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200
    assert "body_zh" in response.context["adminform"].form.errors
    assert value in response.content.decode()
    page.refresh_from_db()
    assert page.body_zh != value


def test_an_over_long_transition_note_is_refused_and_kept(client_staff, reader_a):
    ill_request = IllRequestFactory(reader=reader_a)
    value = "字" * (StatusChange._meta.get_field("note").max_length + 1)
    response = client_staff.post(
        f"/admin/requests_app/illrequest/{ill_request.pk}/transition/",
        {"to": "in_process", "note": value},
    )
    assert response.status_code == 200
    assert "note" in response.context["form"].errors
    assert value in response.content.decode()
    ill_request.refresh_from_db()
    assert ill_request.status == "submitted"


def test_cleaning_leaves_the_submitted_data_itself_and_its_repeated_keys_alone():
    """The form cleans a copy of the submitted QueryDict (a shallow one since issue 14)."""
    from django.http import QueryDict

    from core.forms import CleanTextFormMixin

    class Tags(CleanTextFormMixin, forms.Form):
        title = forms.CharField()
        tags = forms.MultipleChoiceField(choices=[("a", "a"), ("b", "b")])

    submitted = QueryDict(mutable=True)
    submitted["title"] = "Hidden\u200btitle"
    submitted.setlist("tags", ["a", "b"])
    submitted.setlist("extra", ["x\u200b", "y"])
    form = Tags(submitted)
    assert form.is_valid(), form.errors
    assert form.cleaned_data == {"title": "Hiddentitle", "tags": ["a", "b"]}
    assert form.data.getlist("extra") == ["x\u200b", "y"]
    assert submitted["title"] == "Hidden\u200btitle"
    assert submitted.getlist("tags") == ["a", "b"]
    form.data.getlist("tags").append("c")
    assert submitted.getlist("tags") == ["a", "b"]
