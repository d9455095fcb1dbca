"""`manage.py public_account`: create, rename, rotate, disable or enable the public account."""

from django.core.management.base import BaseCommand, CommandError

from accounts.models import PublicAccount
from accounts.public import (
    DEFAULT_PASSWORD,
    DEFAULT_USERNAME,
    PublicAccountError,
    public_account_change,
    public_account_create,
)


class Command(BaseCommand):
    help = (
        "The public account (公用账号) private individuals log in with. Without options: create "
        f"it as {DEFAULT_USERNAME} / {DEFAULT_PASSWORD} (as the reader guide documents), or show "
        "it if it exists."
    )

    def add_arguments(self, parser):
        parser.add_argument("--username", help="the login name when creating it")
        parser.add_argument("--rename", metavar="USERNAME", help="give it a new login name")
        parser.add_argument(
            "--password", help="its password (creating) or a new one, which ends all guest sessions"
        )
        shown = parser.add_mutually_exclusive_group()
        shown.add_argument(
            "--unpublished",
            action="store_true",
            help="do not show the password on the login page (say: ask the ILL office)",
        )
        shown.add_argument(
            "--published", action="store_true", help="show the password on the login page"
        )
        state = parser.add_mutually_exclusive_group()
        state.add_argument(
            "--disable", action="store_true", help="refuse logins with it and end its sessions"
        )
        state.add_argument("--enable", action="store_true", help="allow logins with it again")

    def handle(self, *args, **options):
        publish = True if options["published"] else False if options["unpublished"] else None
        changes = {
            "username": options["rename"],
            "password": options["password"],
            "publish": publish,
            "active": True if options["enable"] else False if options["disable"] else None,
        }
        try:
            if not PublicAccount.objects.exists():
                if options["rename"] or options["enable"] or options["disable"]:
                    raise PublicAccountError("There is no public account yet; create it first.")
                account = public_account_create(
                    username=options["username"] or DEFAULT_USERNAME,
                    password=options["password"] or DEFAULT_PASSWORD,
                    publish=publish is not False,
                )
                self.stdout.write(self.style.SUCCESS(f"Public account created: {account}"))
            elif options["username"]:
                raise PublicAccountError(
                    "The public account exists already; use --rename to change its name."
                )
            elif any(value is not None for value in changes.values()):
                account = public_account_change(**changes)
                self.stdout.write(self.style.SUCCESS(f"Public account changed: {account}"))
            else:
                account = PublicAccount.objects.select_related("user").get()
        except PublicAccountError as exc:
            raise CommandError(str(exc)) from None
        state = "enabled" if account.user.is_active else "disabled"
        shown = "shown" if account.published_password else "not shown"
        self.stdout.write(
            f"Public account {account.user.username!r}: {state}; "
            f"password {shown} on the login page."
        )
