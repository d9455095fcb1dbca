"""On PostgreSQL the database itself refuses to change or delete a ledger entry.

The model refuses in Python (`save()`, `update()`, `delete()`); this trigger also stops a stray
`UPDATE` or `DELETE` typed in psql or sent by another program. An operator corrects a mistake
with a reversing adjustment (README, "Operators"). SQLite, for development, has only the
Python guard.
"""

from django.db import migrations

CREATE = """
CREATE FUNCTION accounts_ledgerentry_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'ledger entry % cannot be changed or deleted: the ledger is append-only; '
        'correct a mistake with a reversing adjustment', OLD.number
        USING ERRCODE = 'integrity_constraint_violation';
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER accounts_ledgerentry_append_only
    BEFORE UPDATE OR DELETE ON accounts_ledgerentry
    FOR EACH ROW EXECUTE FUNCTION accounts_ledgerentry_append_only();
"""

DROP = """
DROP TRIGGER IF EXISTS accounts_ledgerentry_append_only ON accounts_ledgerentry;
DROP FUNCTION IF EXISTS accounts_ledgerentry_append_only();
"""


def create(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE, params=None)


def drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP, params=None)


class Migration(migrations.Migration):
    dependencies = [("accounts", "0002_prepaid_ledger")]

    operations = [migrations.RunPython(create, drop)]
