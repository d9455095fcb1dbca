"""manage.py sync_federation: the IdPs of a federation's signed metadata aggregate."""

import urllib.request

from django.core.cache import cache
from django.core.management.base import BaseCommand, CommandError

from accounts.federation import FederationMetadataError, read_aggregate, sync

LOCK_SECONDS = 15 * 60


class Command(BaseCommand):
    help = (
        "Verify a federation's signed metadata aggregate and keep one SAML identity provider "
        "per IdP in it (created, updated, or disabled when it left). Safe to rerun and schedule."
    )

    def add_arguments(self, parser):
        source = parser.add_mutually_exclusive_group(required=True)
        source.add_argument("--metadata-url", help="where the federation publishes the aggregate")
        source.add_argument("--file", help="the aggregate, downloaded")
        parser.add_argument(
            "--cert", required=True, help="the federation's metadata signing certificate (PEM)"
        )
        parser.add_argument(
            "--federation", default="carsi", help="a name for this federation (default: carsi)"
        )
        parser.add_argument("--timeout", type=int, default=60)

    def handle(self, *args, metadata_url=None, file=None, cert, federation, timeout, **options):
        try:
            with open(cert, encoding="ascii") as pem:
                certificate = pem.read()
        except (OSError, UnicodeDecodeError) as exc:
            raise CommandError(f"--cert {cert}: {exc}") from exc
        try:
            if file:
                with open(file, "rb") as aggregate:
                    xml = aggregate.read()
            else:
                if not metadata_url.startswith(("https://", "http://")):
                    raise ValueError("an http(s) address is needed")
                with urllib.request.urlopen(metadata_url, timeout=timeout) as response:  # noqa: S310
                    xml = response.read()
        except (OSError, ValueError) as exc:
            raise CommandError(f"{file or metadata_url} cannot be read: {exc}") from exc
        try:
            idps = read_aggregate(xml, certificate)
        except FederationMetadataError as exc:
            raise CommandError(f"The aggregate is refused, nothing was changed: {exc}") from exc
        # Two runs at once (an overlapping schedule) would both add a new IdP: one at a time.
        lock = f"sync_federation:{federation}"
        if not cache.add(lock, "running", timeout=LOCK_SECONDS):
            raise CommandError(
                f"Another sync_federation for {federation!r} is running; nothing was changed "
                f"(if it crashed, the lock ends by itself within {LOCK_SECONDS // 60} minutes)."
            )
        try:
            result = sync(federation, idps)
        finally:
            cache.delete(lock)
        self.stdout.write(
            f"{federation}: {len(idps)} identity providers in the aggregate; "
            f"{result.added} added, {result.updated} updated, {result.unchanged} unchanged, "
            f"{result.disabled} disabled (left the federation)"
        )
