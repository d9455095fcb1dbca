"""Suppliers: staff keep the list and record on each request who supplied it, under which of
their numbers and at what cost; filtered, exported and audited; never shown to the reader."""

import csv
import io
import re
from decimal import Decimal

import pytest
from auditlog.models import LogEntry
from django.contrib.auth.models import Group
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.urls import reverse

from readers.staff import STAFF_GROUP
from requests_app.models import IllRequest, Status, Supplier, SupplierKind
from tests.factories import IllRequestFactory, UserFactory
from tests.requests_app.test_admin import change_form_data

pytestmark = pytest.mark.django_db


@pytest.fixture
def office_member(db):
    user = UserFactory(username="office", is_staff=True)
    user.groups.add(Group.objects.get(name=STAFF_GROUP))
    return user


@pytest.fixture
def office(client, office_member):
    client.force_login(office_member)
    return client


@pytest.fixture
def calis(db):
    return Supplier.objects.create(
        name_zh="CALIS 文献传递", name_en="CALIS document delivery", kind=SupplierKind.CALIS
    )


def change_url(ill_request):
    return reverse("admin:requests_app_illrequest_change", args=[ill_request.pk])


def audit_entries(model, pk):
    return LogEntry.objects.filter(
        content_type=ContentType.objects.get_for_model(model), object_pk=str(pk)
    ).order_by("pk")


def test_the_office_adds_a_supplier_and_the_audit_trail_records_it(office, office_member):
    response = office.post(
        "/admin/requests_app/supplier/add/",
        {"name_zh": "国家科技图书文献中心", "name_en": "NSTL", "kind": "nstl", "active": "on"},
    )
    assert response.status_code == 302
    supplier = Supplier.objects.get()
    assert (supplier.name_zh, supplier.kind, supplier.active) == (
        "国家科技图书文献中心",
        "nstl",
        True,
    )
    entry = audit_entries(Supplier, supplier.pk).get()
    assert (entry.action, entry.actor) == (LogEntry.Action.CREATE, office_member)
    assert entry.changes_dict["name_zh"] == ["None", "国家科技图书文献中心"]
    office.post(
        f"/admin/requests_app/supplier/{supplier.pk}/change/",
        {"name_zh": "国家科技图书文献中心", "name_en": "NSTL", "kind": "nstl"},
    )
    supplier.refresh_from_db()
    assert not supplier.active
    history = office.get(
        reverse("admin:requests_app_supplier_history", args=[supplier.pk]),
        HTTP_ACCEPT_LANGUAGE="en",
    ).content.decode()
    assert "Changed: supplier" in history and "Created: supplier" in history
    assert '<th scope="row">Active</th><td>True</td><td>False</td>' in history


def test_the_office_cannot_delete_a_supplier(office, calis):
    assert office.get(f"/admin/requests_app/supplier/{calis.pk}/delete/").status_code == 403
    assert Supplier.objects.filter(pk=calis.pk).exists()


def test_a_supplier_used_by_a_request_is_never_deleted(client_staff, calis):
    IllRequestFactory(supplier=calis)
    response = client_staff.post(
        f"/admin/requests_app/supplier/{calis.pk}/delete/", {"post": "yes"}
    )
    assert response.status_code == 200  # Django's page: protected objects would be deleted
    assert Supplier.objects.filter(pk=calis.pk).exists()


def test_the_name_is_shown_in_the_viewers_language(calis):
    from django.utils import translation

    with translation.override("en"):
        assert str(calis) == "CALIS document delivery"
    with translation.override("zh-hans"):
        assert str(calis) == "CALIS 文献传递"
    assert str(Supplier(name_zh="只有中文", kind="other")) == "只有中文"


def test_the_office_records_the_supplier_on_the_request_page(office, office_member, calis):
    ill_request = IllRequestFactory(status=Status.IN_PROCESS)
    page = office.get(change_url(ill_request), HTTP_ACCEPT_LANGUAGE="en")
    content = page.content.decode()
    assert '<label for="id_supplier">Supplier:</label>' in content
    assert "Supplier&#x27;s request number" in content
    data = change_form_data(page)
    data.update({"supplier": str(calis.pk), "supplier_number": "CALIS-2026-0042"})
    data["supplier_cost"] = "35.50"
    assert office.post(change_url(ill_request), data).status_code == 302
    ill_request.refresh_from_db()
    assert ill_request.supplier == calis
    assert ill_request.supplier_number == "CALIS-2026-0042"
    assert ill_request.supplier_cost == Decimal("35.50")
    assert ill_request.status == Status.IN_PROCESS
    entry = audit_entries(IllRequest, ill_request.pk).last()
    assert entry.actor == office_member
    assert entry.changes_dict["supplier_cost"] == ["None", "35.50"]
    assert entry.changes_dict["supplier_number"] == ["", "CALIS-2026-0042"]


