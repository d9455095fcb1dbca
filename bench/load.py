#!/usr/bin/env python3
"""The load test (`make load`): locust's journeys (bench/locustfile.py) against the production
setup on loopback — gunicorn with deploy/gunicorn.conf.py, DEBUG off, PostgreSQL, the e-mail
worker — on the benchmark's data set, beside a baseline measured in the same run, and the
checks: no answer of 500 or more (no failure at all), every submission stored exactly once, the
median and 95th percentile per page.

Two phases run on one server, --users users for --duration each: first the baseline — the same
users, sessions and waits between steps, each step `make bench`'s bare view (bench/views.py,
served through bench/load_settings.py: the production settings plus that one URL) — then, right
after, the journeys. Each page's median and p95 are given as multiples of the bare view's, and
the journeys' requests per second as a multiple of the baseline's.

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
Prints the baseline and each page side by side, the order of the phases, the load average over
each and the machine's size; writes load.json, load.md, load-stats.csv (the journeys) and
load-baseline-stats.csv to --out (docs/benchmarks); exits non-zero when a check fails.
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

# The phases in the order they run, each locust's user classes (bench/locustfile.py): first
# the baseline, `make bench`'s bare view asked for by the same users at the same pace, then
# the journeys, right after on the same server, so that both meet the machine as it is.
PHASES = {"baseline": ["BareReader", "BareStaff"], "journeys": ["Reader", "Staff"]}
BARE_NAME = "/bench/bare/ (baseline)"  # as bench/locustfile.py names it
# The baseline's row when the bare view was never asked for (its checks then fail).
NO_REQUESTS = {"requests": 0, "failures": 0, "median_ms": None, "p95_ms": None, "rps": 0.0}
ORDER = (
    "the baseline first (the bare view), then the journeys right after, on the same gunicorn "
    "server (not restarted), settings and database"
)

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


def load_average() -> list:
    """The machine's 1-, 5- and 15-minute load averages: how busy it was besides this run."""
    return [round(value, 2) for value in os.getloadavg()]


def start_server(env: dict, port: int, workers: int, logs) -> list:
    """gunicorn as deploy/ runs it (bench/load_settings.py: the production settings plus the
    bare view's URL) and the e-mail worker."""
    server_env = {
        **env,
        "DJANGO_SETTINGS_MODULE": "bench.load_settings",
        "GUNICORN_BIND": f"127.0.0.1:{port}",
    }
    if workers:
        server_env["GUNICORN_WORKERS"] = str(workers)
    gunicorn = [str(Path(PY).parent / "gunicorn"), "-c", "deploy/gunicorn.conf.py"]
    commands = [
        ([*gunicorn, "illgateway.wsgi"], server_env),
        ([PY, "manage.py", "db_worker", "--no-reload"], env),
    ]
    return [
        subprocess.Popen(
            command,
            cwd=ROOT,
            env=command_env,
            stdout=logs,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        for command, command_env in commands
    ]


def wait_until_healthy(host: str) -> None:
    deadline = time.monotonic() + 60
    while True:
        try:
            if multi_server.Browser().send(host + "/healthz")[0] == 200:
                return
        except OSError:
            pass
        if time.monotonic() > deadline:
            raise SystemExit("the server did not become healthy")
        time.sleep(0.3)


def run_phase(phase: str, args, host: str, work: Path, locust_env: dict) -> dict:
    """One locust run of this phase's users; its rows and failures as locust wrote them."""
    multi_server.log(f"{phase}: {args.users} users for {args.duration} against {host}")
    started = {"at": time.strftime("%H:%M:%S", time.gmtime()), "load_average": load_average()}
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
            str(work / phase),
            "--only-summary",
            "--loglevel",
            "WARNING",
            *PHASES[phase],
        ],
        cwd=work,
        env=locust_env,
        check=False,
        timeout=_seconds(args.duration) + 120,
    )
    with open(work / f"{phase}_stats.csv", encoding="utf-8") as stats_file:
        stats = list(csv.DictReader(stats_file))
    with open(work / f"{phase}_failures.csv", encoding="utf-8") as failures_file:
        failures = list(csv.DictReader(failures_file))
    return {
        "started": started,
        "ended": {"at": time.strftime("%H:%M:%S", time.gmtime()), "load_average": load_average()},
        "pages": [_page(row) for row in stats],
        "failures": failures,
    }


