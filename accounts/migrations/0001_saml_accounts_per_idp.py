"""Campus accounts of SAML identity providers move into their IdP's own namespace.

Before, every SAML account was stored with provider "saml", so the same NameID at two IdPs
was one account. Each SAML IdP now has its own provider id (its "id" in SAML_PROVIDERS);
the accounts stored before must be given the id of the IdP they came from. That is certain
only when one SAML IdP is configured; with several, the migration stops and says what to do.
"""

import os

from django.conf import settings
from django.db import migrations

LEGACY_VARIABLE = "SAML_LEGACY_PROVIDER"


class LegacySamlAccountsError(RuntimeError):
    pass


def configured_saml_ids(apps) -> list[str]:
    ids = [
        app.get("provider_id") or app["client_id"]
        for app in settings.SOCIALACCOUNT_PROVIDERS.get("saml", {}).get("APPS", [])
    ]
    SocialApp = apps.get_model("socialaccount", "SocialApp")
    ids += SocialApp.objects.filter(provider="saml").exclude(provider_id="").values_list(
        "provider_id", flat=True
    )
    return sorted(set(ids))


def move_saml_accounts(apps, schema_editor=None):
    SocialAccount = apps.get_model("socialaccount", "SocialAccount")
    legacy = SocialAccount.objects.filter(provider="saml")
    count = legacy.count()
    if not count:
        return
    ids = configured_saml_ids(apps)
    chosen = os.environ.get(LEGACY_VARIABLE, "").strip()
    if chosen:
        if chosen not in ids:
            raise LegacySamlAccountsError(
                f"{LEGACY_VARIABLE}={chosen!r} is not a configured SAML identity provider "
                f"(configured: {', '.join(ids) or 'none'})."
            )
    elif len(ids) == 1:
        chosen = ids[0]
    elif not ids:
        raise LegacySamlAccountsError(
            f"{count} campus account(s) came from a SAML identity provider, but SAML_PROVIDERS "
            "names none. Configure the identity provider they came from in SAML_PROVIDERS "
            "(with the id it had before) and run migrate again."
        )
    else:
        raise LegacySamlAccountsError(
            f"{count} campus account(s) came from a SAML identity provider, but several are "
            f"configured ({', '.join(ids)}) and the accounts do not say which one. Set "
            f"{LEGACY_VARIABLE} to the id of the identity provider that was configured when they "
            "registered (before this upgrade, the gateway could only use one SAML IdP safely) "
            "and run migrate again, e.g. "
            f"{LEGACY_VARIABLE}={ids[0]} python manage.py migrate"
        )
    legacy.update(provider=chosen)


class Migration(migrations.Migration):
    dependencies = [("socialaccount", "0006_alter_socialaccount_extra_data")]

    operations = [migrations.RunPython(move_saml_accounts, migrations.RunPython.noop)]
