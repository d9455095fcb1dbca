"""The request form's inputs are rendered in Python (issue 14, item 11): byte for byte what
Django's widget templates give, bound or not, with errors, help texts and odd values."""

import pytest
from django import forms
from django.forms.widgets import Input

from requests_app.forms import IllRequestForm
from tests.requests_app.conftest import worked_example

pytestmark = pytest.mark.django_db

ODD = {
    "publication_title": 'Quotes " and <tags> & ampersands 中文',
    "remarks": "line one\n<script>alert(1)</script>\n\nline three",
    "max_cost": "abc",
    "valid_until": "2000-01-01",
    "year": "",
}


def template_rendered(bound_field):
    """The same field through Django's own widget template (the class's render)."""
    widget = bound_field.field.widget
    direct = widget.__dict__.pop("render")
    try:
        return str(bound_field)
    finally:
        widget.render = direct


@pytest.mark.parametrize(
    "data",
    [None, {}, worked_example(), worked_example(**ODD)],
    ids=["unbound", "empty", "ok", "odd"],
)
def test_every_input_renders_as_django_would(data):
    form = IllRequestForm(data) if data is not None else IllRequestForm(initial={"remarks": "x"})
    if data is not None:
        form.is_valid()
    checked = 0
    for bound_field in form:
        widget = bound_field.field.widget
        if not isinstance(widget, Input | forms.Textarea) or isinstance(
            widget, forms.RadioSelect | forms.CheckboxInput
        ):
            continue
        # What the template shows ({{ field }}) against Django's template-rendered widget.
        assert "render" in widget.__dict__, bound_field.name  # rendered directly
        assert str(bound_field) == template_rendered(bound_field), bound_field.name
        checked += 1
    assert checked >= 25
