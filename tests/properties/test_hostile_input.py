"""Hostile input as property tests (issue 15.6): hypothesis fills every form a browser can post
— sign-up, profile, the request form, cancel, the staff's money forms (recording a ledger entry,
moving a request with a quoted cost) — and every OpenURL key with random and hostile values.

For every example: no 500 (the test client raises what the view raises); a refused form stores
nothing (counted before and after); and no reader's text reaches a page or an e-mail's HTML
unescaped (the markers below never appear as markup). Accepted examples are followed to the
pages that show what was stored.

Examples per test are kept modest (HYPOTHESIS_EXAMPLES, 25 by default) so the suite stays fast;
raise it for a longer hunt: `HYPOTHESIS_EXAMPLES=500 pytest tests/properties`.
"""

import os
import uuid
from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from django.core.cache import cache
from django.forms.models import model_to_dict
from django.test import Client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from accounts.models import Account, LedgerEntry
from readers.models import Reader
from requests_app.models import FeeLine, IllRequest, Status, StatusChange
from requests_app.openurl import _KNOWN_KEYS
from tests.factories import IllRequestFactory
from tests.requests_app.conftest import worked_example

pytestmark = pytest.mark.django_db

EXAMPLES = int(os.environ.get("HYPOTHESIS_EXAMPLES", "25"))
# Function-scoped fixtures (the cast, the database) are shared by a test's examples on purpose:
# each example counts what it changed itself.
FORM_SETTINGS = settings(
    max_examples=EXAMPLES,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

# Markup that must only ever reach a page escaped. Each carries "hostile" so that a stray copy
# is found whatever the surrounding page.
MARKUP = [
    "<script>hostile()</script>",
    '"><hostile-tag onmouseover=alert(1)>',
    "'><hostile-tag>",
    "</textarea><hostile-tag>",
    "<hostile-tag/src=x onerror=alert(1)>",
]
UNESCAPED = ["<hostile", "<script>hostile"]
HOSTILE = [
    *MARKUP,
    "{{ hostile }}{% debug %}",
    "x\r\nBcc: hostile@example.org",
    "\x00",
    "a\x00b",
    "\u202e\u200b\ufeff\ufffd",
    "\x1b[31m\x07",
    "Ａ１２３",
    "１０.５０",
    "-1",
    "-0.001",
    "1e309",
    "NaN",
    "Infinity",
    "0x1F",
    "99999999999999999999999999",
    "2147483648",
    "1,5",
    "' OR '1'='1' --",
    "../../../etc/passwd",
    "javascript:alert(1)",
    "2026-02-30",
    "0000-00-00",
    "A" * 3000,
    "😀" * 300,
    "%s%n%x",
    "",
    " ",
]

hostile_text = st.one_of(
    st.sampled_from(HOSTILE),
    st.text(max_size=60),
    st.builds(
        lambda before, core, after: before + core + after,
        st.text(max_size=8),
        st.sampled_from(MARKUP),
        st.text(max_size=8),
    ),
)


def form_values(valid: dict) -> st.SearchStrategy:
    """Each field: its valid value, a hostile one, or missing altogether."""
    return st.fixed_dictionaries(
        {
            name: st.one_of(st.just(value), hostile_text, st.just(None))
            for name, value in valid.items()
        }
    ).map(lambda data: {k: v for k, v in data.items() if v is not None})


def assert_escaped(content: str, where: str = "") -> None:
    for marker in UNESCAPED:
        assert marker not in content, f"unescaped reader text in {where}: {marker!r}"


def assert_mails_escaped() -> None:
    for message in mail.outbox:
        for html, mimetype in getattr(message, "alternatives", []):
            assert mimetype == "text/html"
            assert_escaped(html, f"e-mail {message.subject!r}")
        # A header never takes a line break from what a reader typed.
        assert "\n" not in message.subject and "\r" not in message.subject
        assert not message.bcc


def _post(client, url, data, capture):
    mail.outbox.clear()
    with capture(execute=True):
        response = client.post(url, data, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code in (200, 302, 400, 403, 404), response.status_code
    if response.status_code != 302:
        assert_escaped(response.content.decode(), url)
    assert_mails_escaped()
    return response


def _counts(*models) -> dict:
    return {model.__name__: model.objects.count() for model in models}


# --- The reader's forms -----------------------------------------------------------------------


@FORM_SETTINGS
@given(data=form_values(worked_example(token="x", confirm_duplicate="1")))
def test_request_form(client_a, reader_a, django_capture_on_commit_callbacks, data):
    data = {**data, "token": data.get("token", "") + uuid.uuid4().hex}
    before = _counts(IllRequest, FeeLine, StatusChange)
    response = _post(client_a, "/requests/new/", data, django_capture_on_commit_callbacks)
    if response.status_code == 302:
        created = IllRequest.objects.order_by("-pk").first()
        assert response["Location"] == f"/requests/{created.number}/"
        assert _counts(IllRequest)["IllRequest"] == before["IllRequest"] + 1
        for url in (response["Location"], "/requests/", f"/requests/{created.number}/cancel/"):
            page = client_a.get(url, HTTP_ACCEPT_LANGUAGE="en")
            assert page.status_code == 200
            assert_escaped(page.content.decode(), url)
        assert len(mail.outbox) == 1  # the confirmation, escaped (checked in _post)
    else:
        assert _counts(IllRequest, FeeLine, StatusChange) == before
        assert mail.outbox == []


@FORM_SETTINGS
@given(
    data=form_values(
        {
            "name": "读者甲 Reader A",
            "email": "reader-a@example.org",
            "id_type": "library_card",
            "id_number": "L000001",
            "phone": "010-62780000",
            "address": "北京市海淀区",
            "postal_code": "100084",
            "institution": "Example University",
            "language": "en",
        }
    )
)
def test_profile_form(client_a, reader_a, django_capture_on_commit_callbacks, data):
    before = model_to_dict(Reader.objects.get(pk=reader_a.pk))
    response = _post(client_a, "/profile/", data, django_capture_on_commit_callbacks)
    after = model_to_dict(Reader.objects.get(pk=reader_a.pk))
    if response.status_code == 302:
        page = client_a.get("/profile/", HTTP_ACCEPT_LANGUAGE="en")
        assert_escaped(page.content.decode(), "/profile/")
        assert_escaped(client_a.get("/").content.decode(), "/")
    else:
        assert after == before
        assert mail.outbox == []


_signups = iter(range(10**9))


@FORM_SETTINGS
@given(
    data=form_values(
        {
            "password1": "a-Long-and-unusual-passphrase-7",
            "password2": "a-Long-and-unusual-passphrase-7",
            "name": "张三",
            "email": "zhang.san@example.org",
            "institution": "北京示例大学图书馆",
            "id_type": "resident_id",
            "id_number": "11010119900101123X",
            "phone": "010-62780000",
            "address": "北京市海淀区示例路 1 号",
            "postal_code": "100084",
        }
    ),
    username=st.one_of(st.just("zhang.san"), hostile_text),
)
def test_sign_up_form(db, django_capture_on_commit_callbacks, data, username):
    # A username of its own per example, so that a valid one is not refused as taken.
    data = {**data, "username": f"{username}{next(_signups)}" if username else ""}
    client = Client()
    cache.clear()  # allauth's sign-up rate limit per address is not what is tried here
    before = _counts(get_user_model(), Reader)
    response = _post(client, "/accounts/signup/", data, django_capture_on_commit_callbacks)
    if response.status_code == 302:
        assert _counts(get_user_model(), Reader) == {
            "User": before["User"] + 1,
            "Reader": before["Reader"] + 1,
        }
        for url in ("/", "/profile/"):
            assert_escaped(client.get(url, HTTP_ACCEPT_LANGUAGE="en").content.decode(), url)
    else:
        assert _counts(get_user_model(), Reader) == before


@FORM_SETTINGS
@given(
    extra=st.dictionaries(hostile_text, hostile_text, max_size=4),
    action=st.sampled_from(["cancel", "ask-cancellation", "accept-quote", "decline-quote"]),
    own=st.booleans(),
)
def test_cancel_and_the_readers_other_actions(
    client_a, reader_a, reader_b, django_capture_on_commit_callbacks, extra, action, own
):
    ill_request = IllRequestFactory(reader=reader_a if own else reader_b)
    before = (ill_request.status, StatusChange.objects.filter(request=ill_request).count())
    data = {k: v for k, v in extra.items() if k}
    url = f"/requests/{ill_request.number}/{action}/"
    response = _post(client_a, url, data, django_capture_on_commit_callbacks)
    ill_request.refresh_from_db()
    after = (ill_request.status, StatusChange.objects.filter(request=ill_request).count())
    if response.status_code == 302:
        assert own
        page = client_a.get(response["Location"], HTTP_ACCEPT_LANGUAGE="en")
        assert_escaped(page.content.decode(), response["Location"])
        if action == "cancel":
            assert ill_request.status == Status.CANCELLED
    else:
        # Another reader's request (404), a body no view reads (400), an action the request's
        # status does not allow: nothing changed.
        assert response.status_code in (400, 404) or own
        assert after == before


# --- The staff's money forms ------------------------------------------------------------------


@FORM_SETTINGS
@given(
    data=form_values(
        {
            "kind": "deposit",
            "amount": "10.00",
            "method": "cash",
            "request_number": "",
            "note": "paid at the desk",
        }
    )
)
def test_staff_ledger_entry_form(client_staff, reader_a, django_capture_on_commit_callbacks, data):
    data = {**data, "token": uuid.uuid4().hex}
    url = f"/admin/accounts/ledgerentry/record/{reader_a.pk}/"
    before = _counts(LedgerEntry)
    balance = Account.objects.filter(reader=reader_a).values_list("balance", flat=True).first()
    response = _post(client_staff, url, data, django_capture_on_commit_callbacks)
    entries = LedgerEntry.objects.filter(reader=reader_a)
    if response.status_code == 302:
        assert _counts(LedgerEntry)["LedgerEntry"] == before["LedgerEntry"] + 1
        account = Account.objects.get(reader=reader_a)
        assert account.balance == sum((e.amount for e in entries), Decimal(0))
        for page_url in (response["Location"], f"/admin/readers/reader/{reader_a.pk}/change/"):
            page = client_staff.get(page_url, HTTP_ACCEPT_LANGUAGE="en")
            assert_escaped(page.content.decode(), page_url)
    else:
        assert _counts(LedgerEntry) == before
        now = Account.objects.filter(reader=reader_a).values_list("balance", flat=True).first()
        assert now == balance


@FORM_SETTINGS
@given(
    data=form_values(
        {
            "to": "awaiting_approval",
            "note": "the supplier asks 30 yuan",
            "visible": "on",
            "quote": "30.00",
            "return_date": "",
        }
    )
)
def test_staff_transition_form_with_a_quoted_cost(
    client_staff, client_a, reader_a, django_capture_on_commit_callbacks, data
):
    ill_request = IllRequestFactory(reader=reader_a, status=Status.IN_PROCESS)
    url = f"/admin/requests_app/illrequest/{ill_request.pk}/transition/"
    before = (ill_request.status, StatusChange.objects.filter(request=ill_request).count())
    fees = FeeLine.objects.filter(request=ill_request).count()
    response = _post(client_staff, url, data, django_capture_on_commit_callbacks)
    ill_request.refresh_from_db()
    if response.status_code == 302:
        assert StatusChange.objects.filter(request=ill_request).count() == before[1] + 1
        for client, page_url in (
            (client_a, f"/requests/{ill_request.number}/"),
            (client_staff, f"/admin/requests_app/illrequest/{ill_request.pk}/change/"),
            (client_staff, f"/admin/requests_app/illrequest/{ill_request.pk}/history/"),
        ):
            page = client.get(page_url, HTTP_ACCEPT_LANGUAGE="en")
            assert page.status_code == 200
            assert_escaped(page.content.decode(), page_url)
    else:
        assert (ill_request.status, StatusChange.objects.filter(request=ill_request).count()) == (
            before
        )
        assert FeeLine.objects.filter(request=ill_request).count() == fees
        assert mail.outbox == []


# --- OpenURL ----------------------------------------------------------------------------------

OPENURL_KEYS = sorted(
    {*_KNOWN_KEYS, *(f"rft.{key}" for key in _KNOWN_KEYS)}
    | {"rft_id", "rfr_id", "rft_val_fmt", "url_ver", "ctx_ver", "sid", "unknown.key"}
)


@FORM_SETTINGS
@given(
    query=st.lists(
        st.tuples(st.sampled_from(OPENURL_KEYS), hostile_text.filter(lambda v: "\x00" not in v)),
        min_size=1,
        max_size=12,
    )
)
def test_every_openurl_key(client_a, reader_a, query):
    before = _counts(IllRequest)
    response = client_a.get("/openurl", query, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 302
    form = client_a.get(response["Location"], HTTP_ACCEPT_LANGUAGE="en")
    assert form.status_code == 200
    assert_escaped(form.content.decode(), "the request form from an OpenURL")
    assert _counts(IllRequest) == before  # an OpenURL only fills in the form


@FORM_SETTINGS
@given(key=st.sampled_from(OPENURL_KEYS), value=hostile_text)
def test_openurl_with_nul_and_everything_else_never_500s(client_a, reader_a, key, value):
    response = client_a.get("/openurl", {key: value}, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code in (302, 400)
    assert_escaped(response.content.decode(), "/openurl")
