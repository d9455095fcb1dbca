#!/usr/bin/env python3
"""The load test (`make load`): locust's journeys (bench/locustfile.py) against the production
setup on loopback — gunicorn with deploy/gunicorn.conf.py, DEBUG off, PostgreSQL, the e-mail
worker — on the benchmark's data set, and the checks: no answer of 500 or more (no failure at
all), every submission stored exactly once, the 95th percentile per page.

    LOAD_DATABASE_URL=postgres://postgres@127.0.0.1:5432/load_test .venv/bin/python bench/load.py \\
        --locust .venv-load/bin/locust --users 50 --duration 2m

The data set is bench/dataset.py's at --readers/--requests (default: `make bench`'s default
scale, 100,000 readers and 2,000,000 requests). The load test writes (submissions, cancellations,
staff moves), so it runs in a database of its own, LOAD_DATABASE_URL: reused when it holds the
data set at that scale (each run marks its submissions with a run id of its own), else copied
from BENCH_DATABASE_URL's data set (CREATE DATABASE … TEMPLATE, ~20 s at the default scale) when
that one is there and idle, else built there with COPY (a few minutes). --fresh re-creates it.

Readers sign in with sessions made here for --sessions confirmed readers of the data set (their
passwords are unusable, as in `make bench`), staff as the data set's staff account; the login
form is not driven (its throttle would stop 50 people behind one address, as it should).
Prints a table per page and the machine's size, writes load.json and load-stats.csv to --out
(docs/benchmarks), and exits non-zero when a check fails.
"""

import argparse
import csv
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.parse
import uuid
from pathlib import Path

import psycopg2

sys.path.insert(0, str(Path(__file__).resolve().parent))
import dataset  # noqa: E402 (bench's data set: built once per scale, reused)
import multi_server  # noqa: E402 (bench's own helpers: ports, the browser, the health wait)

ROOT = Path(__file__).resolve().parent.parent
PY = sys.executable
DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/load_test"

# Sessions for confirmed readers of the data set (not the two whose lists `make bench`
# measures) and for its staff account, printed as JSON.
SESSIONS = """
import json
from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.contrib.auth import get_user_model
from django.contrib.sessions.backends.db import SessionStore
from readers.models import Reader, ReaderStatus

def session_for(user):
    store = SessionStore()
    store[SESSION_KEY] = str(user.pk)
    store[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    store[HASH_SESSION_KEY] = user.get_session_auth_hash()
    store.create()
    return store.session_key

readers = (Reader.objects.filter(status=ReaderStatus.CONFIRMED, pk__gt=%(skip)d)
           .select_related("user").order_by("pk")[:%(count)d])
staff = get_user_model().objects.get(username=%(staff)r)
print(json.dumps({
    "cookie_name": settings.SESSION_COOKIE_NAME,
    "readers": [{"session": session_for(r.user), "email": r.email} for r in readers],
    "staff": session_for(staff),
}))
"""

# How many requests carry each of the run's markers (article titles), printed as JSON.
STORED = """
import json
from django.db.models import Count
from requests_app.models import IllRequest
rows = (IllRequest.objects.filter(article_title__startswith=%(prefix)r)
        .values("article_title").annotate(n=Count("id")))
print(json.dumps({row["article_title"]: row["n"] for row in rows}))
"""


