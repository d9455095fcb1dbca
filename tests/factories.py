"""factory_boy factories for the whole suite."""

import factory
from django.contrib.auth import get_user_model
from django.utils import timezone

from readers.models import IdType, Notice, Page, PageSlug, Reader, ReaderStatus, ReaderType

PASSWORD = "correct-horse-battery"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ["username"]
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"reader{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.org")
    password = factory.PostGenerationMethodCall("set_password", PASSWORD)

    @factory.post_generation
    def save_password(obj, create, extracted, **kwargs):
        if create:
            obj.save()


class StaffFactory(UserFactory):
    username = factory.Sequence(lambda n: f"staff{n}")
    is_staff = True
    is_superuser = True


class ReaderFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Reader

    user = factory.SubFactory(UserFactory)
    reader_type = ReaderType.OFF_CAMPUS
    status = ReaderStatus.CONFIRMED
    name = factory.Faker("name", locale="zh_CN")
    email = factory.LazyAttribute(lambda r: r.user.email)
    id_type = IdType.LIBRARY_CARD
    id_number = factory.Sequence(lambda n: f"L{n:06d}")
    phone = "010-62780000"
    address = "北京市海淀区"
    postal_code = "100084"
    institution = "Example University"
    decided_at = factory.LazyFunction(timezone.now)


class PendingReaderFactory(ReaderFactory):
    status = ReaderStatus.PENDING
    decided_at = None


class NoticeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Notice

    title_zh = factory.Sequence(lambda n: f"通知 {n}")
    title_en = factory.Sequence(lambda n: f"Notice {n}")
    body_zh = "正文"
    body_en = "Body text"
    publish_at = factory.LazyFunction(timezone.now)


class PageFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Page
        django_get_or_create = ["slug"]

    slug = PageSlug.HELP
    title_zh = "帮助"
    title_en = "Help"
    body_zh = "帮助正文"
    body_en = "Help text"


# --- ILL requests ------------------------------------------------------------------------------


class IllRequestFactory(factory.django.DjangoModelFactory):
    """A request as the seed's worked example submits it (a copy of a journal article)."""

    class Meta:
        model = "requests_app.IllRequest"

    reader = factory.SubFactory(ReaderFactory)
    number = factory.Sequence(lambda n: 100_000 + n)
    submission_token = factory.Sequence(lambda n: f"factory-token-{n:08d}")
    service_type = "copy"
    document_type = "journal_article"
    publication_title = "Interlending & Document Supply"
    article_title = factory.Sequence(lambda n: f"Licence to Deny? Part {n}")
    volume_issue = "32(2)"
    year = "2004"
    pages = "94-101"
    issn = "0264-1615"
    language = "English"
    delivery_method = "email"
    max_cost = 0
    urgency = "normal"
    contact_name = factory.LazyAttribute(lambda r: r.reader.name)
    contact_email = factory.LazyAttribute(lambda r: r.reader.email)
    contact_phone = "010-62780000"


class FeeLineFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "requests_app.FeeLine"

    request = factory.SubFactory(IllRequestFactory)
    kind = "supplier"
    amount = factory.Faker("pydecimal", left_digits=2, right_digits=2, positive=True)
