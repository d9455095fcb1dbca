"""The request page's details in the form's groups (views._field_groups, rendered in Python
since issue 14): headings in order, labels and values in the page's language, empty values as
a dash, text escaped with its line breaks kept."""

import datetime
import re

import pytest

from tests.factories import IllRequestFactory

pytestmark = pytest.mark.django_db


def groups(client, ill_request, language):
    html = client.get(ill_request.get_absolute_url(), HTTP_ACCEPT_LANGUAGE=language)
    html = html.content.decode()
    return re.findall(
        r'<section aria-labelledby="group-(\d)">\n  <h2 id="group-\1">(.*?)</h2>\n'
        r'  <dl class="facts">\n    (.*?)\n  </dl>\n</section>',
        html,
        re.S,
    )


def facts(rows):
    return dict(re.findall(r"<dt>(.*?)</dt><dd>(.*?)</dd>", rows, re.S))


@pytest.fixture
def ill_request(reader_a):
    return IllRequestFactory(
        reader=reader_a,
        author="",
        remarks="First line <b>&</b>\nsecond line",
        valid_until=datetime.date(2031, 5, 6),
        max_cost="12.50",
        fee_pages=None,
    )


def test_the_groups_in_english(client_a, ill_request):
    found = groups(client_a, ill_request, "en")
    assert [(number, heading) for number, heading, _rows in found] == [
        ("1", "Request"),
        ("2", "Document"),
        ("3", "ILL options"),
        ("4", "Contact"),
        ("5", "Remarks"),
    ]
    request, document, ill, _contact, remarks = (facts(rows) for _n, _h, rows in found)
    assert request == {"Service type": "Copy (non-returnable)"}
    assert document["Author"] == '<span class="muted">—</span>'
    assert document["Publication title"] == "Interlending &amp; Document Supply"
    assert len(document) == 15
    assert ill["Valid until"] == "2031-05-06"
    assert ill["Maximum cost"] == "12.50"
    assert ill["Number of pages for the fee"] == '<span class="muted">—</span>'
    assert remarks == {"Remarks": "First line &lt;b&gt;&amp;&lt;/b&gt;<br>second line"}


def test_the_groups_in_chinese_after_english(client_a, ill_request):
    groups(client_a, ill_request, "en")  # the labels are kept per language
    found = groups(client_a, ill_request, "zh-hans")
    assert [heading for _n, heading, _rows in found] == [
        "申请信息",
        "文献信息",
        "馆际互借信息",
        "用户信息",
        "备注",
    ]
    assert facts(found[0][2]) == {"服务方式": "复制（非返还）"}
    assert facts(found[1][2])["作者"] == '<span class="muted">—</span>'