def _page(row: dict) -> dict:
    def number(value):
        return float(value) if value not in ("", "N/A") else None

    return {
        "name": row["Name"],
        "method": row["Type"],
        "requests": int(row["Request Count"]),
        "failures": int(row["Failure Count"]),
        "median_ms": float(row["Median Response Time"]),
        "p95_ms": number(row["95%"]),
        "p99_ms": number(row["99%"]),
        "max_ms": float(row["Max Response Time"]),
        "rps": float(row["Requests/s"]),
    }


def compare(baseline: dict, pages: list) -> dict:
    """Each journey page's median and p95 as multiples of the bare view's, and the journeys'
    throughput as a multiple of the baseline's (same users, same pace, same server)."""
    for page in pages:
        page["median_ratio"] = _ratio(page["median_ms"], baseline["median_ms"])
        page["p95_ratio"] = _ratio(page["p95_ms"], baseline["p95_ms"])
    journeys = next(page for page in pages if page["name"] == "Aggregated")
    return {
        "baseline_rps": baseline["rps"],
        "journeys_rps": journeys["rps"],
        "throughput_ratio": _ratio(journeys["rps"], baseline["rps"]),
    }


def _ratio(value, base):
    return round(value / base, 2) if value is not None and base else None


def check_submissions(attempted: Path, confirmed: Path, stored: dict) -> dict:
    """Every submission the server confirmed is stored, once, and nothing else is."""
    sent = set(_lines(attempted))
    made = _lines(confirmed)
    return {
        "submissions_confirmed": len(made),
        "submissions_stored": sum(stored.values()),
        "stored_twice": sorted(title for title, n in stored.items() if n > 1),
        "confirmed_but_not_stored": sorted(title for title in made if title not in stored),
        "stored_but_never_sent": sorted(set(stored) - sent),
        "stored_without_confirmation": sorted(set(stored) - set(made)),
    }


def table(baseline: dict, pages: list) -> list:
    """The summary's rows: the baseline first, then each journey page beside it."""
    header = ["page", "requests", "fails", "req/s", "median ms", "p95 ms", "× median", "× p95"]
    rows = [{**baseline, "median_ratio": 1.0, "p95_ratio": 1.0}, *pages]
    return [header, *(_row(page) for page in rows)]


def _row(page: dict) -> list:
    def ms(value):
        return "–" if value is None else f"{value:.0f}"

    def times(value):
        return "–" if value is None else f"{value:.2f}"

    name = "all journey pages" if page["name"] == "Aggregated" else page["name"]
    return [
        f"{page['method']} {name}".strip(),
        f"{page['requests']:,}",
        str(page["failures"]),
        f"{page['rps']:.1f}",
        ms(page["median_ms"]),
        ms(page["p95_ms"]),
        times(page["median_ratio"]),
        times(page["p95_ratio"]),
    ]


def console(rows: list) -> str:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    widths[0] = min(widths[0], 48)
    lines = []
    for row in rows:
        cells = [row[0][: widths[0]].ljust(widths[0])]
        cells += [cell.rjust(width) for cell, width in zip(row[1:], widths[1:], strict=True)]
        lines.append(" ".join(cells))
    return "\n".join(lines)


