#!/usr/bin/env python3
"""How fast `import_legacy` is beside a bare PostgreSQL COPY of the same files (issue 11).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/bench_import \\
        .venv/bin/python bench/import_legacy.py --accounts 20000 --requests 100000

Generates an export with ../shared/legacy/generate.py into a temporary directory, drops and
re-creates the database of DATABASE_URL (it must be a scratch database: everything in it is
lost), migrates it, then times for each file: the import (a subprocess of its own, whose peak
resident memory is measured) and a bare `COPY … FROM STDIN (FORMAT csv)` of the same file into
an unlogged table of text columns. Prints both rates side by side.

For the requests, a second baseline: the rows the import wrote (requests, their fee lines and
history entries), copied out, then `COPY`ed back into empty copies of the same three tables
and given the same indexes (built after the load, as a bulk load is done fastest): what
PostgreSQL alone needs to store those rows as the gateway keeps them, without reading the
export, cleaning it or checking anything. The import cannot be faster than this.
"""

import argparse
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlparse

import psycopg2

ROOT = Path(__file__).resolve().parents[1]
GENERATOR_CANDIDATES = [ROOT.parent / "shared" / "legacy" / "generate.py"]
GENERATOR_CANDIDATES.append(Path("/work/shared/legacy/generate.py"))


def connect(url, dbname=None):
    parts = urlparse(url)
    return psycopg2.connect(
        host=parts.hostname,
        port=parts.port or 5432,
        user=parts.username,
        password=parts.password,
        dbname=dbname or parts.path.lstrip("/"),
    )


def recreate(url):
    name = urlparse(url).path.lstrip("/")
    if not (name.startswith("bench") or name.endswith("_bench")):
        sys.exit(f"refusing to drop {name!r}: a benchmark database is named bench… or …_bench")
    admin = connect(url, "postgres")
    admin.autocommit = True
    with admin.cursor() as cursor:
        cursor.execute(f'DROP DATABASE IF EXISTS "{name}"')
        cursor.execute(f'CREATE DATABASE "{name}"')
    admin.close()


def rows_in(path):
    import csv

    with open(path, encoding="utf-8-sig", newline="") as handle:
        return sum(1 for _ in csv.reader(handle)) - 1


def bare_copy(url, path):
    with open(path, encoding="utf-8-sig") as handle:
        columns = handle.readline().strip().split(",")
    connection = connect(url)
    with connection, connection.cursor() as cursor:
        cursor.execute("DROP TABLE IF EXISTS bench_copy")
        fields = ", ".join(f'"{c}" text' for c in columns)
        cursor.execute(f"CREATE UNLOGGED TABLE bench_copy ({fields})")
        started = time.perf_counter()
        with open(path, "rb") as handle:
            cursor.copy_expert(
                "COPY bench_copy FROM STDIN WITH (FORMAT csv, HEADER true, ENCODING 'UTF8')",
                handle,
            )
        elapsed = time.perf_counter() - started
        cursor.execute("DROP TABLE bench_copy")
    connection.close()
    return elapsed


# What the requests' import writes (requests_app/legacy_copy.py), in the order it writes them.
REQUEST_TABLES = ["requests_app_illrequest", "requests_app_feeline", "requests_app_statuschange"]
_INDEX_NAME = re.compile(r"^CREATE (UNIQUE )?INDEX (\S+) ON (\S+) ")


