"""Where delivered PDFs are kept, from the environment: local disk by default, an S3-compatible
store when configured; and the limits, which must be 1 or more."""

import environ
import pytest

from illgateway.settings import MEDIA_ROOT, delivery_storage
from requests_app.delivery import delivery_attach
from tests.factories import IllRequestFactory
from tests.illgateway.test_settings import GOOD_KEY, start
from tests.requests_app.pdfs import pdf_upload


def test_by_default_the_files_are_on_local_disk_under_media_root(monkeypatch):
    for name in ("DELIVERY_ROOT", "DELIVERY_S3_BUCKET"):
        monkeypatch.delenv(name, raising=False)
    storage = delivery_storage(environ.Env())
    assert storage["BACKEND"] == "django.core.files.storage.FileSystemStorage"
    assert storage["OPTIONS"]["location"] == f"{MEDIA_ROOT}/deliveries"
    assert storage["OPTIONS"]["file_permissions_mode"] == 0o600


def test_delivery_root_moves_them_to_a_shared_folder(monkeypatch):
    monkeypatch.delenv("DELIVERY_S3_BUCKET", raising=False)
    monkeypatch.setenv("DELIVERY_ROOT", "/srv/ill/deliveries")
    assert delivery_storage(environ.Env())["OPTIONS"]["location"] == "/srv/ill/deliveries"


def test_a_bucket_selects_the_s3_compatible_store_with_private_objects(monkeypatch):
    monkeypatch.setenv("DELIVERY_S3_BUCKET", "ill-deliveries")
    monkeypatch.setenv("DELIVERY_S3_ENDPOINT_URL", "https://minio.example.edu.cn")
    monkeypatch.setenv("DELIVERY_S3_ACCESS_KEY", "AKIA-TEST")
    monkeypatch.setenv("DELIVERY_S3_SECRET_KEY", "secret")
    monkeypatch.delenv("DELIVERY_S3_REGION", raising=False)
    storage = delivery_storage(environ.Env())
    assert storage == {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": "ill-deliveries",
            "location": "deliveries",
            "default_acl": "private",
            "querystring_auth": True,
            "file_overwrite": False,
            "endpoint_url": "https://minio.example.edu.cn",
            "access_key": "AKIA-TEST",
            "secret_key": "secret",
        },
    }


@pytest.mark.parametrize("name", ["DELIVERY_MAX_MB", "DELIVERY_DAYS", "DELIVERY_MAX_DOWNLOADS"])
def test_a_limit_below_one_stops_the_start_and_names_it(name):
    result = start(
        DEBUG="false", SECRET_KEY=GOOD_KEY, ALLOWED_HOSTS="ill.example.edu", **{name: "0"}
    )
    assert result.returncode != 0
    assert f"{name} must be 1 or more" in result.stderr


@pytest.mark.django_db
def test_no_address_serves_a_stored_file(client_a, reader_a, staff):
    ill_request = IllRequestFactory(reader=reader_a, status="in_process")
    delivery = delivery_attach(ill_request=ill_request, upload=pdf_upload(), actor=staff)
    for url in (
        f"/{delivery.stored_name}",
        f"/media/{delivery.stored_name}",
        f"/media/deliveries/{delivery.stored_name}",
        f"/var/media/deliveries/{delivery.stored_name}",
    ):
        assert client_a.get(url).status_code == 404
