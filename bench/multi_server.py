#!/usr/bin/env python3
"""Two application servers, one e-mail worker, one PostgreSQL: does anything get lost?

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/gw_multi .venv/bin/python bench/multi_server.py

Re-creates the database of DATABASE_URL (it must be a scratch database: it is dropped), collects
the static files into a temporary folder, and starts on loopback, as production runs them
(deploy/gunicorn.conf.py, DEBUG off, e-mails through the database queue):

- two gunicorn servers, A and B, each with --workers workers;
- one `manage.py db_worker`, whose e-mails go to files (Django's file backend);

then --readers readers, each in a thread of its own with its own browser-like session, go through
the servers in turn as a load balancer would send them (the board, log in, the request form,
submit, the list, a request's page; a second thread tries wrong passwords for one account on
both servers). Once a third of the submissions are made, A is stopped (SIGTERM: it finishes
what it serves) and one of B's worker processes is killed (SIGKILL: its request in flight is
lost, gunicorn starts another). A reader whose server went away mid-submission sends the same
form again, as a person would, to the server left.

It then checks, in the database and the mail folder, and exits non-zero on any failure:

- every submission a reader made is stored exactly once (the form's one-time token), with a
  number of its own;
- every stored request's confirmation e-mail was sent exactly once, and no other e-mail;
- the survivor B kept serving after the stop and the kill (and /healthz says ok);
- sessions, CSRF and the login throttle are shared: a reader logged in through A goes on
  through B, and wrong passwords counted on both servers lock the account on either.

Prints a JSON summary. tests/deploy/test_multi_server.py runs it at a small scale.
"""

import argparse
import email
import email.policy
import http.cookiejar
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PY = sys.executable
PASSWORD = "multi-server-password-1"
LOCKED = "Too many failed login attempts"

SETUP_READERS = """
from django.contrib.auth import get_user_model
from django.utils import timezone
from readers.models import IdType, Reader, ReaderStatus, ReaderType
for i in range(%d):
    user = get_user_model().objects.create_user(
        f"multi{i}", f"multi{i}@example.org", "%s"
    )
    Reader.objects.create(
        user=user, reader_type=ReaderType.OFF_CAMPUS, status=ReaderStatus.CONFIRMED,
        name=f"读者 {i}", email=user.email, id_type=IdType.LIBRARY_CARD,
        id_number=f"M{i:06d}", phone="010-62780000", address="北京市海淀区",
        postal_code="100084", institution="Example University", language="en",
        decided_at=timezone.now(),
    )
"""

RESULTS = """
import json
from django.db.models import Count
from django_tasks_db.models import DBTaskResult
from requests_app.models import IllRequest
rows = list(IllRequest.objects.values("number", "article_title", "submission_token",
                                      "reader__user__username"))
pending = DBTaskResult.objects.exclude(status__in=["SUCCESSFUL", "FAILED"]).count()
failed = DBTaskResult.objects.filter(status="FAILED").count()
print(json.dumps({"requests": rows, "pending_tasks": pending, "failed_tasks": failed}))
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


class Browser:
    """A person's browser: cookies, the CSRF token of the last form, no redirects followed."""

    def __init__(self):
        self.jar = http.cookiejar.CookieJar()

        class NoRedirect(urllib.request.HTTPRedirectHandler):
            def redirect_request(self, *args, **kwargs):
                return None

        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(self.jar), NoRedirect
        )

    def send(self, url, data=None, referer=None):
        body = urllib.parse.urlencode(data).encode() if data is not None else None
        request = urllib.request.Request(url, data=body)
        request.add_header("Accept-Language", "en")
        # One host name for every server, as behind the load balancer (nginx passes `$host`,
        # without a port): allauth's per-account login lock is keyed by it.
        request.add_header("Host", "localhost")
        if referer:
            request.add_header("Referer", referer)
        try:
            with self.opener.open(request, timeout=30) as response:
                return response.status, response.read().decode(), response.headers
        except urllib.error.HTTPError as error:
            return error.code, error.read().decode(errors="replace"), error.headers


def hidden(page: str, name: str) -> str:
    match = re.search(rf'name="{name}" value="([^"]*)"', page)
    if not match:
        raise RuntimeError(f"no {name} in the page")
    return match.group(1)