def indexed_copy(url, directory):
    """Seconds to COPY the imported rows of REQUEST_TABLES into empty copies of those tables and
    build the same indexes (those behind constraints too); indexes built one after another,
    with the import's maintenance_work_mem."""
    connection = connect(url)
    elapsed = 0.0
    with connection, connection.cursor() as cursor:
        cursor.execute("SET maintenance_work_mem = '1GB'")
        for table in REQUEST_TABLES:
            dump = Path(directory) / f"{table}.bin"
            with open(dump, "wb") as handle:
                cursor.copy_expert(f"COPY {table} TO STDOUT (FORMAT binary)", handle)
            cursor.execute(
                "SELECT pg_get_indexdef(indexrelid) FROM pg_index WHERE indrelid = %s::regclass",
                [table],
            )
            definitions = [row[0] for row in cursor.fetchall()]
            copy = f"bench_{table}"
            cursor.execute(f"DROP TABLE IF EXISTS {copy}")
            cursor.execute(f"CREATE TABLE {copy} (LIKE {table} INCLUDING DEFAULTS)")
            started = time.perf_counter()
            with open(dump, "rb") as handle:
                cursor.copy_expert(f"COPY {copy} FROM STDIN (FORMAT binary)", handle)
            for definition in definitions:
                cursor.execute(
                    _INDEX_NAME.sub(rf"CREATE \1INDEX \2_bench ON public.{copy} ", definition)
                )
            elapsed += time.perf_counter() - started
            cursor.execute(f"DROP TABLE {copy}")
            dump.unlink()
    connection.close()
    return elapsed


def run_import(env, option, path):
    """Seconds, peak resident memory (KiB) of this import's own process, its summary line."""
    command = [sys.executable, "manage.py", "import_legacy", option, str(path)]
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        started = time.perf_counter()
        child = subprocess.Popen(command, cwd=ROOT, env=env, stdout=out, stderr=err, text=True)
        # wait4: this child's own resource usage (RUSAGE_CHILDREN keeps the largest of all).
        _pid, status, usage = os.wait4(child.pid, 0)
        elapsed = time.perf_counter() - started
        child.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        if child.returncode:
            sys.exit(err.read())
        summary = [line for line in out.read().splitlines() if "created" in line]
    return elapsed, usage.ru_maxrss, summary[-1]


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--accounts", type=int, default=20_000)
    parser.add_argument("--requests", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    url = os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/bench_import")
    generator = next(p for p in GENERATOR_CANDIDATES if p.exists())
    # Production-like: DEBUG off (with DEBUG on Django keeps every query it runs).
    env = {
        "SECRET_KEY": "bench-only-secret-key-0123456789-abcdefghijklmnop",
        "ALLOWED_HOSTS": "localhost",
        **os.environ,
        "DATABASE_URL": url,
        "DEBUG": "false",
    }
    with tempfile.TemporaryDirectory() as directory:
        out = Path(directory)
        subprocess.run(
            [sys.executable, str(generator), "--out", str(out), "--accounts", str(args.accounts),
             "--requests", str(args.requests), "--seed", str(args.seed)],
            check=True, capture_output=True,
        )  # fmt: skip
        recreate(url)
        subprocess.run(
            [sys.executable, "manage.py", "migrate", "-v0"], cwd=ROOT, env=env, check=True
        )
        iterations = os.environ.get("LEGACY_PASSWORD_ITERATIONS", "100000 (default)")
        print(f"PostgreSQL {url}; PBKDF2 iterations of wrapped old passwords: {iterations}")
        print(f"{'file':10} {'rows':>8} {'import s':>9} {'rows/s':>9} {'COPY s':>8} "
              f"{'COPY rows/s':>12} {'ratio':>6} {'peak MB':>8}")  # fmt: skip
        for option, name in (("--accounts", "accounts"), ("--requests", "requests")):
            path = out / f"{name}.csv"
            count = rows_in(path)
            elapsed, peak_kib, summary = run_import(env, option, path)
            copy_elapsed = bare_copy(url, path)
            rate, copy_rate = count / elapsed, count / copy_elapsed
            print(
                f"{name:10} {count:>8} {elapsed:>9.1f} {rate:>9.0f} {copy_elapsed:>8.2f} "
                f"{copy_rate:>12.0f} {rate / copy_rate:>6.3f} {peak_kib / 1024:>8.0f}"
            )
            print(f"           {summary}")
            if name == "requests":
                floor = indexed_copy(url, out)
                print(
                    f"{'':10} {'':>8} {'':>9} {'':>9} {floor:>8.2f} {count / floor:>12.0f} "
                    f"{rate / (count / floor):>6.3f}   the rows written, COPY + their indexes"
                )


if __name__ == "__main__":
    main()
