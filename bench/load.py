#!/usr/bin/env python3
"""The load test (`make load`): locust's journeys (bench/locustfile.py) against the production
setup on loopback — gunicorn with deploy/gunicorn.conf.py, DEBUG off, PostgreSQL, the e-mail
worker — and the checks: no answer of 500 or more, every submission stored exactly once, the
95th percentile per page.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/load_test .venv/bin/python bench/load.py \\
        --locust .venv-load/bin/locust --users 50 --duration 2m

The database of DATABASE_URL is dropped and re-created with a small dataset of its own
(--readers readers with --requests-per-reader requests each, one staff account). It is NOT
yet the `make bench` dataset: once that exists, seed from it instead (see SEED below).
Prints a table per page and the machine's size; exits non-zero when a check fails.
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
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import multi_server  # noqa: E402 (bench's own helpers: ports, the browser, the health wait)

ROOT = Path(__file__).resolve().parent.parent
PY = sys.executable
PASSWORD = "load-test-password-1"
STAFF = "load-staff"

SEED = """
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.utils import timezone
from readers.models import IdType, Reader, ReaderStatus, ReaderType
from requests_app.services import request_submit

User = get_user_model()
hashed = make_password(%(password)r)
User.objects.create(username=%(staff)r, email="staff@example.org", password=hashed,
                    is_staff=True, is_superuser=True)
users = User.objects.bulk_create(
    [User(username=f"load{i}", email=f"load{i}@example.org", password=hashed)
     for i in range(%(readers)d)]
)
readers = Reader.objects.bulk_create([
    Reader(user=user, reader_type=ReaderType.OFF_CAMPUS, status=ReaderStatus.CONFIRMED,
           name=f"读者 {i}", email=user.email, id_type=IdType.LIBRARY_CARD, id_number=f"D{i:06d}",
           phone="010-62780000", address="北京市海淀区", postal_code="100084",
           institution="Example University", language="en", decided_at=timezone.now())
    for i, user in enumerate(users)
])
data = {
    "service_type": "copy", "document_type": "journal_article",
    "publication_title": "Interlending & Document Supply", "volume_issue": "32(2)",
    "year": 2004, "pages": "94-101", "language": "English", "delivery_method": "email",
    "contact_method": "email", "max_cost": 0, "urgency": "normal",
    "contact_name": "Load Reader", "contact_postal_code": "100084",
    "contact_phone": "010-62780000",
}
for reader in readers:
    for n in range(%(per_reader)d):
        request_submit(reader=reader, token=f"seed-{reader.pk}-{n}",
                       data={**data, "article_title": f"Seeded article {reader.pk}-{n}",
                             "contact_email": reader.email})
"""

STORED = """
import json
from requests_app.models import IllRequest
print(json.dumps(list(IllRequest.objects.filter(article_title__startswith="Load test article")
                      .values_list("article_title", flat=True))))
"""


def machine() -> str:
    meminfo = Path("/proc/meminfo").read_text().splitlines()
    memory = next((line.split()[1] for line in meminfo if line.startswith("MemTotal")), "0")
    return f"{os.cpu_count()} cores, {int(memory) // 1024 // 1024 + 1} GB memory"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--locust", default=str(ROOT / ".venv-load" / "bin" / "locust"))
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--spawn-rate", type=int, default=10)
    parser.add_argument("--duration", default="2m")
    parser.add_argument("--readers", type=int, default=200)
    parser.add_argument("--requests-per-reader", type=int, default=5)
    parser.add_argument("--workers", type=int, default=0, help="gunicorn's (0: its config's)")
    args = parser.parse_args()

    database_url = os.environ.get("DATABASE_URL", "")
    if not database_url.startswith(("postgres://", "postgresql://")):
        raise SystemExit("DATABASE_URL must name a scratch PostgreSQL database (it is dropped)")
    parsed = urllib.parse.urlparse(database_url)
    dbname = parsed.path.lstrip("/")

    work = Path(tempfile.mkdtemp(prefix="load-"))
    submissions = work / "submissions.txt"
    submissions.touch()
    env = {
        "PATH": os.environ.get("PATH", ""),
        "DEBUG": "false",
        "SECRET_KEY": "load-test-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz",
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "DATABASE_URL": database_url,
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

    import psycopg2

    connection = psycopg2.connect(parsed._replace(path="/postgres").geturl())
    connection.autocommit = True
    with connection.cursor() as cursor:
        cursor.execute(f'DROP DATABASE IF EXISTS "{dbname}" WITH (FORCE)')
        cursor.execute(f'CREATE DATABASE "{dbname}"')
    connection.close()
    multi_server.log(f"{dbname}: migrating, seeding {args.readers} readers")
    manage("migrate", "--no-input", "-v0")
    manage("createcachetable")
    manage("collectstatic", "--no-input", "-v0")
    manage(
        "shell",
        "-c",
        SEED
        % {
            "password": PASSWORD,
            "staff": STAFF,
            "readers": args.readers,
            "per_reader": args.requests_per_reader,
        },
    )

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
                args.locust,
                "-f",
                str(ROOT / "bench" / "locustfile.py"),
                "--headless",
                "--users",
                str(args.users),
                "--spawn-rate",
                str(args.spawn_rate),
                "--run-time",
                args.duration,
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
                "LOAD_READERS": str(args.readers),
                "LOAD_PASSWORD": PASSWORD,
                "LOAD_STAFF": STAFF,
                "LOAD_SUBMISSIONS": str(submissions),
            },
            check=False,
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
    made = [line for line in submissions.read_text(encoding="utf-8").splitlines() if line]
    stored = json.loads(manage("shell", "-c", STORED).stdout.strip().splitlines()[-1])
    twice = sorted({t for t in stored if stored.count(t) > 1})
    lost = sorted(set(made) - set(stored))
    unanswered = sorted(set(stored) - set(made))

    print(f"\nMachine: {machine()}; {args.users} users, {args.duration}, gunicorn on loopback\n")
    print(f"{'page':52} {'requests':>9} {'fails':>6} {'median ms':>10} {'p95 ms':>7}")
    for row in stats:
        print(
            f"{row['Name'][:52]:52} {row['Request Count']:>9} {row['Failure Count']:>6} "
            f"{float(row['Median Response Time']):>10.0f} {row['95%']:>7}"
        )
    summary = {
        "answers_5xx": errors_5xx,
        "submissions_confirmed": len(made),
        "submissions_stored": len(stored),
        "stored_twice": twice,
        "confirmed_but_not_stored": lost,
        "stored_without_confirmation": unanswered,
        "failures": failures,
    }
    ok = errors_5xx == 0 and not twice and not lost
    print(json.dumps({"ok": ok, **summary}, ensure_ascii=False, indent=2))
    if ok:
        shutil.rmtree(work, ignore_errors=True)
    else:
        multi_server.log(f"kept {work}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