def markdown(report: dict, rows: list) -> str:
    """docs/benchmarks/load.md: the run's conditions, checks and the side-by-side table."""
    comparison, checks = report["comparison"], report["checks"]
    phases = report["phases"]
    lines = [
        f"# Load test, {report['when']}",
        "",
        f"Machine: {report['machine']}. Load: {report['conditions']}.",
        "",
        f"Order: {report['order']}",
        "",
        "Load average (1, 5, 15 min): "
        + "; ".join(
            f"{name} {phase['started']['at']}–{phase['ended']['at']} UTC, "
            f"{phase['started']['load_average']} → {phase['ended']['load_average']}"
            for name, phase in phases.items()
        ),
        "",
        f"Checks: {'passed' if report['ok'] else 'FAILED'} — {checks['answers_5xx']} answers of "
        f"500 or more, {checks['failures']} failed journey steps, "
        f"{checks['baseline_failures']} failed baseline steps; "
        f"{checks['submissions_confirmed']} submissions confirmed, "
        f"{checks['submissions_stored']} stored, {len(checks['stored_twice'])} stored twice.",
        "",
        f"Throughput: journeys {comparison['journeys_rps']:.1f} req/s, baseline "
        f"{comparison['baseline_rps']:.1f} req/s, ratio {comparison['throughput_ratio']}.",
        "",
        "| " + " | ".join(rows[0]) + " |",
        "|---|" + "---:|" * (len(rows[0]) - 1),
        *("| " + " | ".join(row) + " |" for row in rows[1:]),
        "",
    ]
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--locust", default=str(ROOT / ".venv-load" / "bin" / "locust"))
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--staff", type=int, default=2, help="of the users, staff in the admin")
    parser.add_argument("--spawn-rate", type=int, default=10)
    parser.add_argument("--duration", default="2m", help="of each phase")
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
    locust_env = {
        "PATH": os.environ.get("PATH", ""),
        "LOAD_SESSIONS": str(sessions_file),
        "LOAD_STAFF_USERS": str(args.staff),
        "LOAD_PREFIX": prefix,
        "LOAD_ATTEMPTED": str(attempted),
        "LOAD_CONFIRMED": str(confirmed),
    }

    port = multi_server.free_port()
    host = f"http://127.0.0.1:{port}"
    logs = open(work / "server.log", "w")  # noqa: SIM115 (closed below)
    processes = start_server(env, port, args.workers, logs)
    try:
        wait_until_healthy(host)
        phases = {phase: run_phase(phase, args, host, work, locust_env) for phase in PHASES}
    finally:
        for process in processes:
            process.send_signal(signal.SIGTERM)
        for process in processes:
            process.wait(timeout=60)
        logs.close()

    baseline_phase, journeys_phase = phases["baseline"], phases["journeys"]
    baseline = next(
        (page for page in baseline_phase["pages"] if page["name"] == BARE_NAME),
        {"name": BARE_NAME, "method": "GET", **NO_REQUESTS},
    )
    pages = journeys_phase["pages"]
    comparison = compare(baseline, pages)
    failures = baseline_phase["failures"] + journeys_phase["failures"]
    stored = last_json(manage("shell", "-c", STORED % {"prefix": prefix}))
    checks = {
        "answers_5xx": sum(int(f["Occurrences"]) for f in failures if f["Error"][:1] in "50"),
        "failures": sum(int(f["Occurrences"]) for f in journeys_phase["failures"]),
        "baseline_requests": baseline["requests"],
        "baseline_failures": sum(int(f["Occurrences"]) for f in baseline_phase["failures"]),
        **check_submissions(attempted, confirmed, stored),
    }
    ok = (
        checks["answers_5xx"] == 0
        and checks["failures"] == 0
        and checks["baseline_failures"] == 0
        and checks["baseline_requests"] > 0
        and checks["submissions_confirmed"] > 0
        and not checks["stored_twice"]
        and not checks["confirmed_but_not_stored"]
        and not checks["stored_but_never_sent"]
        and not checks["stored_without_confirmation"]
    )

    conditions = (
        f"{args.users} users ({args.staff} staff) for {args.duration} in each phase, gunicorn "
        f"({args.workers or 'its configured'} workers) + PostgreSQL + the e-mail worker on "
        f"loopback, DEBUG off, {args.readers} readers / {args.requests} requests"
    )
    report = {
        "ok": ok,
        "when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "machine": machine(),
        "conditions": conditions,
        "order": ORDER,
        "users": args.users,
        "staff_users": args.staff,
        "duration": args.duration,
        "scale": {"readers": args.readers, "requests": args.requests},
        "data_set": how,
        "phases": {
            name: {"started": phase["started"], "ended": phase["ended"]}
            for name, phase in phases.items()
        },
        "checks": checks,
        "failure_details": failures,
        "baseline": baseline,
        "comparison": comparison,
        "pages": pages,
    }
    rows = table(baseline, pages)
    print(f"\nMachine: {machine()}\nLoad: {conditions}\nOrder: {ORDER}")
    for name, phase in phases.items():
        print(
            f"Load average (1, 5, 15 min) during the {name}: {phase['started']['load_average']}"
            f" at {phase['started']['at']} → {phase['ended']['load_average']} at "
            f"{phase['ended']['at']} UTC"
        )
    print(f"\n{console(rows)}\n")
    print(
        f"Throughput: journeys {comparison['journeys_rps']:.1f} req/s, baseline "
        f"{comparison['baseline_rps']:.1f} req/s: ratio {comparison['throughput_ratio']}"
    )
    print(json.dumps({"ok": ok, **checks}, ensure_ascii=False, indent=2))
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "load.json").write_text(json.dumps(report, ensure_ascii=False, indent=2) + "\n")
    (out / "load.md").write_text(markdown(report, rows))
    shutil.copyfile(work / "journeys_stats.csv", out / "load-stats.csv")
    shutil.copyfile(work / "baseline_stats.csv", out / "load-baseline-stats.csv")
    multi_server.log(f"wrote load.json, load.md, load-stats.csv, load-baseline-stats.csv in {out}")
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
