"""Where an order placement's time goes, in one process on PostgreSQL (no HTTP, no gunicorn).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/kb_bench_place \\
    CELERY_BROKER_URL=redis://127.0.0.1:6379/9 .venv/bin/python bench/place_inprocess.py [--requests N]

Prepares the same data as ``bench/api.py``'s ``POST /orders`` scenario and its write floor (a
scratch database it drops at the end), places each of the scenario's 500 customers' first order
(unprofiled: the steady state is a returning customer), then drives the read floor, the write floor and
``POST /api/v1/orders`` through Django's test client on one connection, and prints
milliseconds per request, then placement's profile: the time of each phase (inclusive, with the
statements it sent) and the database time of each statement shape, per request (BEGIN goes
with the first statement of a transaction, COMMIT is timed on its own).
"""

from __future__ import annotations

import os
import re
import sys
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import inprocess_main  # noqa: E402

DEFAULT_DB = "postgres://postgres@127.0.0.1:5432/kb_bench_place"


def main() -> None:
    inprocess_main(script="bench/place_inprocess.py", doc=__doc__, default_db=DEFAULT_DB, run=run,
                   env={"BENCH_WRITE_FLOOR": "true"})


class Profile:
    """Inclusive time and statements of each phase (functions wrapped while it is on), and the
    database time of each statement shape, with the innermost phase it ran in."""

    def __init__(self) -> None:
        self.stack: list[str] = []
        self.phases: dict[str, list] = defaultdict(lambda: [0.0, 0])  # seconds, statements
        self.statements: dict[tuple[str, str], list] = defaultdict(lambda: [0.0, 0])
        self.order: list[str] = []
        self.depth: dict[str, int] = {}
        self._patched: list[tuple[object, str, object]] = []

    def wrap(self, owner, name: str, label: str | None = None) -> None:
        label = label or name
        original = getattr(owner, name)
        self.order.append(label)
        profile = self

        def timed(*args, **kwargs):
            profile.depth.setdefault(label, len(profile.stack))
            profile.stack.append(label)
            start = time.perf_counter()
            try:
                return original(*args, **kwargs)
            finally:
                profile.phases[label][0] += time.perf_counter() - start
                profile.stack.pop()

        self._patched.append((owner, name, original))
        setattr(owner, name, timed)

    def unwrap(self) -> None:
        for owner, name, original in reversed(self._patched):
            setattr(owner, name, original)

    def statement(self, shape: str, seconds: float) -> None:
        phase = self.stack[-1] if self.stack else "(view)"
        self.statements[(shape, phase)][0] += seconds
        self.statements[(shape, phase)][1] += 1
        for label in set(self.stack):
            self.phases[label][1] += 1

    def __call__(self, execute, sql, params, many, context):
        start = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            shape = re.sub(r'"s\d+_x\d+"', "…", " ".join(sql.split()))  # one line per savepoint statement
            self.statement(shape[:58], time.perf_counter() - start)


def run(n: int) -> None:
    import bench.api as api

    api.setup_django()
    import psycopg
    from django.db import connection
    from django.test import Client

    ctx = api.base_context()
    customers = 500  # the scenario's customers: each places its first order before the profile
    floor, write_floor, places = api._floor(ctx, n), api._write_floor(ctx, n), api._post_order(ctx, n + customers)
    client = Client()

    def drive(requests) -> float:
        start = time.perf_counter()
        for method, path, body, headers in requests:
            r = client.generic(method, path, body or b"", content_type="application/json",
                               HTTP_AUTHORIZATION=headers["Authorization"])
            assert r.status_code < 300, r.content
        return (time.perf_counter() - start) / len(requests) * 1000

    warm = 20
    drive(floor[:100])  # warm: connection, prepared statements
    drive(write_floor[:warm])
    drive(places[:customers])  # every customer exists and has ordered to this address: the steady state
    print(f"bench/place_inprocess.py — PostgreSQL, one process, {n} requests each, {os.cpu_count()} CPUs, "
          f"load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print(f"read floor   GET /ping               {drive(floor):6.2f} ms/request")
    print(f"write floor  POST /bench/write-floor {drive(write_floor[warm:]):6.2f} ms/request")

    profile = _placement_profile()
    commit = psycopg.Connection.commit

    def timed_commit(self):
        start = time.perf_counter()
        commit(self)
        profile.statement("COMMIT", time.perf_counter() - start)

    psycopg.Connection.commit = timed_commit
    try:
        with connection.execute_wrapper(profile):
            ms = drive(places[customers:])
    finally:
        psycopg.Connection.commit = commit
        profile.unwrap()
    done = n
    db = sum(t for t, _ in profile.statements.values())
    count = sum(c for _, c in profile.statements.values())
    print(f"placement    POST /orders            {ms:6.2f} ms/request, {count / done:.1f} statements "
          f"({db / done * 1000:.2f} ms in the database)")
    print("  phases (inclusive ms/request, statements/request):")
    for label in profile.order:
        if label in profile.phases:
            seconds, statements = profile.phases[label]
            indent = "  " * profile.depth.get(label, 0)
            print(f"    {seconds / done * 1000:6.2f} ms {statements / done:5.1f}  {indent}{label}")
    print("  statements (database ms/request, count/request, the innermost phase):")
    for (shape, phase), (seconds, c) in sorted(profile.statements.items(), key=lambda item: -item[1][0])[:30]:
        print(f"    {seconds / done * 1000:6.2f} ms {c / done:5.1f}  {shape:58}  {phase}")


def _placement_profile() -> Profile:
    """The phases of ``POST /orders``, as ``shop.services.orders`` calls them."""
    from fraud.services import screening
    from payments import gateway
    from shop.api import views
    from shop.services import card_capture, customers, messages, orders, stock

    profile = Profile()
    profile.wrap(views.OrderCreateView, "post", "view (auth done; validation, placement, response)")
    profile.wrap(views, "validated", "validation")
    profile.wrap(orders, "place", "orders.place")
    profile.wrap(orders, "_open_order", "transaction 1 (without BEGIN/COMMIT)")
    for owner, name in [(customers, "upsert"), (customers, "lock_open"), (orders, "_load_listings"),
                        (orders, "_destination_fields"), (screening, "screen_address"),
                        (gateway.SandboxGateway, "check_token"), (screening, "assess"), (orders, "_create_order"),
                        (stock, "reserve"), (orders, "_take_payment"), (orders.events, "placed"),
                        (screening, "settle")]:
        profile.wrap(owner, name, f"{getattr(owner, '__name__', owner)}.{name}")
    profile.wrap(card_capture, "capture", "card capture (no transaction)")
    profile.wrap(orders, "_record_capture", "transaction 2")
    profile.wrap(messages, "render", "messages.render (template)")
    return profile


if __name__ == "__main__":
    main()
