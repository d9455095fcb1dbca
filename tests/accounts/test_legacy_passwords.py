"""Old passwords are wrapped at import and never stored as they came (SPEC 7, issue 11 item 2)."""

import csv
import hashlib
import json

import pytest
from django.contrib.auth.hashers import check_password, identify_hasher
from django.test import override_settings
from django.utils import timezone

from accounts.hashers import (
    LegacyMD5PasswordHasher,
    LegacyPlainPasswordHasher,
    LegacySHA1PasswordHasher,
    wrap_legacy_password,
)
from accounts.legacy import LegacyAccount, check_legacy_password
from tests.requests_app.test_legacy_import import generate, run_import

pytestmark = pytest.mark.django_db

FORMATS = {
    "PLAIN": lambda clear: "PLAIN:" + clear,
    "MD5": lambda clear: "MD5:" + hashlib.md5(clear.encode()).hexdigest(),
    "SHA1": lambda clear: "SHA1:a1$b:" + hashlib.sha1(("a1$b" + clear).encode()).hexdigest(),
}
HASHERS = {
    "PLAIN": LegacyPlainPasswordHasher,
    "MD5": LegacyMD5PasswordHasher,
    "SHA1": LegacySHA1PasswordHasher,
}


@pytest.mark.parametrize("kind", FORMATS)
def test_each_old_format_is_wrapped_and_checks(kind):
    clear = "pw-1-图书馆 "
    field = FORMATS[kind](clear)
    stored = wrap_legacy_password(field)
    assert isinstance(identify_hasher(stored), HASHERS[kind])
    assert field.split(":")[-1] not in stored
    assert clear.strip() not in stored
    assert check_password(clear, stored)
    assert not check_password(clear.strip(), stored)
    assert not check_password("wrong", stored)


@pytest.mark.parametrize("kind", FORMATS)
def test_the_first_successful_check_upgrades_to_the_default_hasher(kind):
    account = LegacyAccount.objects.create(
        user_id=1,
        username="old-user",
        password=wrap_legacy_password(FORMATS[kind]("secret-9")),
        balance=0,
        status="active",
        created_at=timezone.now(),
    )
    assert not check_legacy_password(account, "secret-8")
    assert identify_hasher(account.password).algorithm == HASHERS[kind].algorithm
    assert check_legacy_password(account, "secret-9")
    account.refresh_from_db()
    assert identify_hasher(account.password).algorithm == "md5"  # tests' default hasher
    assert check_legacy_password(account, "secret-9")


@override_settings(
    PASSWORD_HASHERS=[
        "django.contrib.auth.hashers.PBKDF2PasswordHasher",
        "accounts.hashers.LegacyMD5PasswordHasher",
    ]
)
def test_the_wrappers_work_beside_the_production_default():
    stored = wrap_legacy_password(FORMATS["MD5"]("secret"))
    assert check_password("secret", stored)


def test_no_password_and_unknown_formats():
    assert wrap_legacy_password("") == ""
    assert not check_legacy_password(LegacyAccount(password=""), "")
    for bad in ["MD5:xyz", "SHA1:nohash", "CRYPT:abc", "PLAIN:"]:
        with pytest.raises(ValueError):
            wrap_legacy_password(bad)


def test_after_the_import_every_password_checks_and_none_is_stored_as_it_came(tmp_path):
    generate(tmp_path, accounts=80, requests=5)
    run_import(tmp_path)
    passwords = json.loads((tmp_path / "passwords.json").read_text())
    with open(tmp_path / "accounts.csv", encoding="utf-8-sig", newline="") as handle:
        fields = {row["username"].strip(): row["password"] for row in csv.DictReader(handle)}
    dump = json.dumps(list(LegacyAccount.objects.values()), default=str, ensure_ascii=False)
    kinds = set()
    for username, field in fields.items():
        if not field or not LegacyAccount.objects.filter(username=username).exists():
            continue
        kind, _, secret = field.partition(":")
        kinds.add(kind)
        assert secret.split(":")[-1] not in dump, f"{kind} of {username} stored as it came"
        if kind != "PLAIN":
            assert passwords[username] not in dump
    assert kinds == {"PLAIN", "MD5", "SHA1"}
    for account in LegacyAccount.objects.exclude(password=""):
        assert check_legacy_password(account, passwords[account.username])
    no_password = LegacyAccount.objects.filter(password="")
    assert no_password.exists()
    assert not any(check_legacy_password(a, "") for a in no_password)