@pytest.mark.parametrize(
    ("cost", "message"),
    [
        ("-1", "The supplier&#x27;s cost is 0 or more."),
        ("1.234", "Ensure that there are no more than 2 decimal places."),
        ("abc", "Enter a number."),
        ("123456789", "Ensure that there are no more than 8 digits before the decimal point."),
    ],
)
def test_a_bad_cost_is_refused_beside_its_field_and_nothing_is_saved(office, calis, cost, message):
    ill_request = IllRequestFactory()
    data = change_form_data(office.get(change_url(ill_request)))
    data.update({"supplier": str(calis.pk), "supplier_number": "X1", "supplier_cost": cost})
    response = office.post(change_url(ill_request), data, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert list(errors) == ["supplier_cost"]
    assert message in response.content.decode()
    assert 'value="X1"' in response.content.decode()  # what staff typed is still there
    ill_request.refresh_from_db()
    assert (ill_request.supplier, ill_request.supplier_number) == (None, "")


def test_an_inactive_supplier_is_offered_only_where_it_is_already_chosen(office, calis):
    old = Supplier.objects.create(name_zh="旧供应方", kind=SupplierKind.OTHER, active=False)
    fresh = IllRequestFactory()
    choices = office.get(change_url(fresh)).context["adminform"].form.fields["supplier"].queryset
    assert list(choices) == [calis]
    named = IllRequestFactory(supplier=old)
    page = office.get(change_url(named))
    assert set(page.context["adminform"].form.fields["supplier"].queryset) == {calis, old}
    # Saving the page without touching the supplier keeps it.
    data = change_form_data(page)
    data["remarks"] = "checked"
    assert office.post(change_url(named), data).status_code == 302
    named.refresh_from_db()
    assert named.supplier == old


def test_the_changelist_filters_by_supplier(office, calis):
    nstl = Supplier.objects.create(name_zh="国家科技图书文献中心", kind=SupplierKind.NSTL)
    by_calis = IllRequestFactory(supplier=calis)
    by_nstl = IllRequestFactory(supplier=nstl)
    response = office.get("/admin/requests_app/illrequest/", {"supplier__id__exact": calis.pk})
    assert response.status_code == 200
    shown = list(response.context["cl"].result_list)
    assert shown == [by_calis]
    assert by_nstl not in shown
    assert "国家科技图书文献中心" in response.content.decode()  # offered in the filter


def test_the_export_carries_the_supplier(office, calis):
    IllRequestFactory(supplier=calis, supplier_number="=CMD()", supplier_cost=Decimal("35.5"))
    IllRequestFactory()
    response = office.get(
        "/admin/requests_app/illrequest/export/", {"o": "1"}, HTTP_ACCEPT_LANGUAGE="en"
    )
    body = b"".join(response.streaming_content).decode("utf-8")
    rows = list(csv.DictReader(io.StringIO(body[1:])))
    values = {
        (row["Supplier"], row["Supplier's request number"], row["Supplier's cost (yuan)"])
        for row in rows
    }
    assert values == {("CALIS document delivery", "'=CMD()", "35.50"), ("", "", "")}


def test_the_reader_never_sees_the_supplier(client_a, reader_a, calis):
    ill_request = IllRequestFactory(
        reader=reader_a,
        status=Status.DELIVERED,
        supplier=calis,
        supplier_number="CALIS-2026-0042",
        supplier_cost=Decimal("35.50"),
    )
    for language in ("en", "zh-hans"):
        content = client_a.get(
            reverse("request_detail", args=[ill_request.number]), HTTP_ACCEPT_LANGUAGE=language
        ).content.decode()
        assert "CALIS 文献传递" not in content and "CALIS document delivery" not in content
        # The cost as it would be shown (a bare "35.50" can be a timestamp's seconds).
        assert "CALIS-2026-0042" not in content and not re.search(r"\b35\.50\b(?!\d)", content)
        assert "Supplier" not in content and "供应方" not in content
    listing = client_a.get(reverse("request_list")).content.decode()
    assert "CALIS-2026-0042" not in listing and "CALIS document" not in listing


@pytest.mark.parametrize("rows", [1, 30])
def test_the_supplier_changelist_costs_the_same_queries(office, rows, django_assert_num_queries):
    Supplier.objects.bulk_create(
        Supplier(name_zh=f"供应方{n}", kind=SupplierKind.PARTNER_LIBRARY) for n in range(rows)
    )
    office.get("/admin/requests_app/supplier/")
    # The same whatever the number of rows: none per row (PostgreSQL: one more, the planner's
    # estimated count, as on every change list).
    with django_assert_num_queries(7 + (connection.vendor == "postgresql")):
        response = office.get("/admin/requests_app/supplier/")
    assert len(response.context["cl"].result_list) == rows
