"""`make bench`: each page's speed beside a bare Django view, measured in the same run.

Builds (or reuses) the data set (bench/dataset.py), serves the gateway with gunicorn on a free
loopback port (production settings, DEBUG off, bench/settings.py), and for each page alternates
short slices of load on the page and on the bare view (bench/views.py: the same session
authentication, one indexed query, 20 rows), `--rounds` times each, from `--concurrency`
client threads (http.client, loopback only, bounded by time and count). Prints a table of each
page's throughput and p50/p95 and its ratio to the bare view's throughput, and writes JSON.

    python bench/run.py --readers 100000 --requests 2000000 --json var/bench/result.json
"""

import argparse
import datetime
import html.parser
import http.client
import json
import os
import platform
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import dataset  # noqa: E402

STATUSES = [
    "submitted",
    "in_process",
    "awaiting_cost_approval",
    "awaiting_payment",
    "delivered",
    "on_loan",
    "returned",
    "unfilled",
    "cancelled",
    "expired",
]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def setup_django(url: str):
    os.environ["BENCH_DATABASE_URL"] = url
    os.environ["DJANGO_SETTINGS_MODULE"] = "bench.settings"
    import django

    django.setup()


def prepare(url: str) -> dict:
    """Sessions for the three people, and what each page needs (numbers, names, titles)."""
    setup_django(url)
    from django.conf import settings
    from django.contrib.auth import (
        BACKEND_SESSION_KEY,
        HASH_SESSION_KEY,
        SESSION_KEY,
        get_user_model,
    )
    from django.contrib.sessions.backends.db import SessionStore

    from readers.models import Reader
    from requests_app.models import IllRequest

    def session_for(user):
        store = SessionStore()
        store[SESSION_KEY] = str(user.pk)
        store[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
        store[HASH_SESSION_KEY] = user.get_session_auth_hash()
        store.create()
        return store.session_key

    user_model = get_user_model()
    staff = user_model.objects.get(username=dataset.STAFF_USERNAME)
    # Submissions are made as a reader of their own, so that the two readers whose lists are
    # measured keep their number of requests from one run to the next.
    Reader.objects.filter(pk=dataset.SUBMITTING_READER).update(status="confirmed")
    submitter = Reader.objects.select_related("user").get(pk=dataset.SUBMITTING_READER)
    small = Reader.objects.select_related("user").get(pk=dataset.SMALL_READER)
    big = Reader.objects.select_related("user").get(pk=dataset.BIG_READER)
    per_page = settings.REQUESTS_PER_PAGE
    big_count = IllRequest.objects.filter(reader=big).count()
    small_count = IllRequest.objects.filter(reader=small).count()
    detail = (
        IllRequest.objects.filter(reader=big, status="delivered").order_by("-number").first()
        or IllRequest.objects.filter(reader=big).order_by("-number").first()
    )
    someone = IllRequest.objects.order_by("number")[IllRequest.objects.count() // 2]
    title_word = (someone.article_title or someone.publication_title).split()[0]
    return {
        "cookie_name": settings.SESSION_COOKIE_NAME,
        "sessions": {
            "staff": session_for(staff),
            "small": session_for(small.user),
            "big": session_for(big.user),
            "submitter": session_for(submitter.user),
        },
        "small_last": max(1, -(-small_count // per_page)),
        "big_last": max(1, -(-big_count // per_page)),
        "big_count": big_count,
        "small_count": small_count,
        "detail": detail.number,
        "search_number": str(someone.number),
        "search_reader": big.name,
        "search_title": title_word,
        "reader_name": small.name,
    }


def pages(info: dict) -> list[dict]:
    a = "/admin/requests_app/illrequest/"
    result = [
        {"name": "reader: home", "who": "small", "path": "/"},
        {"name": f"reader ({info['small_count']}): list", "who": "small", "path": "/requests/"},
        {
            "name": f"reader ({info['small_count']}): list, last page",
            "who": "small",
            "path": f"/requests/?page={info['small_last']}",
        },
        {"name": f"reader ({info['big_count']}): list", "who": "big", "path": "/requests/"},
        {
            "name": f"reader ({info['big_count']}): list, last page",
            "who": "big",
            "path": f"/requests/?page={info['big_last']}",
        },
        {"name": "reader: detail", "who": "big", "path": f"/requests/{info['detail']}/"},
        {"name": "reader: form", "who": "small", "path": "/requests/new/"},
        {"name": "reader: submit", "who": "submitter", "path": "/requests/new/", "submit": True},
        {"name": "admin requests: default", "who": "staff", "path": a},
    ]
    result += [
        {"name": f"admin requests: {s}", "who": "staff", "path": f"{a}?status__exact={s}"}
        for s in STATUSES
    ]
    result += [
        {
            "name": "admin requests: search number",
            "who": "staff",
            "path": f"{a}?{urlencode({'q': info['search_number']})}",
        },
        {
            "name": "admin requests: search reader",
            "who": "staff",
            "path": f"{a}?{urlencode({'q': info['search_reader']})}",
        },
        {
            "name": "admin requests: search title",
            "who": "staff",
            "path": f"{a}?{urlencode({'q': info['search_title']})}",
        },
        {"name": "admin readers: default", "who": "staff", "path": "/admin/readers/reader/"},
        {
            "name": "admin readers: search name",
            "who": "staff",
            "path": "/admin/readers/reader/?" + urlencode({"q": info["reader_name"]}),
        },
        {
            "name": "admin registrations queue",
            "who": "staff",
            "path": "/admin/readers/registrationtoconfirm/",
        },
        {"name": "admin notices: default", "who": "staff", "path": "/admin/readers/notice/"},
        {"name": "admin balances: default", "who": "staff", "path": "/admin/accounts/account/"},
        {
            "name": "admin ledger entries: default",
            "who": "staff",
            "path": "/admin/accounts/ledgerentry/",
        },
        {"name": "admin audit log: default", "who": "staff", "path": "/admin/auditlog/logentry/"},
    ]
    return result


class FormFields(html.parser.HTMLParser):
    """The request form's fields as the page fills them in (profile, token, CSRF)."""

    def __init__(self):
        super().__init__()
        self.values = {}
        self._select = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        name = attrs.get("name")
        if tag == "input" and name:
            kind = attrs.get("type", "text")
            if kind in ("radio", "checkbox"):
                if "checked" in attrs:
                    self.values[name] = attrs.get("value", "on")
            elif kind != "submit":
                self.values[name] = attrs.get("value") or ""
        elif tag == "select" and name:
            self._select = name
        elif tag == "option" and self._select and "selected" in attrs:
            self.values[self._select] = attrs.get("value", "")
        elif tag == "textarea" and name:
            self.values.setdefault(name, "")

    def handle_endtag(self, tag):
        if tag == "select":
            self._select = None


class Client:
    def __init__(self, port, cookie_name, sessions):
        self.port, self.cookie_name, self.sessions = port, cookie_name, sessions
        self.local = threading.local()

    def connection(self):
        if getattr(self.local, "conn", None) is None:
            self.local.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        return self.local.conn

    def request(self, method, path, who, body=None, extra_cookie=""):
        headers = {
            "Cookie": f"{self.cookie_name}={self.sessions[who]}{extra_cookie}",
            "Accept-Language": "zh-hans",
        }
        if body is not None:
            headers["Content-Type"] = "application/x-www-form-urlencoded"
            headers["Referer"] = f"http://127.0.0.1:{self.port}/requests/new/"
        conn = self.connection()
        try:
            conn.request(method, path, body=body, headers=headers)
            response = conn.getresponse()
            data = response.read()
        except (http.client.HTTPException, OSError):
            conn.close()
            self.local.conn = None
            raise
        if response.getheader("Connection", "").lower() == "close":
            conn.close()
        return response.status, data, response


class Submitter:
    """POSTs of the request form, each a new request (a fresh token, a title of its own)."""

    def __init__(self, client, who):
        status, data, response = client.request("GET", "/requests/new/", who)
        if status != 200:
            raise RuntimeError(f"the request form answered {status}")
        parser = FormFields()
        parser.feed(data.decode())
        csrf = re.search(r"csrftoken=([^;]+)", response.getheader("Set-Cookie", "") or "")
        self.fields = parser.values
        self.fields.update(
            {
                "service_type": "copy",
                "document_type": "journal_article",
                "publication_title": "Journal of Benchmarks",
                "volume_issue": "1(1)",
                "pages": "1-10",
                "year": "2024",
                "confirm_duplicate": "1",
            }
        )
        self.fields.setdefault("contact_phone", "13800000000")
        self.fields["contact_phone"] = self.fields["contact_phone"] or "13800000000"
        self.cookie = f"; csrftoken={csrf.group(1)}" if csrf else ""
        self.counter = 0
        self.lock = threading.Lock()
        self.client, self.who = client, who

    def __call__(self):
        with self.lock:
            self.counter += 1
            n = self.counter
        body = dict(self.fields)
        body["article_title"] = f"Benchmark article {time.time_ns()} {n}"
        body["token"] = ""
        return self.client.request(
            "POST", "/requests/new/", self.who, urlencode(body).encode(), self.cookie
        )


def load(do, seconds, concurrency, max_requests):
    """Call `do()` from `concurrency` threads for `seconds` (or `max_requests` calls)."""
    latencies, errors = [], []
    lock = threading.Lock()
    deadline = time.monotonic() + seconds
    started = time.monotonic()

    def worker():
        while time.monotonic() < deadline:
            with lock:
                if len(latencies) + len(errors) >= max_requests:
                    return
            t0 = time.perf_counter()
            try:
                status, _data, _response = do()
            except (http.client.HTTPException, OSError) as exc:
                with lock:
                    errors.append(repr(exc))
                continue
            elapsed = time.perf_counter() - t0
            with lock:
                if status in (200, 302):
                    latencies.append(elapsed)
                else:
                    errors.append(status)

    threads = [threading.Thread(target=worker) for _ in range(concurrency)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return latencies, errors, time.monotonic() - started


def percentile(values, p):
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def summary(latencies, elapsed):
    return {
        "requests": len(latencies),
        "rate": len(latencies) / elapsed if elapsed else 0.0,
        "p50_ms": round(percentile(latencies, 50) * 1000, 1) if latencies else None,
        "p95_ms": round(percentile(latencies, 95) * 1000, 1) if latencies else None,
    }


def measure(client, page, args):
    if page.get("submit"):
        do = Submitter(client, page["who"])
    else:

        def do():
            return client.request("GET", page["path"], page["who"])

    def bare():
        return client.request("GET", "/bench/bare/", page["who"])

    # Warm up both (caches, connections), then alternate: bare, page, bare, page…
    # A page measured must be the page: a redirect instead (to the login, to a question the
    # reader has to answer first…) would be timed as if it were. Only the submit redirects.
    expected = 302 if page.get("submit") else 200
    for fn, wanted in ((bare, 200), (do, expected)):
        status = fn()[0]
        if status != wanted:
            return {"name": page["name"], "path": page["path"], "error": f"HTTP {status}"}
    page_lat, bare_lat, page_time, bare_time, errors = [], [], 0.0, 0.0, []
    for _ in range(args.rounds):
        lat, err, elapsed = load(bare, args.seconds, args.concurrency, args.max_requests)
        bare_lat += lat
        bare_time += elapsed
        lat, err2, elapsed = load(do, args.seconds, args.concurrency, args.max_requests)
        page_lat += lat
        page_time += elapsed
        errors += err + err2
    page_summary, bare_summary = summary(page_lat, page_time), summary(bare_lat, bare_time)
    ratio = page_summary["rate"] / bare_summary["rate"] if bare_summary["rate"] else None
    return {
        "name": page["name"],
        "path": page["path"],
        "method": "POST" if page.get("submit") else "GET",
        "page": page_summary,
        "bare": bare_summary,
        "ratio": round(ratio, 3) if ratio is not None else None,
        "errors": errors[:10],
        "error_count": len(errors),
    }


def serve(url, port, workers):
    env = {
        **os.environ,
        "BENCH_DATABASE_URL": url,
        "DJANGO_SETTINGS_MODULE": "bench.settings",
        "PYTHONPATH": str(ROOT),
    }
    command = [
        sys.executable,
        "-m",
        "gunicorn",
        "bench.wsgi:application",
        "--bind",
        f"127.0.0.1:{port}",
        "--workers",
        str(workers),
        "--worker-tmp-dir",
        "/dev/shm" if Path("/dev/shm").is_dir() else "/tmp",
        "--timeout",
        "120",
        "--log-level",
        "warning",
    ]
    process = subprocess.Popen(command, cwd=ROOT, env=env, start_new_session=True)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError("gunicorn exited at start")
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            conn.request("GET", "/accounts/login/")
            conn.getresponse().read()
            conn.close()
            return process
        except OSError:
            time.sleep(0.2)
    stop(process)
    raise RuntimeError("gunicorn did not answer within 60 s")


def stop(process):
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def table(results) -> str:
    header = f"{'page':<44} {'req/s':>8} {'p50 ms':>8} {'p95 ms':>8} {'bare/s':>8} {'ratio':>6}"
    lines = [header, "-" * len(header)]
    for r in results:
        if "error" in r:
            lines.append(f"{r['name']:<44} {r['error']}")
            continue
        p, b = r["page"], r["bare"]
        lines.append(
            f"{r['name']:<44} {p['rate']:>8.1f} {p['p50_ms'] or 0:>8.1f} {p['p95_ms'] or 0:>8.1f}"
            f" {b['rate']:>8.1f} {r['ratio'] or 0:>6.2f}"
            + (f"  ({r['error_count']} errors)" if r["error_count"] else "")
        )
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--readers", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=2_000_000)
    parser.add_argument("--rebuild", action="store_true", help="build the data set again")
    parser.add_argument("--seconds", type=float, default=2.0, help="length of one slice")
    parser.add_argument("--rounds", type=int, default=2, help="slices per page (and bare)")
    parser.add_argument("--concurrency", type=int, default=2, help="client threads")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers")
    parser.add_argument("--max-requests", type=int, default=5000, help="per slice")
    parser.add_argument("--only", default="", help="only pages whose name contains this")
    parser.add_argument("--json", default="", help="where to write the results")
    args = parser.parse_args(argv)

    url = dataset.ensure(args.readers, args.requests, rebuild=args.rebuild)
    info = prepare(url)
    port = free_port()
    server = serve(url, port, args.workers)
    try:
        client = Client(port, info["cookie_name"], info["sessions"])
        results = []
        for page in pages(info):
            if args.only and args.only not in page["name"]:
                continue
            result = measure(client, page, args)
            results.append(result)
            print(table([result]).splitlines()[-1], flush=True)
    finally:
        stop(server)
    print()
    print(table(results))
    output = {
        "when": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "scale": {"readers": args.readers, "requests": args.requests},
        "settings": {
            "seconds": args.seconds,
            "rounds": args.rounds,
            "concurrency": args.concurrency,
            "workers": args.workers,
            "server": "gunicorn (sync workers), DEBUG off, PostgreSQL",
        },
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
        "results": results,
    }
    path = Path(args.json or ROOT / "var" / "bench" / "bench-latest.json")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(output, indent=2, ensure_ascii=False))
    print(f"\nJSON written to {path}")
    failed = [r["name"] for r in results if "error" in r or r.get("error_count")]
    if failed:
        print("Pages with errors: " + ", ".join(failed), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
