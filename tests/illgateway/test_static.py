"""Production static files: collected, hashed and served by WhiteNoise, no CDN."""

import pytest
from django.core.management import call_command

pytestmark = pytest.mark.django_db


def test_collected_static_files_are_hashed_and_every_page_finds_them(settings, tmp_path, client):
    settings.STATIC_ROOT = tmp_path
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
    }
    call_command("collectstatic", interactive=False, verbosity=0)
    content = client.get("/").content.decode()
    # A missing file would raise here instead: the manifest knows every file a page names.
    assert "/static/css/gateway." in content and ".css" in content
    assert "/static/css/gateway.css" not in content  # the hashed name, cacheable for ever
    assert "http://" not in content.split("<body")[0]  # nothing loaded from elsewhere
