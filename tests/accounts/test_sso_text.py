"""The campus sign-up form strips invisible characters like every other form (issue 7.5)."""

import pytest

from readers.models import Reader
from tests.accounts.sso_helpers import CARSI_SUB, oidc_login
from tests.test_text_fields import assert_clean, dirty, visible

pytestmark = pytest.mark.django_db


def test_the_campus_sign_up_stores_no_invisible_characters(client, oidc_configured):
    oidc_login(client, CARSI_SUB)
    data = {
        "name": dirty("李文"),
        "email": "li.wen@example.edu.cn",
        "institution": dirty("School of History"),
        "id_type": "student_card",
        "id_number": dirty("2023010123"),
        "phone": "138\u200b0000 0000",
        "address": dirty("清华园 1 号"),
        "postal_code": "100084",
    }
    response = client.post("/accounts/3rdparty/signup/", data)
    assert response.status_code == 302
    reader = Reader.objects.get()
    assert_clean(reader)
    assert visible(reader.name) == "李文"
    assert visible(reader.institution) == "SchoolofHistory"