class Cluster:
    """The servers' addresses and which of them are up, as the load balancer sees it."""

    def __init__(self, servers: dict[str, str]):
        self.servers = dict(servers)
        self.down: set[str] = set()
        self.turn = 0
        self.lock = threading.Lock()
        self.served_after_stop: dict[str, int] = {name: 0 for name in servers}
        self.stopped_at: float | None = None
        self.errors: list[str] = []
        self.status_5xx = 0
        self.resent = 0

    def next_server(self) -> tuple[str, str]:
        with self.lock:
            up = [name for name in self.servers if name not in self.down]
            self.turn += 1
            name = up[self.turn % len(up)]
            return name, self.servers[name]

    def call(self, browser: Browser, path: str, data=None, attempts=4):
        """One request through the balancer: a server that does not answer is taken out, and
        the request goes to another (what a reader pressing the button again does)."""
        for _ in range(attempts):
            name, base = self.next_server()
            try:
                status, page, headers = browser.send(base + path, data, referer=base + path)
            except (ConnectionError, urllib.error.URLError, TimeoutError, OSError) as exc:
                refused = isinstance(getattr(exc, "reason", exc), ConnectionRefusedError)
                with self.lock:
                    self.resent += 1
                    if refused:
                        self.down.add(name)
                time.sleep(0.2)
                continue
            if status == 502 or status >= 500:
                with self.lock:
                    self.status_5xx += 1
                    self.errors.append(f"{status} from {name} for {path}")
                continue
            with self.lock:
                if self.stopped_at is not None:
                    self.served_after_stop[name] += 1
            return status, page, headers
        raise RuntimeError(f"no server answered {path}")


def reader_journey(cluster: Cluster, index: int, submissions: int, made: list, progress):
    browser = Browser()
    username = f"multi{index}"
    status, page, _ = cluster.call(browser, "/")
    status, page, _ = cluster.call(browser, "/accounts/login/")
    status, page, headers = cluster.call(
        browser,
        "/accounts/login/",
        {
            "csrfmiddlewaretoken": hidden(page, "csrfmiddlewaretoken"),
            "login": username,
            "password": PASSWORD,
        },
    )
    if status != 302:
        raise RuntimeError(f"{username} could not log in: {status}")
    for n in range(submissions):
        # The form from one server, the submission to the next: the session, the CSRF token
        # and the form's one-time token work on every server.
        status, page, _ = cluster.call(browser, "/requests/new/")
        if status != 200:
            raise RuntimeError(f"{username}: the form answered {status}")
        title = f"Multi-server article {username} #{n}"
        form = {
            "csrfmiddlewaretoken": hidden(page, "csrfmiddlewaretoken"),
            "token": hidden(page, "token"),
            "service_type": "copy",
            "document_type": "journal_article",
            "publication_title": "Interlending & Document Supply",
            "volume_issue": "32(2)",
            "article_title": title,
            "year": "2004",
            "pages": "94-101",
            "language": "English",
            "delivery_method": "email",
            "contact_method": "email",
            "max_cost": "0",
            "urgency": "normal",
            "contact_name": f"读者 {index}",
            "contact_postal_code": "100084",
            "contact_email": f"{username}@example.org",
            "contact_phone": "010-62780000",
            "confirm_duplicate": "1",
        }
        status, page, headers = cluster.call(browser, "/requests/new/", form)
        if status != 302 or not re.match(r".*/requests/\d+/$", headers.get("Location", "")):
            raise RuntimeError(f"{username}: submitting answered {status}: {page[:300]}")
        with cluster.lock:
            made.append({"username": username, "title": title, "token": form["token"]})
        progress()
        cluster.call(browser, "/requests/")
        cluster.call(browser, urllib.parse.urlparse(headers["Location"]).path)


def wrong_passwords(servers: dict[str, str]) -> list:
    """Five wrong passwords for one account, three on A and two on B, lock it on both: the
    throttle counts in the shared cache, not in a server's memory."""
    browser = Browser()

    def attempt(base, password):
        status, page, _ = browser.send(base + "/accounts/login/")
        if status != 200:  # already logged in: the last attempt was let in
            return status, page, None
        data = {
            "csrfmiddlewaretoken": hidden(page, "csrfmiddlewaretoken"),
            "login": "throttled",
            "password": password,
        }
        return browser.send(base + "/accounts/login/", data, referer=base + "/accounts/login/")

    seen = []
    for base in [servers["A"]] * 3 + [servers["B"]] * 2:
        status, page, _ = attempt(base, "wrong-password")
        seen.append((status, LOCKED in page))
    # Now even the right password is refused, on either server.
    for base in servers.values():
        status, page, _ = attempt(base, PASSWORD)
        seen.append((status, LOCKED in page))
    return seen


def read_mails(folder: Path) -> list:
    messages = []
    for path in sorted(folder.iterdir()):
        text = path.read_text(encoding="utf-8", errors="replace")
        for chunk in text.split("-" * 79 + "\n"):
            if chunk.strip():
                messages.append(email.message_from_string(chunk, policy=email.policy.default))
    return messages