def prepare_database(load_url: str, bench_url: str, scale: tuple, fresh: bool) -> str:
    """The load database holding the data set at this scale: how it got there."""
    if not fresh and dataset.built_scale(load_url) == scale and _migrated(load_url):
        return "reused"
    parsed = urllib.parse.urlsplit(load_url)
    name = parsed.path.lstrip("/")
    template = urllib.parse.urlsplit(bench_url).path.lstrip("/")
    if template != name and dataset.built_scale(bench_url) == scale:
        try:
            _admin(load_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            _admin(load_url, f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
        except psycopg2.Error as exc:  # in use by another session: build instead
            multi_server.log(f"cannot copy {template} ({str(exc).strip()}); building")
        else:
            if _migrated(load_url):
                return f"copied from {template}"
    _admin(load_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    dataset.load(load_url, *scale, out=multi_server.log)
    return "built"


def _admin(url: str, statement: str) -> None:
    parsed = urllib.parse.urlsplit(url)
    admin = psycopg2.connect(urllib.parse.urlunsplit(parsed._replace(path="/postgres")))
    admin.autocommit = True
    try:
        with admin.cursor() as cursor:
            cursor.execute(statement)
    finally:
        admin.close()


def _migrated(url: str) -> bool:
    """Whether this branch's migrations apply to the data set (one made by another branch's
    schema may not: then it is built again)."""
    try:
        dataset.migrate(url)
    except subprocess.CalledProcessError:
        multi_server.log(f"{url}: this code's migrations do not apply to it; building anew")
        return False
    return True


def machine() -> str:
    meminfo = Path("/proc/meminfo").read_text().splitlines()
    memory = next((line.split()[1] for line in meminfo if line.startswith("MemTotal")), "0")
    return f"{os.cpu_count()} cores, {int(memory) // 1024 // 1024 + 1} GB memory"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--locust", default=str(ROOT / ".venv-load" / "bin" / "locust"))
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--staff", type=int, default=2, help="of the users, staff in the admin")
    parser.add_argument("--spawn-rate", type=int, default=10)
    parser.add_argument("--duration", default="2m")
    parser.add_argument("--readers", type=int, default=100_000, help="the data set's scale")
    parser.add_argument("--requests", type=int, default=2_000_000, help="the data set's scale")
    parser.add_argument("--sessions", type=int, default=200, help="readers signed in")
    parser.add_argument("--workers", type=int, default=0, help="gunicorn's (0: its config's)")
    parser.add_argument("--fresh", action="store_true", help="re-create the load database")
    parser.add_argument("--out", default=str(ROOT / "docs" / "benchmarks"))
    args = parser.parse_args()

    load_url = os.environ.get("LOAD_DATABASE_URL") or DEFAULT_URL
    bench_url = dataset.bench_url()
    if not load_url.startswith(("postgres://", "postgresql://")):
        raise SystemExit("LOAD_DATABASE_URL must name a scratch PostgreSQL database")
    scale = (args.readers, args.requests)
    started = time.monotonic()
    how = prepare_database(load_url, bench_url, scale, args.fresh)
    multi_server.log(
        f"data set ({args.readers} readers, {args.requests} requests) {how} "
        f"in {time.monotonic() - started:.0f} s"
    )

    run_id = uuid.uuid4().hex[:8]
    prefix = f"Load test {run_id} "
    work = Path(tempfile.mkdtemp(prefix="load-"))
    attempted, confirmed = work / "attempted.txt", work / "confirmed.txt"
    attempted.touch()
    confirmed.touch()
    env = {
        "PATH": os.environ.get("PATH", ""),
        "DEBUG": "false",
        "SECRET_KEY": "load-test-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz",
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "DATABASE_URL": load_url,
        "CONN_MAX_AGE": "60",
        "SECURE_COOKIES": "false",
        "EMAIL_URL": "dummymail://",
        "TASKS_BACKEND": "django_tasks_db.DatabaseBackend",
        "STATIC_ROOT": str(work / "static"),
        "LOG_LEVEL": "WARNING",
    }

    def manage(*command):
        return subprocess.run(
            [PY, "manage.py", *command],
            cwd=ROOT,
            env=env,
            check=True,
            capture_output=True,
            text=True,
        )

    def last_json(result):
        return json.loads(result.stdout.strip().splitlines()[-1])

    manage("collectstatic", "--no-input", "-v0")
    sessions = last_json(
        manage(
            "shell",
            "-c",
            SESSIONS
            % {
                "skip": dataset.SUBMITTING_READER,
                "count": args.sessions,
                "staff": dataset.STAFF_USERNAME,
            },
        )
    )
    sessions_file = work / "sessions.json"
    sessions_file.write_text(json.dumps(sessions))

    port = multi_server.free_port()
    server_env = {**env, "GUNICORN_BIND": f"127.0.0.1:{port}"}
    if args.workers:
        server_env["GUNICORN_WORKERS"] = str(args.workers)
    logs = open(work / "server.log", "w")  # noqa: SIM115 (closed below)
    gunicorn = subprocess.Popen(
        [str(Path(PY).parent / "gunicorn"), "-c", "deploy/gunicorn.conf.py", "illgateway.wsgi"],
        cwd=ROOT,
        env=server_env,
        stdout=logs,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    worker = subprocess.Popen(
        [PY, "manage.py", "db_worker", "--no-reload"],
        cwd=ROOT,
        env=env,
        stdout=logs,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    host = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if multi_server.Browser().send(host + "/healthz")[0] == 200:
                    break
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise SystemExit("the server did not become healthy")
            time.sleep(0.3)
        multi_server.log(f"locust: {args.users} users for {args.duration} against {host}")
        subprocess.run(
            [
                str(Path(args.locust).resolve()),
                "-f",
                str(ROOT / "bench" / "locustfile.py"),
                "--headless",
                "--users",
                str(args.users),
                "--spawn-rate",
                str(args.spawn_rate),
                "--run-time",
                args.duration,
                # Each user finishes the journey step it is in: a submission sent is answered.
                "--stop-timeout",
                "30",
                "--host",
                host,
                "--csv",
                str(work / "stats"),
                "--only-summary",
                "--loglevel",
                "WARNING",
            ],
            cwd=work,
            env={
                "PATH": os.environ.get("PATH", ""),
                "LOAD_SESSIONS": str(sessions_file),
                "LOAD_STAFF_USERS": str(args.staff),
                "LOAD_PREFIX": prefix,
                "LOAD_ATTEMPTED": str(attempted),
                "LOAD_CONFIRMED": str(confirmed),
            },
            check=False,
            timeout=_seconds(args.duration) + 120,
        )
    finally:
        for process in (gunicorn, worker):
            process.send_signal(signal.SIGTERM)
        for process in (gunicorn, worker):
            process.wait(timeout=60)
        logs.close()

    with open(work / "stats_stats.csv", encoding="utf-8") as stats_file:
        stats = list(csv.DictReader(stats_file))
    with open(work / "stats_failures.csv", encoding="utf-8") as failures_file:
        failures = list(csv.DictReader(failures_file))
    errors_5xx = sum(int(f["Occurrences"]) for f in failures if f["Error"][:1] in "50")
    sent = set(_lines(attempted))
    made = _lines(confirmed)
    stored = last_json(manage("shell", "-c", STORED % {"prefix": prefix}))
    twice = sorted(title for title, n in stored.items() if n > 1)
    lost = sorted(title for title in made if title not in stored)
    never_sent = sorted(set(stored) - sent)
    unconfirmed = sorted(set(stored) - set(made))

    conditions = (
        f"{args.users} users ({args.staff} staff) for {args.duration}, gunicorn "
        f"({args.workers or 'its configured'} workers) + PostgreSQL + the e-mail worker on "
        f"loopback, DEBUG off, {args.readers} readers / {args.requests} requests"
    )
    print(f"\nMachine: {machine()}\nLoad: {conditions}\n")
    print(f"{'page':46} {'requests':>9} {'fails':>6} {'median ms':>10} {'p95 ms':>7} {'rps':>6}")
    pages = []
    for row in stats:
        page = {
            "name": row["Name"],
            "method": row["Type"],
            "requests": int(row["Request Count"]),
            "failures": int(row["Failure Count"]),
            "median_ms": float(row["Median Response Time"]),
            "p95_ms": float(row["95%"]) if row["95%"] not in ("", "N/A") else None,
            "p99_ms": float(row["99%"]) if row["99%"] not in ("", "N/A") else None,
            "max_ms": float(row["Max Response Time"]),
            "rps": float(row["Requests/s"]),
        }
        pages.append(page)
        print(
            f"{(row['Type'] + ' ' + row['Name']).strip()[:46]:46} {page['requests']:>9} "
            f"{page['failures']:>6} {page['median_ms']:>10.0f} {row['95%']:>7} "
            f"{page['rps']:>6.1f}"
        )
    checks = {
        "answers_5xx": errors_5xx,
        "failures": sum(int(f["Occurrences"]) for f in failures),
        "submissions_confirmed": len(made),
        "submissions_stored": sum(stored.values()),
        "stored_twice": twice,
        "confirmed_but_not_stored": lost,
        "stored_but_never_sent": never_sent,
        "stored_without_confirmation": unconfirmed,
    }
    ok = (
        checks["failures"] == 0
        and not twice
        and not lost
        and not never_sent
        and not unconfirmed
        and len(made) > 0
    )
    report = {
        "ok": ok,
        "when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "machine": machine(),
        "conditions": conditions,
        "users": args.users,
        "staff_users": args.staff,
        "duration": args.duration,
        "scale": {"readers": args.readers, "requests": args.requests},
        "data_set": how,
        "checks": checks,
        "failure_details": failures,
        "pages": pages,
    }
    print(json.dumps({"ok": ok, **checks}, ensure_ascii=False, indent=2))
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "load.json").write_text(json.dumps(report, ensure_ascii=False, indent=2) + "\n")
    shutil.copyfile(work / "stats_stats.csv", out / "load-stats.csv")
    multi_server.log(f"wrote {out / 'load.json'} and {out / 'load-stats.csv'}")
    if ok:
        shutil.rmtree(work, ignore_errors=True)
    else:
        multi_server.log(f"kept {work} (server.log)")
    return 0 if ok else 1


def _lines(path: Path) -> list:
    return [line for line in path.read_text(encoding="utf-8").splitlines() if line]


def _seconds(duration: str) -> int:
    """locust's --run-time (90, 90s, 2m, 1h30m) in seconds."""
    total, number = 0, ""
    for char in duration:
        if char.isdigit():
            number += char
        else:
            total += int(number or 0) * {"h": 3600, "m": 60, "s": 1}[char]
            number = ""
    return total + int(number or 0)


if __name__ == "__main__":
    sys.exit(main())
