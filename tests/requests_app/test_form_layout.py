"""The request form is easy to correct (issue 14, item 3): an error summary of links to the
fields, the radio group's error tied to its inputs, and the same fields as before."""

import re

import pytest

from requests_app.forms import IllRequestForm

pytestmark = pytest.mark.django_db


def failed_submit(client, **data):
    response = client.post("/requests/new/", {"token": "x" * 20, **data}, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200
    return response, response.content.decode()


def summary_of(html):
    match = re.search(r'<div class="form-errors error-summary"[^>]*>(.*?)</div>', html, re.S)
    assert match, "no error summary"
    return match.group(0)


def test_the_summary_links_every_error_to_its_field(client_a):
    response, html = failed_submit(client_a, valid_until="2000-01-01")
    form = response.context["form"]
    summary = summary_of(html)
    links = re.findall(r'<a href="#([^"]+)">', summary)
    expected = sum(len(form[name].errors) for name in form.errors if name != "__all__")
    assert len(links) == expected > 5
    for target in links:
        # Every link leads to an element that exists: the input, or the group's first radio.
        assert f'id="{target}"' in html
    assert "#id_publication_title" in summary
    assert "#id_valid_until" in summary
    assert "#id_service_type_0" in summary
    assert "The valid-until date must be in the future." in summary
    # It is announced and can take the focus (gateway.js focuses it).
    assert 'role="alert"' in summary and 'tabindex="-1"' in summary


def test_the_summary_in_chinese_too(client_a):
    response = client_a.post("/requests/new/", {"token": "x" * 20}, HTTP_ACCEPT_LANGUAGE="zh-hans")
    summary = summary_of(response.content.decode())
    assert "请修改以下问题" in summary
    assert "出版物名称" in summary


def test_no_summary_on_a_fresh_form(client_a):
    html = client_a.get("/requests/new/").content.decode()
    assert "error-summary" not in html


def test_each_radio_of_a_group_in_error_is_described_by_the_error(client_a):
    _response, html = failed_submit(client_a)
    radios = re.findall(r'<input type="radio" name="service_type"[^>]*>', html)
    assert len(radios) == 2
    for radio in radios:
        assert 'aria-describedby="id_service_type_error"' in radio
        assert 'aria-invalid="true"' in radio
    assert 'id="id_service_type_error"' in html


def test_every_field_is_still_rendered_with_its_label(client_a):
    html = client_a.get("/requests/new/").content.decode()
    form = IllRequestForm()
    for name, field in form.fields.items():
        if name == "token":
            assert 'name="token"' in html
            continue
        assert f'name="{name}"' in html, name
        bound = form[name]
        if bound.widget_type in ("radioselect",):
            assert f'for="{bound.auto_id}_0"' in html
        else:
            assert f'<label for="{bound.id_for_label}">' in html, name


def test_a_valid_value_typed_is_kept_after_a_failed_submit(client_a):
    _response, html = failed_submit(
        client_a, publication_title="Nature 中文", service_type="loan", remarks="please <b>"
    )
    assert 'value="Nature 中文"' in html
    assert re.search(r'value="loan"[^>]*checked', html)
    assert "please &lt;b&gt;</textarea>" in html


def test_the_remarks_field_is_not_labelled_like_its_group(client_a):
    html = client_a.get("/requests/new/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "<legend>Remarks</legend>" in html
    assert '<label for="id_remarks">Remarks' not in html
    assert '<label for="id_remarks">Anything else the ILL office should know' in html
