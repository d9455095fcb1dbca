"""No admin list answers 500 to any filter or search value (issue 7.4).

As a superuser, every registered ModelAdmin's change list is asked with each of its filter
parameters, its date hierarchy, its search, sorting and paging, each set to hostile values.
Run it on PostgreSQL too: it refuses what SQLite lets pass (NUL, out-of-range integers).
"""

import pytest
from django.contrib import admin
from django.contrib.admin.views.main import ORDER_VAR, PAGE_VAR, SEARCH_VAR
from django.test import RequestFactory
from django.urls import reverse

from tests.factories import IllRequestFactory, NoticeFactory

pytestmark = pytest.mark.django_db

HOSTILE = [
    "\x00",
    "a\x00b",
    "99999999999999999999999999",
    "-99999999999999999999999999",
    "9223372036854775808",
    "2147483648",
    "-1",
    "1e999",
    "abc",
    "",
    " ",
    "2026-02-31",
    "0000-00-00",
    "9999-99-99",
    "9999",
    "12",
    "31",
    "x" * 3000,
    "%_\\'\"",
    "\ud7ff\ufffd\u202e\u200b",
    "🙂" * 50,
    "\uff11\uff12",
    "1,2",
]


def _changelist_parameters(model_admin, superuser):
    """The query parameters this change list understands: filters, date hierarchy, the rest."""
    request = RequestFactory().get("/")
    request.user = superuser
    changelist = model_admin.get_changelist_instance(request)
    names = {SEARCH_VAR, ORDER_VAR, PAGE_VAR}
    for spec in changelist.filter_specs:
        names.update(spec.expected_parameters())
    if model_admin.date_hierarchy:
        field = model_admin.date_hierarchy
        names.update(f"{field}__{part}" for part in ("year", "month", "day"))
    return sorted(names)


def test_no_admin_list_answers_500_to_any_filter_or_search_value(client_staff, staff, reader_a):
    IllRequestFactory(reader=reader_a)
    NoticeFactory()
    client_staff.raise_request_exception = False
    tried = 0
    failures = []
    for model, model_admin in admin.site._registry.items():
        url = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")
        for name in _changelist_parameters(model_admin, staff):
            for value in HOSTILE:
                response = client_staff.get(url, {name: value})
                if response.status_code >= 500:
                    failures.append((url, name, value[:20], response.status_code))
                tried += 1
        # Several at once, as a filtered and sorted search would send them.
        response = client_staff.get(url, {"q": "\x00", "o": "99", "p": "abc"})
        if response.status_code >= 500:
            failures.append((url, "q+o+p", "", response.status_code))
    assert not failures
    # Every list was really asked (the readers' filters, the requests' date hierarchy...).
    assert tried > 500


def test_no_admin_list_answers_500_to_a_year_no_date_can_have(client_staff, staff, reader_a):
    # Any date field's `__year` lookup is allowed in the address (`?submitted_at__year=99999`),
    # listed as a filter or not; Python's dates stop at year 9999 and start at year 1.
    IllRequestFactory(reader=reader_a)
    client_staff.raise_request_exception = False
    failures = []
    tried = 0
    for model, model_admin in admin.site._registry.items():
        url = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")
        dates = [
            field.name
            for field in model._meta.concrete_fields
            if field.get_internal_type() in ("DateField", "DateTimeField")
        ]
        for name in dates:
            for value in ("99999", "10000", "0", "-5"):
                response = client_staff.get(url, {f"{name}__year": value})
                if response.status_code >= 500:
                    failures.append((url, name, value))
                tried += 1
    assert not failures
    assert tried > 40
