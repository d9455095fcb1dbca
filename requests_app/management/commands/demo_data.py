"""Load the demo cast, notices and pages so a newcomer can use the portal at once.

Idempotent: every object is looked up by its natural key first, so a second run changes
nothing (not even passwords or texts that someone edited since).
"""

import hashlib
from datetime import timedelta
from decimal import Decimal

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.test.utils import override_settings
from django.utils import timezone

from accounts.hashers import wrap_legacy_password
from accounts.ledger import ledger_record
from accounts.legacy import LegacyAccount, LegacyStatus
from accounts.models import EntryKind, LedgerEntry, PaymentMethod, PublicAccount
from accounts.public import public_account_create
from readers.models import IdType, Notice, Page, PageSlug, Reader, ReaderStatus, ReaderType
from requests_app.forms import IllRequestForm, initial_from_reader
from requests_app.lifecycle import request_transition
from requests_app.models import FeeKind, FeeLine, IllRequest, Supplier, SupplierKind
from requests_app.services import request_submit

DEMO_PASSWORD = "demo-password"

READERS = [
    {
        "username": "demo-reader",
        "status": ReaderStatus.CONFIRMED,
        "reader_type": ReaderType.OFF_CAMPUS,
        "name": "演示读者 Demo Reader",
        "email": "demo-reader@example.org",
        "id_type": IdType.LIBRARY_CARD,
        "id_number": "D0001",
        "phone": "010-62780000",
        "address": "北京市海淀区示例路 1 号",
        "postal_code": "100084",
        "institution": "示例大学图书馆 Example University Library",
    },
    {
        "username": "demo-pending",
        "status": ReaderStatus.PENDING,
        "reader_type": ReaderType.OFF_CAMPUS,
        "name": "待确认读者 Pending Reader",
        "email": "demo-pending@example.org",
        "id_type": IdType.RESIDENT_ID,
        "id_number": "D0002",
        "phone": "021-60000000",
        "address": "上海市示例区示例街 2 号",
        "postal_code": "200000",
        "institution": "示例研究所 Example Institute",
    },
]

# Old-system accounts waiting to be linked (SPEC 3), one per password format the old system used;
# the clear password of each is OLD_PASSWORD.
OLD_PASSWORD = "old-password"
OLD_ACCOUNTS = [
    {
        "user_id": 900001,
        "username": "old-zhang",
        "format": "MD5",
        "name": "张旧 Zhang Jiu",
        "email": "old-zhang@example.org",
        "id_type": IdType.STUDENT_CARD,
        "id_number": "2019011234",
        "reader_type": ReaderType.CAMPUS,
        "institution": "示例大学 历史系",
        "phone": "010-62781111",
        "balance": "120.00",
    },
    {
        "user_id": 900002,
        "username": "old-li",
        "format": "SHA1",
        "name": "李旧 Li Jiu",
        "email": "old-li@example.org",
        "id_type": IdType.LIBRARY_CARD,
        "id_number": "3245",
        "reader_type": ReaderType.OFF_CAMPUS,
        "institution": "示例研究所 Example Institute",
        "phone": "021-60001111",
        "balance": "80.00",
    },
    {
        "user_id": 900003,
        "username": "old-li-2",
        "format": "PLAIN",
        "name": "李旧 Li Jiu",
        "email": "old-li@example.org",
        "id_type": IdType.LIBRARY_CARD,
        "id_number": "3245",
        "reader_type": ReaderType.OFF_CAMPUS,
        "institution": "示例研究所 Example Institute",
        "phone": "021-60001111",
        "balance": "20.00",
    },
    {
        "user_id": 900004,
        "username": "old-wang",
        "format": "PLAIN",
        "name": "王旧 Wang Jiu",
        "email": "old-wang@example.org",
        "id_type": IdType.RESIDENT_ID,
        "id_number": "110101199001011234",
        "reader_type": ReaderType.OFF_CAMPUS,
        "institution": "示例公司 Example Ltd.",
        "phone": "010-62782222",
        "balance": "-15.50",
    },
    {
        "user_id": 900005,
        "username": "old-stopped",
        "format": "MD5",
        "name": "停用 Stopped",
        "email": "old-stopped@example.org",
        "id_type": IdType.OTHER,
        "id_number": "X-1",
        "reader_type": ReaderType.OFF_CAMPUS,
        "phone": "010-62783333",
        "balance": "5.00",
        "status": LegacyStatus.DISABLED,
    },
]


def _old_password_field(kind: str, clear: str) -> str:
    """The password as the old system's export would hold it (accounts.csv)."""
    if kind == "MD5":
        return "MD5:" + hashlib.md5(clear.encode()).hexdigest()  # noqa: S324
    if kind == "SHA1":
        return "SHA1:demo:" + hashlib.sha1(("demo" + clear).encode()).hexdigest()  # noqa: S324
    return "PLAIN:" + clear


