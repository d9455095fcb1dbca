"""What is left on an old account is derived from its ledger entries (0009): the mark goes."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("accounts", "0009_transfer_pairs_for_moved_balances")]

    operations = [
        migrations.RemoveField(model_name="legacyaccount", name="balance_moved_at"),
    ]
