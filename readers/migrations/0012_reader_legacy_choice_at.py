"""Readers answer the old-account question once (SPEC 3, issue 11).

The column is added empty, so every reader who exists now is asked at their next entry; from
then on a new reader has answered it by registering (the default, the time of registration).
Readers who already linked an old account are marked answered by accounts 0011.
"""

import django.utils.timezone
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("readers", "0011_changelist_indexes")]

    operations = [
        migrations.AddField(
            model_name="reader",
            name="legacy_choice_at",
            field=models.DateTimeField(
                blank=True, null=True, verbose_name="answered the old-account question"
            ),
        ),
        migrations.AlterField(
            model_name="reader",
            name="legacy_choice_at",
            field=models.DateTimeField(
                blank=True,
                default=django.utils.timezone.now,
                null=True,
                verbose_name="answered the old-account question",
            ),
        ),
    ]
