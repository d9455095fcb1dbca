"""Seed 1.3 steps 1–4 (campus) and seed 2.1 (off-campus): a reader links their old account."""

from decimal import Decimal

from django.utils import timezone
from playwright.sync_api import expect

from accounts.hashers import wrap_legacy_password
from accounts.legacy import LegacyAccount
from accounts.legacy_link import legacy_link
from readers.models import Reader, ReaderType
from tests.e2e.conftest import log_in
from tests.e2e.test_campus_registration import campus_login
from tests.factories import PASSWORD, ReaderFactory, StaffFactory


def old_account(username, password, reader_type, user_id=1, balance="120.00"):
    return LegacyAccount.objects.create(
        user_id=user_id,
        username=username,
        password=wrap_legacy_password("PLAIN:" + password),
        name="illuserzj2",
        email="illuserzj2@dd.co",
        id_type="library_card",
        id_number="3245",
        reader_type=reader_type,
        phone="010-62780000",
        balance=Decimal(balance),
        status="active",
        created_at=timezone.now(),
    )


def fill_old_account(page, username, password):
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(password)
    page.locator("main").get_by_role("button", name="关联账户").click()


def test_campus_reader_links_the_old_account_in_four_steps(page, campus_idp):
    account = old_account("illuserzj2", "old-secret", ReaderType.CAMPUS)

    # Step 1: the first entry after the campus login.
    campus_login(page)
    expect(page.locator("h1")).to_have_text("本校读者注册")
    # Step 2: the seed's explanation and the two choices.
    main = page.locator("main")
    expect(main).to_contain_text("需要您从下面的两个选项中选择其一")
    expect(main.get_by_text("注册新帐户")).to_be_visible()
    expect(page.get_by_label("证件号码")).to_be_hidden()  # the registration form waits for (2)
    main.get_by_role("link", name="关联原有帐户").click()

    # Step 3: the old username and password; a mistake is said beside the form.
    expect(page.locator("h1")).to_have_text("关联账户")
    fill_old_account(page, "ILLUSERZJ2", "wrong")
    expect(main.locator(".errorlist, .message--error, [role=alert]").first).to_contain_text(
        "用户名或密码不正确"
    )
    expect(page.get_by_label("用户名")).to_have_value("ILLUSERZJ2")
    fill_old_account(page, "ILLUSERZJ2", "old-secret")

    # 账户信息确认: 返回 links nothing.
    expect(page.locator("h1")).to_have_text("账户信息确认")
    # The seed's labels and the old account's details.
    for shown in ("用户姓名", "illuserzj2", "Email地址", "illuserzj2@dd.co", "证件名称", "借书证"):
        expect(main).to_contain_text(shown)
    expect(main).to_contain_text("证件号码")
    expect(main).to_contain_text("3245")
    expect(main).to_contain_text("请您确认以上信息无误，点击“确定”进行关联。")
    main.get_by_role("button", name="返回").click()
    expect(page.locator("h1")).to_have_text("本校读者注册")
    assert not Reader.objects.exists()

    main.get_by_role("link", name="关联原有帐户").click()
    fill_old_account(page, "illuserzj2", "old-secret")
    # Step 4: 确定 links; the reader does not fill the registration form.
    page.locator("main").get_by_role("button", name="确定").click()
    expect(page.locator("h1")).to_have_text("留言板")
    expect(page.locator(".messages, [role=status]").first).to_contain_text("关联成功")
    nav = page.get_by_role("navigation", name="主导航")
    expect(nav.get_by_text("申请管理")).to_be_visible()  # confirmed as the old account was
    page.goto("/account/")
    expect(page.locator(".balance")).to_contain_text("120.00")
    account.refresh_from_db()
    assert account.reader.reader_type == ReaderType.CAMPUS


def test_off_campus_reader_logs_in_with_the_old_username(page):
    old_account("old-li", "old-secret", ReaderType.OFF_CAMPUS, balance="80.00")
    page.goto("/accounts/login/")
    page.locator("#id_login").fill("Old-Li")
    page.locator("#id_password").fill("old-secret")
    page.locator("main form[action='/accounts/login/'] button[type=submit]").click()

    # Straight to 账户信息确认.
    expect(page.locator("h1")).to_have_text("账户信息确认")
    expect(page.locator("main")).to_contain_text("illuserzj2@dd.co")
    page.locator("main").get_by_role("button", name="确定").click()
    expect(page.locator("h1")).to_have_text("留言板")
    page.goto("/account/")
    expect(page.locator(".balance")).to_contain_text("80.00")

    # From now on the old username and password log in as the gateway account.
    page.get_by_role("button", name="关闭").click()
    page.goto("/accounts/login/")
    page.locator("#id_login").fill("old-li")
    page.locator("#id_password").fill("old-secret")
    page.locator("main form[action='/accounts/login/'] button[type=submit]").click()
    expect(page.locator("h1")).to_have_text("留言板")
    assert Reader.objects.get().user.username == "old-li"