NOTICES = [
    {
        "title_zh": "新版馆际互借读者网关上线",
        "title_en": "The new ILL reader gateway is live",
        "body_zh": "馆际互借系统已升级为新版读者网关。\n\n在旧系统中有账号并有预付款的读者，"
        "首次登录后请选择“关联原有帐户”，输入旧系统的用户名和密码，确认信息后即可继续使用原账户的余额和申请记录。",
        "body_en": "The interlibrary loan system has moved to this new reader gateway.\n\n"
        "If you had an account with a prepaid balance in the old system, choose "
        "\u201cLink an existing account\u201d after your first login, enter the old username and "
        "password and confirm: your balance and request history come with you.",
        "pinned": True,
        "days_ago": 2,
    },
    {
        "title_zh": "春节期间馆际互借服务安排",
        "title_en": "ILL service during the Spring Festival",
        "body_zh": "春节期间馆际互借处暂停处理申请，节后第一个工作日恢复。"
        "期间提交的申请将在节后按顺序处理。",
        "body_en": "The ILL office does not process requests during the Spring Festival holiday. "
        "Requests submitted meanwhile are handled in order from the first working day after it.",
        "days_ago": 10,
    },
    {
        "title_zh": "收费标准调整通知",
        "title_en": "The fee schedule has been updated",
        "body_zh": "自下月起，加急申请每篇另收 10 元。详见“收费标准”页面。",
        "body_en": "From next month, urgent requests cost an extra 10 yuan per item. "
        "See the fee schedule page.",
        "days_ago": 30,
    },
    {
        "title_zh": "CALIS 文献传递补贴活动",
        "title_en": "",
        "body_zh": "本年度 CALIS 文献传递补贴活动已开始，补贴额度用完为止。",
        "body_en": "",
        "days_ago": 45,
    },
    {
        "title_zh": "",
        "title_en": "Document delivery from overseas libraries",
        "body_zh": "",
        "body_en": "Articles from overseas libraries usually arrive within five working days.",
        "days_ago": 60,
    },
]

PERSONAL_NOTICE = {
    "title_zh": "馆际互借系统, 用户确认通知!",
    "title_en": "ILL system: your account is confirmed",
    "body_zh": "您的馆际互借账户已通过确认，现在可以提交馆际互借申请。",
    "body_en": "Your ILL account has been confirmed: you can now submit requests.",
}

# The demo reader's requests: the seed's worked example and two others further along.
# The national services most Chinese ILL offices order from, and a partner library.
SUPPLIERS = [
    {
        "name_zh": "CALIS 文献传递",
        "name_en": "CALIS document delivery",
        "kind": SupplierKind.CALIS,
    },
    {
        "name_zh": "国家科技图书文献中心",
        "name_en": "National Science and Technology Library (NSTL)",
        "kind": SupplierKind.NSTL,
    },
    {
        "name_zh": "中国高校人文社会科学文献中心",
        "name_en": "China Academic Social Sciences and Humanities Library (CASHL)",
        "kind": SupplierKind.CASHL,
    },
    {
        "name_zh": "示例合作图书馆",
        "name_en": "Example partner library",
        "kind": SupplierKind.PARTNER_LIBRARY,
    },
]

DEMO_REQUESTS = [
    {
        "token": "demo-request-worked-example",
        "data": {
            "service_type": "copy",
            "document_type": "journal_article",
            "publication_title": "Interlending & Document Supply",
            "volume_issue": "32(2)",
            "article_title": "Licence to Deny? Publisher restrictions on document delivery",
            "year": "2004",
            "pages": "94-101",
            "issn": "0264-1615",
            "language": "English",
            "delivery_method": "email",
            "contact_method": "email",
            "max_cost": "0",
            "urgency": "normal",
        },
        "steps": [],
    },
    {
        "token": "demo-request-book-loan",
        "data": {
            "service_type": "loan",
            "document_type": "book",
            "author": "Ranganathan, S. R.",
            "publication_title": "The Five Laws of Library Science",
            "publisher": "Madras Library Association",
            "place": "Madras",
            "year": "1931",
            "language": "English",
            "delivery_method": "pickup",
            "contact_method": "email",
            "max_cost": "60",
            "urgency": "normal",
        },
        "steps": [("in_process", {})],
    },
    {
        "token": "demo-request-delivered-copy",
        "data": {
            "service_type": "copy",
            "document_type": "journal_article",
            "author": "王彤",
            "publication_title": "中国图书馆学报",
            "article_title": "馆际互借与文献传递服务的发展",
            "volume_issue": "45(3)",
            "year": "2019",
            "pages": "12-20",
            "language": "中文",
            "delivery_method": "email",
            "contact_method": "email",
            "max_cost": "30",
            "urgency": "urgent",
        },
        "fees": [(FeeKind.COPY, "2.70", "9 × 0.30")],
        "steps": [("in_process", {}), ("delivered", {})],
    },
]

