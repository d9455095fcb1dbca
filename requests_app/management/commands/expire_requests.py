"""End every submitted request whose valid-until date has passed (run it daily, e.g. from cron).

Safe to run twice, or on two machines at once: see `services.request_expire_due`. Works in
batches (one transaction each); prints how many requests it expired, not each number.
"""

from django.core.management.base import BaseCommand
from django.utils import timezone

from requests_app.services import EXPIRY_BATCH, request_expire_due


class Command(BaseCommand):
    help = "Expire submitted requests whose valid-until date has passed, and tell their readers."

    def add_arguments(self, parser):
        parser.add_argument(
            "--batch-size",
            type=int,
            default=EXPIRY_BATCH,
            help=f"requests expired per transaction (default {EXPIRY_BATCH})",
        )

    def handle(self, *args, **options):
        count = len(
            request_expire_due(today=timezone.localdate(), batch_size=max(1, options["batch_size"]))
        )
        if count:
            self.stdout.write(f"Expired {count} request(s); their readers are told by e-mail.")
        else:
            self.stdout.write("No request was due to expire.")
