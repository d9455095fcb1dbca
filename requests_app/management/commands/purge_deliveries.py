"""Remove delivered files whose download period ended or whose downloads are used up (run it
daily, e.g. from cron, beside expire_requests).

Safe to run twice, or on two machines at once: see `delivery.delivery_purge`.
"""

from django.core.management.base import BaseCommand

from requests_app.delivery import delivery_purge


class Command(BaseCommand):
    help = "Remove delivered PDFs that may no longer be downloaded (expired or used up)."

    def handle(self, *args, **options):
        removed = delivery_purge()
        if removed:
            self.stdout.write(f"Removed {removed} delivered file(s).")
        else:
            self.stdout.write("No delivered file was due for removal.")
