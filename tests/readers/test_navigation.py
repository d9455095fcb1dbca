import pytest

pytestmark = pytest.mark.django_db

NAV_EN = [
    "Profile",
    "Submit request",
    "My requests",
    "Account",
    "Log out",
    "Help",
    "About",
    "Legacy data",
]
NAV_ZH = [
    "个人管理",
    "申请管理",
    "提交申请",
    "申请列表",
    "帐户管理",
    "关闭",
    "帮助",
    "关于",
    "旧版系统数据查询",
]


def test_navigation_has_the_seed_labels_in_english(client_a):
    content = client_a.get("/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    for label in NAV_EN:
        assert label in content


def test_navigation_has_the_seed_labels_in_chinese(client_a):
    content = client_a.get("/", HTTP_ACCEPT_LANGUAGE="zh-CN").content.decode()
    for label in NAV_ZH:
        assert label in content


def test_every_navigation_link_answers(client_a):
    from html.parser import HTMLParser

    class Links(HTMLParser):
        def __init__(self):
            super().__init__()
            self.hrefs = []

        def handle_starttag(self, tag, attrs):
            href = dict(attrs).get("href")
            if tag == "a" and href and href.startswith("/"):
                self.hrefs.append(href)

    parser = Links()
    parser.feed(client_a.get("/").content.decode())
    assert len(parser.hrefs) >= 8
    for href in parser.hrefs:
        assert client_a.get(href).status_code == 200, href


def test_page_has_landmarks_and_skip_link(client_anon):
    content = client_anon.get("/").content.decode()
    assert '<a class="skip-link" href="#main">' in content
    assert '<main id="main"' in content
    assert "<header" in content and "<nav" in content and "<footer" in content
    assert '<html lang="zh-Hans">' in content


def test_pending_reader_sees_only_the_board_profile_and_pages(client_pending):
    content = client_pending.get("/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Profile" in content and "Help" in content and "About" in content
    for hidden in ("Submit request", "My requests", "Legacy data", ">Account<"):
        assert hidden not in content


def test_staff_nav_leads_to_the_back_office(client_staff):
    content = client_staff.get("/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert 'href="/admin/"' in content
    assert "Submit request" not in content


def test_the_phone_menu_button_is_a_labelled_checkbox_before_the_list(client_a):
    # Issue 14: on phones the navigation folds behind a menu button that needs no JavaScript.
    html = client_a.get("/", HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    toggle = html.index('<input type="checkbox" id="main-nav-toggle"')
    label = html.index('<label for="main-nav-toggle" class="main-nav__button">')
    assert toggle < label < html.index('<ul id="main-nav-list">')
    assert 'aria-controls="main-nav-list"' in html
    assert "菜单</label>" in html
