import pytest

from readers.models import PageSlug
from tests.factories import PageFactory

pytestmark = pytest.mark.django_db

CAST = ["client_a", "client_b", "client_pending", "client_staff", "client_anon"]


@pytest.mark.parametrize("who", CAST)
@pytest.mark.parametrize("slug", PageSlug.values)
def test_staff_edited_pages_are_shown_to_everyone_in_both_languages(request, who, slug):
    client = request.getfixturevalue(who)
    PageFactory(
        slug=slug,
        title_zh="中文标题",
        title_en="English title",
        body_zh="中文正文",
        body_en="English text",
    )
    english = client.get(f"/{slug}/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    chinese = client.get(f"/{slug}/", HTTP_ACCEPT_LANGUAGE="zh-CN").content.decode()
    assert "English title" in english and "English text" in english
    assert "中文标题" in chinese and "中文正文" in chinese


def test_page_not_written_yet_says_so(client_anon):
    response = client_anon.get("/about/", HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200
    assert "has not written this page yet" in response.content.decode()


def test_page_in_one_language_falls_back_to_the_other(client_anon):
    PageFactory(
        slug=PageSlug.FEES, title_en="", body_en="", title_zh="收费标准", body_zh="每页 0.3 元"
    )
    content = client_anon.get("/fees/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "每页 0.3 元" in content


def test_the_copyright_statement_not_written_yet_reads_the_offices_default(client_anon):
    english = client_anon.get("/copyright/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "for your own private study or non-commercial research only" in english
    chinese = client_anon.get("/copyright/", HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert "仅供您个人学习或非商业性研究使用" in chinese
