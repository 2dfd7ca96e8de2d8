"""Where a konbini confirmation's time goes, in one process on PostgreSQL (no HTTP, no gunicorn).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/kb_bench_inprocess \
    CELERY_BROKER_URL=redis://127.0.0.1:6379/9 .venv/bin/python bench/confirm_inprocess.py [--requests N]

Prepares the same data as ``bench/api.py``'s confirm scenario (a scratch database it drops at
the end), then drives the floor (``GET /api/v1/ping``) and ``POST /api/v1/konbini/payments/confirm``
through Django's test client on one connection, and prints milliseconds per request plus the
database time of each statement a confirmation sends (BEGIN goes with the first statement).
"""

from __future__ import annotations

import os
import sys
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import inprocess_main  # noqa: E402

DEFAULT_DB = "postgres://postgres@127.0.0.1:5432/kb_bench_inprocess"


def main() -> None:
    inprocess_main(script="bench/confirm_inprocess.py", doc=__doc__, default_db=DEFAULT_DB, run=run)


def run(n: int) -> None:
    import bench.api as api

    api.setup_django()
    import psycopg
    from django.db import connection
    from django.test import Client

    ctx = api.base_context()
    floor, confirms = api._floor(ctx, n), api._konbini_confirm(ctx, n)
    client = Client()

    def drive(requests) -> float:
        start = time.perf_counter()
        for method, path, body, headers in requests:
            r = client.generic(method, path, body or b"", content_type="application/json",
                               HTTP_AUTHORIZATION=headers["Authorization"])
            assert r.status_code < 300, r.content
        return (time.perf_counter() - start) / len(requests) * 1000

    drive(floor[:100])  # warm: connection, prepared statements
    drive(confirms[:20])
    totals: dict[str, float] = defaultdict(float)

    def timed(execute, sql, params, many, context):
        start = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            totals[" ".join(sql.split())[:40]] += time.perf_counter() - start

    commit = psycopg.Connection.commit

    def timed_commit(self):
        start = time.perf_counter()
        commit(self)
        totals["COMMIT"] += time.perf_counter() - start

    print(f"bench/confirm_inprocess.py — PostgreSQL, one process, {n} requests each, {os.cpu_count()} CPUs")
    print(f"floor   GET /ping                       {drive(floor):6.2f} ms/request")
    psycopg.Connection.commit = timed_commit
    try:
        with connection.execute_wrapper(timed):
            ms = drive(confirms[20:])
    finally:
        psycopg.Connection.commit = commit
    print(f"confirm POST /konbini/payments/confirm  {ms:6.2f} ms/request, of which in the database:")
    done = n - 20
    for statement, seconds in totals.items():
        print(f"    {seconds / done * 1000:5.2f} ms  {statement}")


if __name__ == "__main__":
    main()
