"""Import the old ILL system's export: `manage.py import_legacy --accounts FILE --requests FILE`.

The work is `requests_app.legacy_import`; this command reads the options, shows progress and
writes the summary and the rejects file. README, "Importing the old system", is the guide.
"""

import csv
import os
import sys

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from requests_app.legacy_copy import CopyLegacyImport
from requests_app.legacy_import import ImportFileError, detect_encoding


class Command(BaseCommand):
    help = "Import accounts and requests exported from the old ILL system (legacy/FORMAT.md)."

    def add_arguments(self, parser):
        parser.add_argument("--accounts", help="accounts.csv of the export")
        parser.add_argument("--requests", help="requests.csv of the export")
        parser.add_argument(
            "--encoding",
            choices=["utf-8-sig", "utf-8", "gb18030"],
            help="the files' encoding; detected when not given (UTF-8 with BOM, else GB18030)",
        )
        parser.add_argument(
            "--dry-run", action="store_true", help="read, check and count; write nothing"
        )
        parser.add_argument(
            "--rejects", help="write every rejected row here (CSV: file, line, reason)"
        )
        parser.add_argument(
            "--batch-size",
            type=int,
            help="rows per transaction (default: 1,000 row by row, 200,000 set-based)",
        )

    def handle(self, *args, **options):
        if not options["accounts"] and not options["requests"]:
            raise CommandError("Give --accounts FILE, --requests FILE or both.")
        for key in ("accounts", "requests"):
            if options[key] and not os.path.isfile(options[key]):
                raise CommandError(f"--{key}: no file {options[key]}")
        if options["batch_size"] is not None and options["batch_size"] < 1:
            raise CommandError("--batch-size must be at least 1.")
        run = CopyLegacyImport(dry_run=options["dry_run"], batch_size=options["batch_size"])
        results = []
        for key in ("accounts", "requests"):
            path = options[key]
            if not path:
                continue
            encoding = options["encoding"] or detect_encoding(path)
            self.stdout.write(f"{key}: {path} ({encoding})")
            try:
                with self._progress(path, key) as progress:
                    summary = getattr(run, key)(path, encoding, progress)
            except ImportFileError as error:
                raise CommandError(f"{path}: {error}") from None
            results.append((key, path, summary))
            self.stdout.write(
                f"{key}: created {summary.created}, updated {summary.updated}, "
                f"unchanged {summary.unchanged}, rejected {summary.rejected}"
                + (" (dry run: nothing written)" if options["dry_run"] else "")
            )
            self.stdout.write(f"{key}: written {summary.way}")
        if options["rejects"]:
            with open(options["rejects"], "w", newline="", encoding="utf-8-sig") as handle:
                out = csv.writer(handle)
                out.writerow(["file", "line", "reason"])
                for _key, path, summary in results:
                    for line, reason in summary.rejects:
                        out.writerow([os.path.basename(path), line, reason])
        else:
            for _key, path, summary in results:
                for line, reason in summary.rejects[:20]:
                    self.stderr.write(f"{os.path.basename(path)}:{line}: {reason}")
                if len(summary.rejects) > 20:
                    self.stderr.write(f"… {len(summary.rejects) - 20} more (use --rejects FILE)")

    def _progress(self, path, key):
        return _Progress(os.path.getsize(path), key, self.stdout)


class _Progress:
    """A progress bar on a terminal; a line every 10 % otherwise."""

    def __init__(self, total, label, stdout):
        self.total, self.label, self.stdout = max(total, 1), label, stdout
        self.terminal = sys.stderr.isatty()
        self.bar = None
        self.next_tenth = 1

    def __enter__(self):
        if self.terminal:
            self.bar = tqdm(total=self.total, unit="B", unit_scale=True, desc=self.label)
        return self

    def __call__(self, done):
        if self.bar is not None:
            self.bar.update(done - self.bar.n)
        elif done * 10 >= self.next_tenth * self.total:
            self.next_tenth = done * 10 // self.total + 1
            self.stdout.write(f"{self.label}: {min(done * 100 // self.total, 100)} %")

    def __exit__(self, *exc):
        if self.bar is not None:
            self.bar.close()
        return False