PAGES = {
    PageSlug.HELP: {
        "title_zh": "帮助",
        "title_en": "Help",
        "body_zh": "本校读者：请在登录页点击统一认证按钮，用学校统一认证登录，"
        "首次登录后注册馆际互借账号，"
        "接到确认通知后重新登录即可使用。\n\n校外读者：请在登录页的“校外读者”栏用馆际互借账号登录；"
        "还没有账号的校外单位读者请先进行校外读者注册。\n\n"
        "校外个人读者：可使用公用账号（登录页上有用户名和密码）登录，申请本馆收藏文献的传递服务。"
        "每个浏览器只能看到自己提交的申请；每笔申请都会发到您填写的电子信箱，"
        "邮件中的私人链接可在任何浏览器中打开、跟踪和取消该申请。\n\n"
        "提交申请：在“申请管理”中点击“提交申请”，"
        "认真填写文献信息、馆际互借信息和用户信息。",
        "body_en": "Campus readers: log in with the campus single sign-on, register an ILL "
        "account on "
        "your first visit, and log in again once the confirmation notice arrives.\n\n"
        "Off-campus readers: log in with your gateway account on the off-campus login page.\n\n"
        "Individuals: log in with the public account (its name and password are on the login "
        "page) to ask for delivery of documents this library holds. Each browser sees only its "
        "own requests; each request is e-mailed to the address you give, with a private link "
        "that opens, follows and cancels it from any browser.\n\n"
        "To ask for a document, open Requests \u2192 Submit request and fill in "
        "the document, ILL and contact details.",
    },
    PageSlug.ABOUT: {
        "title_zh": "关于",
        "title_en": "About",
        "body_zh": "馆际互借读者网关是图书馆馆际互借与文献传递处为读者提供的网上服务平台。",
        "body_en": "The ILL reader gateway is the online service of the library's interlibrary "
        "loan and document delivery office.",
    },
    PageSlug.FEES: {
        "title_zh": "收费标准",
        "title_en": "Fee schedule",
        "body_zh": "复制（非返还）：按页计费，每页 0.3 元，另加提供馆收费。\n"
        "借调（返还）：每册 30 元起，以提供馆收费为准。\n加急：每篇另收 10 元。\n\n"
        "付款方式：到馆际互借处现金或校园卡缴费，或银行转账（请注明申请号及申请人姓名）。",
        "body_en": "Copy (non-returnable): 0.3 yuan per page plus the supplying library's charge.\n"
        "Loan (returnable): from 30 yuan per volume, as the supplying library charges.\n"
        "Urgent: an extra 10 yuan per item.\n\n"
        "Payment: in cash or by campus card at the ILL office, or by bank transfer quoting the "
        "request number and your name.",
    },
    PageSlug.COPYRIGHT: {
        "title_zh": "版权声明",
        "title_en": "Copyright statement",
        "body_zh": "本馆通过馆际互借与文献传递提供的复制件仅供读者个人学习或非商业性研究使用。"
        "读者不得将其转交他人、再次复制，或以印刷或电子形式提供给他人，"
        "著作权法另有规定的除外。\n\n下载即表示您同意遵守上述规定。",
        "body_en": "Copies supplied through interlibrary loan and document delivery are for the "
        "reader's own private study or non-commercial research only. You may not pass them on, "
        "copy them again or make them available to others, in print or electronically, beyond "
        "what copyright law allows.\n\nBy downloading you agree to these terms.",
    },
}