def children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid:
                found.append(int(entry.name))
    return found


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--readers", type=int, default=8)
    parser.add_argument("--submissions", type=int, default=6, help="per reader")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers per server")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder")
    args = parser.parse_args()

    database_url = os.environ.get("DATABASE_URL", "")
    if not database_url.startswith(("postgres://", "postgresql://")):
        raise SystemExit("DATABASE_URL must name a scratch PostgreSQL database (it is dropped)")
    parsed = urllib.parse.urlparse(database_url)
    dbname = parsed.path.lstrip("/")
    admin_url = parsed._replace(path="/postgres").geturl()

    work = Path(tempfile.mkdtemp(prefix="multi-server-"))
    mail_dir = work / "mail"
    mail_dir.mkdir()
    env = {
        "PATH": os.environ.get("PATH", ""),
        "DEBUG": "false",
        "SECRET_KEY": "multi-server-secret-key-0123456789-abcdefghijklmnopqrstuv",
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "DATABASE_URL": database_url,
        "CONN_MAX_AGE": "60",
        "SECURE_COOKIES": "false",
        # Four slashes: django-environ drops the first of the path's.
        "EMAIL_URL": f"filemail:///{mail_dir}",
        "TASKS_BACKEND": "django_tasks_db.DatabaseBackend",
        "STATIC_ROOT": str(work / "static"),
        "LOG_FORMAT": "json",
        "LOG_LEVEL": "WARNING",
        "LOGIN_FAILED_RATE": "100/5m/ip,5/5m/key",
    }
    processes: dict[str, subprocess.Popen] = {}
    logs = {}

    def manage(*command, check=True):
        return subprocess.run(
            [PY, "manage.py", *command],
            cwd=ROOT,
            env=env,
            check=check,
            capture_output=True,
            text=True,
        )

    def start(name, command, extra=None):
        logs[name] = open(work / f"{name}.log", "w")  # noqa: SIM115 (closed at the end)
        processes[name] = subprocess.Popen(
            command,
            cwd=ROOT,
            env={**env, **(extra or {})},
            stdout=logs[name],
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    summary = {"ok": False}
    try:
        log(f"re-creating {dbname}, migrating, collecting static files in {work}")
        import psycopg2  # the project's own driver

        connection = psycopg2.connect(admin_url)
        connection.autocommit = True
        with connection.cursor() as cursor:
            cursor.execute(f'DROP DATABASE IF EXISTS "{dbname}" WITH (FORCE)')
            cursor.execute(f'CREATE DATABASE "{dbname}"')
        connection.close()
        manage("migrate", "--no-input", "-v0")
        manage("createcachetable")
        manage("collectstatic", "--no-input", "-v0")
        manage("shell", "-c", SETUP_READERS % (args.readers, PASSWORD))

        ports = {"A": free_port(), "B": free_port()}
        for name, port in ports.items():
            start(
                name,
                [
                    str(Path(PY).parent / "gunicorn"),
                    "-c",
                    "deploy/gunicorn.conf.py",
                    "illgateway.wsgi",
                ],
                {"GUNICORN_BIND": f"127.0.0.1:{port}", "GUNICORN_WORKERS": str(args.workers)},
            )
        start("worker", [PY, "manage.py", "db_worker", "--no-reload", "--interval", "0.5"])
        cluster = Cluster({name: f"http://127.0.0.1:{port}" for name, port in ports.items()})
        deadline = time.monotonic() + 60
        for base in cluster.servers.values():
            while True:
                try:
                    status, body, _ = Browser().send(base + "/healthz")
                    if status == 200:
                        break
                except OSError:
                    pass
                if time.monotonic() > deadline:
                    raise RuntimeError(f"{base} did not become healthy")
                time.sleep(0.3)
        log(f"servers A and B up on {ports}, worker running; traffic starts")

        made: list = []
        total = args.readers * args.submissions
        stop_after = max(1, total // 3)
        stopped = threading.Event()
        killed: dict = {}

        def progress():
            if len(made) >= stop_after and not stopped.is_set():
                stopped.set()
                threading.Thread(target=stop_and_kill, daemon=True).start()

        def stop_and_kill():
            with cluster.lock:
                cluster.stopped_at = time.monotonic()
            log(f"{len(made)} submissions made: SIGTERM to server A")
            processes["A"].send_signal(signal.SIGTERM)
            workers_b = children(processes["B"].pid)
            if workers_b:
                killed["pid"] = workers_b[0]
                log(f"SIGKILL to B's worker process {workers_b[0]}")
                os.kill(workers_b[0], signal.SIGKILL)

        failures: list = []

        def run(index):
            try:
                reader_journey(cluster, index, args.submissions, made, progress)
            except Exception as exc:  # noqa: BLE001 (reported below)
                failures.append(f"reader {index}: {exc}")

        # The account the wrong passwords are for: it exists, so the lock is per account.
        manage(
            "shell",
            "-c",
            "from django.contrib.auth import get_user_model; "
            f"get_user_model().objects.create_user('throttled', 't@example.org', '{PASSWORD}')",
        )
        throttle_shared = wrong_passwords(cluster.servers)
        threads = [threading.Thread(target=run, args=(i,)) for i in range(args.readers)]
        started = time.monotonic()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=600)
        elapsed = time.monotonic() - started
        a_exit = processes["A"].wait(timeout=60)
        log(f"traffic done in {elapsed:.1f} s; A exited with {a_exit}; waiting for the e-mails")

        deadline = time.monotonic() + 120
        while True:
            results = json.loads(manage("shell", "-c", RESULTS).stdout.strip().splitlines()[-1])
            if results["pending_tasks"] == 0 or time.monotonic() > deadline:
                break
            time.sleep(0.5)
        status_b, health_b, _ = Browser().send(cluster.servers["B"] + "/healthz")

        # --- The checks ---------------------------------------------------------------------
        stored = results["requests"]
        by_title: dict = {}
        for row in stored:
            by_title.setdefault(row["article_title"], []).append(row)
        lost = [m["title"] for m in made if m["title"] not in by_title]
        duplicated = [t for t, rows in by_title.items() if len(rows) > 1]
        unasked = [t for t in by_title if t not in {m["title"] for m in made}]
        mails = read_mails(mail_dir)
        confirmations: dict = {}
        for message in mails:
            match = re.search(r"Request (\d+) received", message["Subject"] or "")
            key = (message["To"], match.group(1) if match else message["Subject"])
            confirmations[key] = confirmations.get(key, 0) + 1
        expected = {
            (f"{r['reader__user__username']}@example.org", str(r["number"])) for r in stored
        }
        mail_missing = sorted(expected - set(confirmations))
        mail_twice = sorted(k for k, count in confirmations.items() if count > 1)
        mail_unexpected = sorted(set(confirmations) - expected)
        summary = {
            "readers": args.readers,
            "submissions_made": len(made),
            "submissions_planned": total,
            "requests_stored": len(stored),
            "lost": lost,
            "duplicated": duplicated,
            "stored_but_never_submitted": unasked,
            "numbers_unique": len({r["number"] for r in stored}) == len(stored),
            "emails_sent": len(mails),
            "emails_missing": mail_missing,
            "emails_sent_twice": mail_twice,
            "emails_unexpected": mail_unexpected,
            "failed_tasks": results["failed_tasks"],
            "pending_tasks": results["pending_tasks"],
            "server_a_stopped_cleanly": a_exit == 0,
            "b_worker_killed": killed.get("pid"),
            "served_after_the_stop": cluster.served_after_stop,
            "survivor_healthz": status_b,
            "login_throttle_shared": throttle_shared
            == [(200, False)] * 5 + [(200, True)] * len(cluster.servers),
            "login_attempts": throttle_shared,
            "responses_5xx": cluster.status_5xx,
            "requests_resent_after_a_lost_connection": cluster.resent,
            "reader_failures": failures,
            "seconds": round(elapsed, 1),
        }
        summary["ok"] = (
            len(made) == total
            and not failures
            and not lost
            and not duplicated
            and not unasked
            and summary["numbers_unique"]
            and not mail_missing
            and not mail_twice
            and not mail_unexpected
            and results["failed_tasks"] == 0
            and results["pending_tasks"] == 0
            and a_exit == 0
            and "pid" in killed
            and cluster.served_after_stop["B"] > 0
            and status_b == 200
            and summary["login_throttle_shared"]
        )
    except Exception as exc:
        summary["error"] = repr(exc)
        raise
    finally:
        for process in processes.values():
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in processes.values():
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
        for handle in logs.values():
            handle.close()
        if not summary.get("ok"):
            for name in logs:
                tail = (work / f"{name}.log").read_text(errors="replace")[-3000:]
                log(f"--- {name}.log (end) ---\n{tail}")
        if args.keep or not summary.get("ok"):
            log(f"kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
        print(json.dumps(summary, ensure_ascii=False, indent=2))
    return 0 if summary["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
