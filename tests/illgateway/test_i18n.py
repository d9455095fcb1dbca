import pytest

pytestmark = pytest.mark.django_db


def test_chinese_is_the_default(client_anon):
    content = client_anon.get("/").content.decode()
    assert "馆际互借读者网关" in content
    assert '<html lang="zh-Hans">' in content


def test_browser_accept_language_chooses_english(client_anon):
    content = client_anon.get("/", HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9").content.decode()
    assert "ILL Reader Gateway" in content
    assert '<html lang="en">' in content


def test_language_switch_wins_over_the_browser(client_a):
    response = client_a.post("/i18n/setlang/", {"language": "zh-hans", "next": "/help/"})
    assert response.status_code == 302
    assert response["Location"] == "/help/"
    content = client_a.get("/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "留言板" in content


def test_language_switch_ignores_a_foreign_next(client_a):
    response = client_a.post("/i18n/setlang/", {"language": "en", "next": "https://evil.example/"})
    assert response.status_code == 302
    assert "evil.example" not in response["Location"]


def test_unknown_language_is_ignored(client_anon):
    response = client_anon.post("/i18n/setlang/", {"language": "xx", "next": "/"})
    assert response.status_code == 302
    assert '<html lang="zh-Hans">' in client_anon.get("/").content.decode()


def test_dates_and_labels_follow_the_language(client_a):
    content = client_a.get("/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Notice board" in content


@pytest.mark.parametrize(("browser", "stored"), [("zh-CN", "zh-hans"), ("en-GB", "en")])
def test_a_reader_registers_with_the_language_the_browser_asks_for(client_anon, browser, stored):
    from readers.models import Reader
    from tests.accounts.test_registration import FORM

    response = client_anon.post("/accounts/signup/", FORM, HTTP_ACCEPT_LANGUAGE=browser)
    assert response.status_code == 302, response.content.decode()[:3000]
    assert Reader.objects.get().language == stored
