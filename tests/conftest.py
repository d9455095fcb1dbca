"""The cast every view is tried with: two readers, a pending reader, staff and anonymous."""

import pytest
from django.test import Client
from django.utils import translation

from tests.factories import PASSWORD, PendingReaderFactory, ReaderFactory, StaffFactory


@pytest.fixture(autouse=True)
def delivery_folder(settings, tmp_path):
    """Delivered PDFs go to a folder of each test's own, never to var/."""
    folder = tmp_path / "deliveries"
    settings.STORAGES = {
        **settings.STORAGES,
        "deliveries": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(folder)},
        },
    }
    return folder


@pytest.fixture(autouse=True)
def default_language():
    """Each test starts in the site's default language, not in the one the previous test's last
    request activated: a test that reads words says which language it reads them in."""
    translation.deactivate()
    yield
    translation.deactivate()


@pytest.fixture
def password():
    return PASSWORD


@pytest.fixture
def reader_a(db):
    return ReaderFactory(user__username="reader-a", name="读者甲 Reader A")


@pytest.fixture
def reader_b(db):
    return ReaderFactory(user__username="reader-b", name="读者乙 Reader B")


@pytest.fixture
def pending_reader(db):
    return PendingReaderFactory(user__username="pending", name="待确认 Pending")


@pytest.fixture
def staff(db):
    return StaffFactory(username="staff")


def _client_for(user):
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def client_a(reader_a):
    return _client_for(reader_a.user)


@pytest.fixture
def client_b(reader_b):
    return _client_for(reader_b.user)


@pytest.fixture
def client_pending(pending_reader):
    return _client_for(pending_reader.user)


@pytest.fixture
def client_staff(staff):
    return _client_for(staff)


@pytest.fixture
def client_anon(db):
    return Client()