class Command(BaseCommand):
    help = "Load demo users, notices and pages (idempotent; demo use only)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--i-know-this-is-not-production",
            action="store_true",
            dest="not_production",
            help="Load the demo data although DEBUG is off (a test or demo server only).",
        )

    def handle(self, *args, **options):
        # It makes a superuser whose password is in the README: never on a production server.
        if not settings.DEBUG and not options["not_production"]:
            raise CommandError(
                "DEBUG is off, so this looks like a production server, and demo_data would "
                f"create the superuser demo-staff with the public password {DEMO_PASSWORD!r}. "
                "On a demo or test server, run it with --i-know-this-is-not-production."
            )
        # Demo data is no news: nobody is e-mailed about the demo requests it makes.
        with override_settings(EMAIL_BACKEND="django.core.mail.backends.dummy.EmailBackend"):
            self.load()

    @transaction.atomic
    def load(self):
        created = []
        User = get_user_model()
        now = timezone.now()

        staff, new = User.objects.get_or_create(
            username="demo-staff",
            defaults={"is_staff": True, "is_superuser": True, "email": "demo-staff@example.org"},
        )
        if new:
            staff.set_password(DEMO_PASSWORD)
            staff.save()
            created.append("user demo-staff")

        for data in READERS:
            data = dict(data)
            username = data.pop("username")
            user, new = User.objects.get_or_create(
                username=username, defaults={"email": data["email"]}
            )
            if new:
                user.set_password(DEMO_PASSWORD)
                user.save()
                created.append(f"user {username}")
            _, new = Reader.objects.get_or_create(
                user=user,
                defaults={
                    **data,
                    "decided_at": now if data["status"] == ReaderStatus.CONFIRMED else None,
                    "decided_by": staff if data["status"] == ReaderStatus.CONFIRMED else None,
                },
            )
            if new:
                created.append(f"reader {username}")

        for data in NOTICES:
            data = dict(data)
            days_ago = data.pop("days_ago")
            _, new = Notice.objects.get_or_create(
                reader=None,
                title_zh=data["title_zh"],
                title_en=data["title_en"],
                defaults={**data, "publish_at": now - timedelta(days=days_ago)},
            )
            if new:
                created.append(f"notice {data['title_zh'] or data['title_en']}")

        demo_reader = Reader.objects.get(user__username="demo-reader")
        _, new = Notice.objects.get_or_create(
            reader=demo_reader,
            title_zh=PERSONAL_NOTICE["title_zh"],
            defaults={**PERSONAL_NOTICE, "publish_at": now - timedelta(days=1)},
        )
        if new:
            created.append("personal notice for demo-reader")

        # Money on the demo reader's prepaid account, so that delivering the demo requests
        # charges it (without it they would wait for payment). Once: the token makes it so.
        new = not LedgerEntry.objects.filter(submission_token="demo-deposit-1").exists()
        ledger_record(
            reader=demo_reader,
            kind=EntryKind.DEPOSIT,
            amount="100.00",
            actor=staff,
            method=PaymentMethod.CASH,
            note="Demo deposit",
            token="demo-deposit-1",
        )
        if new:
            created.append("deposit for demo-reader")

        for data in SUPPLIERS:
            _, new = Supplier.objects.get_or_create(name_zh=data["name_zh"], defaults=data)
            if new:
                created.append(f"supplier {data['name_zh']}")

        for spec in DEMO_REQUESTS:
            if IllRequest.objects.filter(submission_token=spec["token"]).exists():
                continue
            data = {
                **initial_from_reader(demo_reader),
                **spec["data"],
                "valid_until": (now + timedelta(days=60)).date().isoformat(),
            }
            form = IllRequestForm(data=data)
            if not form.is_valid():
                raise ValueError(f"demo request {spec['token']}: {form.errors.as_json()}")
            ill_request, _ = request_submit(
                reader=demo_reader, data=form.cleaned_data, token=spec["token"]
            )
            for kind, amount, note in spec.get("fees", []):
                FeeLine.objects.create(request=ill_request, kind=kind, amount=amount, note=note)
            for status, extra in spec["steps"]:
                request_transition(ill_request=ill_request, to=status, actor=staff, **extra)
            created.append(f"request {ill_request.number}")

        for data in OLD_ACCOUNTS:
            data = dict(data)
            kind = data.pop("format")
            _, new = LegacyAccount.objects.get_or_create(
                user_id=data["user_id"],
                defaults={
                    **data,
                    "password": wrap_legacy_password(_old_password_field(kind, OLD_PASSWORD)),
                    "balance": Decimal(data["balance"]),
                    "status": data.get("status", LegacyStatus.ACTIVE),
                    "created_at": now - timedelta(days=3000),
                    "fingerprint": "demo",
                },
            )
            if new:
                created.append(f"old account {data['username']}")

        for slug, data in PAGES.items():
            _, new = Page.objects.get_or_create(slug=slug, defaults=data)
            if new:
                created.append(f"page {slug}")

        # The public account as the seed documents it (passing / passing), for individuals.
        if not PublicAccount.objects.exists():
            public_account_create()
            created.append("public account passing")

        if created:
            self.stdout.write(self.style.SUCCESS(f"Demo data: created {len(created)} objects."))
        else:
            self.stdout.write("Demo data: already loaded, nothing changed.")
        self.stdout.write(
            "Demo logins (password for all: demo-password):\n"
            "  demo-staff    staff, back office at /admin/\n"
            "  demo-reader   confirmed off-campus reader\n"
            "  demo-pending  reader waiting for confirmation\n"
            "Old-system accounts to link (password for all: old-password):\n"
            "  old-zhang     campus, 120.00 yuan: log in by campus SSO, choose 关联原有帐户\n"
            "  old-li        off-campus, 80.00 yuan: log in with it on the login page\n"
            "  old-li-2      same ID as old-li, 20.00 yuan: attach it as history\n"
            "  old-wang      off-campus, owes 15.50 yuan\n"
            "  old-stopped   disabled: only staff can link it\n"
            "Public account for private individuals: passing / passing"
        )
