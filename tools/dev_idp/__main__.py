"""Run the development OpenID Connect provider: `python -m tools.dev_idp --port 8001`.

Migrates its SQLite database, creates (or updates) the gateway's client and the demo identities,
then serves on one port until stopped. It prints `Listening on http://HOST:PORT` once the port is
bound (with `--port 0`, the port the system picked), which the tests wait for.
"""

import argparse
import contextlib
import logging
import os
import sys
import threading


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tools.dev_idp",
        description="Development OpenID Connect provider of the ILL Reader Gateway. "
        "Not for production: anyone who reaches it signs in as any demo identity.",
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (%(default)s)")
    parser.add_argument("--port", type=int, default=8001, help="port, 0 for any (%(default)s)")
    parser.add_argument("--db", help="SQLite database (default: var/dev_idp.sqlite3)")
    parser.add_argument("--client-id", default="ill-gateway-dev", help="(%(default)s)")
    parser.add_argument("--client-secret", default="dev-secret", help="(%(default)s)")
    parser.add_argument(
        "--redirect-uri",
        action="append",
        required=True,
        help="the gateway's callback, e.g. http://127.0.0.1:8000/accounts/oidc/campus/login/"
        "callback/ (repeatable; on 127.0.0.1 any port matches)",
    )
    parser.add_argument(
        "--token-auth-method",
        action="append",
        choices=["client_secret_basic", "client_secret_post"],
        help="how the gateway may authenticate at the token endpoint (repeatable; default both)",
    )
    parser.add_argument(
        "--exit-with-stdin",
        action="store_true",
        help="stop when standard input closes (the tests' pipe: no IdP outlives its test run)",
    )
    parser.add_argument("--quiet", action="store_true", help="do not log each request")
    args = parser.parse_args(argv)

    # This process is the IdP only, whatever the caller's environment says.
    os.environ["DJANGO_SETTINGS_MODULE"] = "tools.dev_idp.settings"
    if args.db:
        os.environ["DEV_IDP_DB"] = args.db
    if args.token_auth_method:
        os.environ["DEV_IDP_TOKEN_AUTH_METHODS"] = " ".join(args.token_auth_method)

    import django
    from django.core.management import call_command
    from django.core.servers.basehttp import run
    from django.core.wsgi import get_wsgi_application

    django.setup()
    from django.conf import settings

    settings.DATABASES["default"]["NAME"].parent.mkdir(parents=True, exist_ok=True)
    call_command("migrate", verbosity=0, interactive=False)

    from tools.dev_idp.identities import DEMO_IDENTITIES
    from tools.dev_idp.setup import dev_idp_setup

    dev_idp_setup(
        client_id=args.client_id, secret=args.client_secret, redirect_uris=args.redirect_uri
    )

    def on_bind(port: int) -> None:
        identities = "\n".join(f"    {i.sub:34}  {i.label}" for i in DEMO_IDENTITIES)
        print(
            "Development OpenID Connect provider (NOT for production)\n"
            f"  client_id {args.client_id}, secret {args.client_secret}\n"
            f"  redirect URIs: {' '.join(args.redirect_uri)}\n"
            f"  identities:\n{identities}\n"
            f"Listening on http://{args.host}:{port}",
            flush=True,
        )

    if args.exit_with_stdin:
        threading.Thread(target=_exit_at_end_of_stdin, daemon=True).start()
    application = get_wsgi_application()
    if args.quiet:  # after get_wsgi_application(), which configures logging again
        logging.getLogger("django.server").setLevel(logging.WARNING)
    with contextlib.suppress(KeyboardInterrupt):
        run(args.host, args.port, application, threading=True, on_bind=on_bind)
    return 0


def _exit_at_end_of_stdin() -> None:
    while sys.stdin.buffer.read(4096):
        pass
    os._exit(0)


if __name__ == "__main__":
    sys.exit(main())
