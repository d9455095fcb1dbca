"""End every submitted request whose valid-until date has passed (run it daily, e.g. from cron).

Safe to run twice, or on two machines at once: see `services.request_expire_due`.
"""

from django.core.management.base import BaseCommand
from django.utils import timezone

from requests_app.services import request_expire_due


class Command(BaseCommand):
    help = "Expire submitted requests whose valid-until date has passed, and tell their readers."

    def handle(self, *args, **options):
        numbers = request_expire_due(today=timezone.localdate())
        if numbers:
            self.stdout.write(
                f"Expired {len(numbers)} request(s): {', '.join(str(n) for n in numbers)}"
            )
        else:
            self.stdout.write("No request was due to expire.")