def test_a_second_old_account_is_attached_and_staff_move_its_money(page, browser, live_server):
    StaffFactory(username="ill-staff")
    reader = ReaderFactory(user__username="li")
    legacy_link(
        legacy_account=old_account("old-li", "pw-1", ReaderType.OFF_CAMPUS, balance="80.00"),
        reader=reader,
        actor=None,
    )
    twin = old_account("old-li-2", "pw-2", ReaderType.OFF_CAMPUS, user_id=2, balance="20.00")
    log_in(page, "li", PASSWORD)
    page.goto("/account/")
    page.get_by_role("link", name="您在原馆际互借系统中的帐户").click()
    main = page.locator("main")
    expect(main.get_by_role("heading", name="与您证件相同的其他旧帐户")).to_be_visible()
    main.get_by_role("link", name="作为历史记录关联").click()
    page.get_by_label("用户名").fill("old-li-2")
    page.get_by_label("密码").fill("pw-2")
    main.get_by_role("button", name="作为历史记录关联").click()
    row = page.locator("table tbody tr", has_text="old-li-2")
    expect(row).to_contain_text("尚未转入")
    page.goto("/account/")
    expect(page.locator(".balance")).to_contain_text("80.00")  # shown, not counted yet

    staff = browser.new_context(base_url=live_server.url, locale="en-US")
    admin = staff.new_page()
    log_in(admin, "ill-staff", PASSWORD)
    admin.goto("/admin/accounts/legacyaccount/?q=old-li-2")
    admin.locator("#result_list").get_by_role("link", name=str(twin.user_id)).click()
    admin.get_by_role("link", name="Move its balance to the reader's account").click()
    admin.get_by_role("button", name="Move the balance").click()
    expect(admin.locator(".messagelist")).to_contain_text("20.00 yuan moved")
    staff.close()

    page.reload()
    expect(page.locator(".balance")).to_contain_text("100.00")


def log_out(page):
    page.get_by_role("button", name="关闭").click()


def test_an_existing_off_campus_reader_is_asked_once_and_links_the_old_account(page):
    """Issue 11 item 4/5: registered before the import, asked on the first entry after login."""
    reader = ReaderFactory(user__username="wang", legacy_choice_at=None)
    account = old_account("old-wang", "old-secret", ReaderType.OFF_CAMPUS, balance="55.00")

    log_in(page, "wang", PASSWORD)
    expect(page.locator("h1")).to_have_text("您在原馆际互借系统中的帐户")
    main = page.locator("main")
    expect(main).to_contain_text("需要您从下面的两个选项中选择其一")
    expect(main.get_by_role("button", name="不关联原有帐户，继续使用")).to_be_visible()
    main.get_by_role("link", name="关联原有帐户").click()
    expect(page.locator("h1")).to_have_text("关联账户")
    fill_old_account(page, "old-wang", "old-secret")
    expect(page.locator("h1")).to_have_text("账户信息确认")
    page.locator("main").get_by_role("button", name="确定").click()

    expect(page.locator("h1")).to_have_text("留言板")
    expect(page.locator(".messages, [role=status]").first).to_contain_text("关联成功")
    account.refresh_from_db()
    assert account.reader == reader
    page.goto("/account/")
    expect(page.locator(".balance")).to_contain_text("55.00")

    # Answered: the next login goes straight to the board.
    log_out(page)
    log_in(page, "wang", PASSWORD)
    expect(page.locator("h1")).to_have_text("留言板")


def test_a_reader_who_declines_is_not_asked_again(page):
    ReaderFactory(user__username="zhao", legacy_choice_at=None)
    log_in(page, "zhao", PASSWORD)
    expect(page.locator("h1")).to_have_text("您在原馆际互借系统中的帐户")
    page.locator("main").get_by_role("button", name="不关联原有帐户，继续使用").click()
    expect(page.locator("h1")).to_have_text("留言板")
    expect(page.locator(".messages, [role=status]").first).to_contain_text("以后不会再询问您")

    log_out(page)
    log_in(page, "zhao", PASSWORD)
    expect(page.locator("h1")).to_have_text("留言板")
    page.goto("/")
    expect(page.locator("h1")).to_have_text("留言板")
    assert not LegacyAccount.objects.filter(reader__user__username="zhao").exists()
