"""A reader who already linked or attached an old account has answered the question (SPEC 3)."""

from django.db import migrations
from django.db.models import Min, OuterRef, Subquery


def mark_linked_readers(apps, schema_editor):
    Reader = apps.get_model("readers", "Reader")
    LegacyAccount = apps.get_model("accounts", "LegacyAccount")
    first_link = (
        LegacyAccount.objects.filter(reader=OuterRef("pk"))
        .order_by()
        .values("reader")
        .annotate(first=Min("linked_at"))
        .values("first")
    )
    Reader.objects.filter(legacy_choice_at__isnull=True, legacy_accounts__isnull=False).update(
        legacy_choice_at=Subquery(first_link)
    )


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0010_remove_legacyaccount_balance_moved_at"),
        ("readers", "0012_reader_legacy_choice_at"),
    ]

    operations = [migrations.RunPython(mark_linked_readers, migrations.RunPython.noop)]
