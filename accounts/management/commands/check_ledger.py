"""`manage.py check_ledger`: prove that every cached balance is the sum of its ledger entries."""

from django.core.management.base import BaseCommand, CommandError

from accounts.ledger import ledger_check
from accounts.models import LedgerEntry


class Command(BaseCommand):
    help = (
        "Check the prepaid ledger: each reader's cached balance equals the sum of their entries, "
        "each entry's balance-after follows from the ones before, reference numbers have no gaps."
    )

    def handle(self, *args, **options):
        problems = ledger_check()
        for problem in problems:
            self.stderr.write(problem)
        if problems:
            raise CommandError(f"The ledger has {len(problems)} problem(s); see above.")
        count = LedgerEntry.objects.count()
        self.stdout.write(self.style.SUCCESS(f"Ledger OK: {count} entries, every balance agrees."))
