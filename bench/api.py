"""API throughput benchmark on PostgreSQL: every scenario side by side with the floor endpoint.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/kb_bench \
    CELERY_BROKER_URL=redis://127.0.0.1:6379/9 .venv/bin/python bench/api.py [--requests N] [--concurrency C]

It (re)creates the bench database, migrates, prepares data through the ORM, starts gunicorn
(gthread workers) on 127.0.0.1, then drives each scenario with C keep-alive clients spread over
two client processes, printing requests/s, p50 and p99 latency and the ratio to two floors:
the read floor (authenticated, one primary-key read: ``GET /api/v1/ping``) and the write floor
(``POST /api/v1/bench/write-floor``, ``bench/floor.py``: the placement body validated, then an
order, two lines, a payment and an event inserted in one transaction — the least any placement
must do; mounted because the server runs with ``BENCH_WRITE_FLOOR=true``). Both floors are
measured alongside each scenario: the scenario runs in ``--rounds`` slices, each right after a
slice of each floor, and each ratio compares the sides' totals (a floor's own line is one plain
run).

Before it is timed, the preparation's writes are flushed (``bench.common.settle``) and each scenario
sends ``--warm`` requests (default 100) that are not measured, as the floors are warmed: a server
process's first requests import and compile, and each connection's first executions of a statement
are not yet prepared (``DB_PREPARE_THRESHOLD``) — the figures are the steady state.

Scenarios are entries of ``SCENARIOS``: a name, an optional target (fraction of the throughput
of the floor named by ``target_floor``), an optional p99 bound in milliseconds and a
``prepare(ctx, n)`` returning n ready-made requests. Other apps add theirs at the bottom of
this file. ``bench/place_inprocess.py`` shows where a placement's time goes.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import signal
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import scratch_database, settle  # noqa: E402

DEFAULT_DB = "postgres://postgres@127.0.0.1:5432/kb_bench"
PORT = int(os.environ.get("BENCH_PORT", "8765"))

Request = tuple[str, str, bytes | None, dict[str, str]]  # method, path, body, headers


@dataclass
class Context:
    keys: dict[str, str] = field(default_factory=dict)  # partner name → API key

    def headers(self, who: str, **extra: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.keys[who]}", "Content-Type": "application/json", **extra}


@dataclass
class Scenario:
    name: str
    prepare: Callable[[Context, int], list[Request]]
    target: float | None = None  # required fraction of the target floor's requests/s
    target_floor: str = "read"  # "read" or "write"
    max_p99: float | None = None  # required p99 latency, milliseconds


SCENARIOS: list[Scenario] = []
READ_FLOOR, WRITE_FLOOR = "floor GET /ping", "floor POST /bench/write-floor"
FLOORS = {"read": READ_FLOOR, "write": WRITE_FLOOR}


def scenario(name: str, target: float | None = None, *, target_floor: str = "read", max_p99: float | None = None):
    def register(func):
        SCENARIOS.append(Scenario(name, func, target, target_floor, max_p99))
        return func

    return register


# --- setup -----------------------------------------------------------------------------------

def setup_django() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "backoffice.settings")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def make_partner(ctx: Context, name: str, kind: str, **fields) -> None:
    from backoffice.models import Partner

    partner = Partner(name=name, kind=kind, **fields)
    ctx.keys[name] = partner.issue_key()
    partner.save()


def base_context() -> Context:
    from shop.models import Seller

    ctx = Context()
    make_partner(ctx, "storefront", "storefront")
    make_partner(ctx, "warehouse", "warehouse")
    make_partner(ctx, "carrier", "carrier", carrier="yamato")
    for chain in ("lawson", "familymart", "seven_eleven"):
        make_partner(ctx, chain, "konbini_chain", chain=chain)
    make_partner(ctx, "seller", "seller", seller=Seller.objects.create(name="bench seller"))
    return ctx


def place_orders(n: int, *, method: str = "card", **listing_fields) -> list:
    """n real orders through the placement service (same code path as the API)."""
    from shop.models import Listing, Seller
    from shop.services import orders

    seller = Seller.objects.first()
    listing = Listing.objects.create(seller=seller, sku=f"BENCH-{method}-{time.monotonic_ns()}", title="ベンチ用商品",
                                     price=1980, stock=10**6, fulfilled_by="platform", **listing_fields)
    placed = []
    for i in range(n):
        placed.append(orders.place(
            customer_data={"external_id": f"bench-{i % 500}", "email": f"b{i % 500}@example.jp", "name": "ベンチ"},
            items=[{"sku": listing.sku, "quantity": 1}], shipping_speed="standard",
            destination=orders.Destination(type="home", postal_code="1000001", prefecture="東京都", city="千代田区",
                                           address_line="千代田1-1", recipient_name="山田", phone="0312345678"),
            payment_method=method, card_token="tok_visa" if method == "card" else None, actor="bench",
        ))
    return placed


# --- scenarios -------------------------------------------------------------------------------

@scenario(READ_FLOOR)
def _floor(ctx: Context, n: int) -> list[Request]:
    return [("GET", "/api/v1/ping", None, ctx.headers("storefront"))] * n


def placement_body(i: int, sku: str, prefix: str = "post") -> dict:
    """The body of ``POST /orders`` the placement scenarios send: a card order of one item, from
    one of 500 customers, to a home address Japan Post knows."""
    return {"customer": {"external_id": f"bench-{prefix}-{i % 500}", "email": f"{prefix}{i % 500}@example.jp",
                         "name": "ベンチ"},
            "items": [{"sku": sku, "quantity": 1}], "shipping_speed": "standard",
            "destination": {"type": "home", "postal_code": "100-0001", "prefecture": "東京都", "city": "千代田区",
                            "address_line": "千代田1-1", "recipient_name": "山田", "phone": "03-1234-5678"},
            "payment_method": "card", "card_token": "tok_visa"}


@scenario(WRITE_FLOOR)
def _write_floor(ctx: Context, n: int) -> list[Request]:
    """The placement body (validated by the same serializer), plus the rows the floor's order
    points at: a customer and two listings made here."""
    from shop.models import Customer, Listing, Seller

    seller = Seller.objects.first()
    customer = Customer.objects.create(external_id="bench-floor", email="floor@example.jp", name="ベンチ")
    listings = [Listing.objects.create(seller=seller, sku=f"BENCH-FLOOR-{i}", title="ベンチ用商品", price=1980,
                                       stock=10**7, fulfilled_by="platform") for i in range(2)]
    rows = {"customer_id": customer.pk, "listing_ids": [listing.pk for listing in listings]}
    return [("POST", "/api/v1/bench/write-floor", json.dumps({**placement_body(i, listings[0].sku, "floor"),
                                                               "floor": rows}).encode(), ctx.headers("storefront"))
            for i in range(n)]


@scenario("GET /orders/{n}", target=0.5)
def _get_order(ctx: Context, n: int) -> list[Request]:
    from backoffice.checkdigits import seven_dr_number
    from backoffice.timeutil import now
    from shop.services import shipments

    sample = place_orders(200)
    for i, order in enumerate(sample):  # realistic resources: shipped, with carrier events
        shipment = shipments.register(order=order, carrier="yamato", tracking_number=seven_dr_number(f"{40000000000 + i}"),
                                      actor="bench")
        for kind in ("accepted", "in_transit"):
            shipments.record_event(shipment=shipment, type=kind, occurred_at=now(), location="羽田クロノゲート",
                                   actor="bench")
    return [("GET", f"/api/v1/orders/{sample[i % len(sample)].number}", None, ctx.headers("storefront"))
            for i in range(n)]


@scenario("POST /orders", target=0.4, target_floor="write", max_p99=100)
def _post_order(ctx: Context, n: int) -> list[Request]:
    """Card orders from 500 different customers over 20 listings: the row locks a placement takes
    (the customer's, the listing's stock) are spread as in real traffic, not one hot row."""
    from shop.models import Listing, Seller

    seller = Seller.objects.first()
    listings = [Listing.objects.create(seller=seller, sku=f"BENCH-POST-{i}", title="ベンチ用商品", price=1980,
                                       stock=10**7, fulfilled_by="platform") for i in range(20)]
    return [("POST", "/api/v1/orders", json.dumps(placement_body(i, listings[i % len(listings)].sku)).encode(),
             ctx.headers("storefront")) for i in range(n)]


@scenario("POST /orders, one listing")
def _post_order_hot_listing(ctx: Context, n: int) -> list[Request]:
    """Card orders from 500 customers for ONE listing: every placement decrements the same stock
    row. Run with ``SANDBOX_GATEWAY_CAPTURE_SECONDS=0.05`` (a 50 ms gateway) to see whether the
    capture holds that row: held, the placements queue behind each other's gateway calls."""
    from shop.models import Listing, Seller

    listing = Listing.objects.create(seller=Seller.objects.first(), sku="BENCH-HOT", title="ベンチ用商品", price=1980,
                                     stock=10**7, fulfilled_by="platform")
    return [("POST", "/api/v1/orders", json.dumps(placement_body(i, listing.sku, "hot")).encode(),
             ctx.headers("storefront")) for i in range(n)]


@scenario("POST /konbini/payments/confirm", target=0.4)
def _konbini_confirm(ctx: Context, n: int) -> list[Request]:
    """Each request pays a different pending konbini order at a Lawson register (with 8888)."""
    from backoffice.timeutil import local, now
    from payments.konbini.chains import CHAINS
    from payments.konbini.codes import new_number
    from payments.konbini.models import PaymentCode
    from payments.models import Payment
    from pickup.models import Store

    lawson = CHAINS["lawson"]
    # The register's store must be in Lawson's store master (issue 12).
    Store.objects.get_or_create(code="LS0001", defaults={"chain": "lawson", "name": "ローソン レジ店",
                                                         "prefecture": "東京都", "address": "千代田区1-1"})
    pending = place_orders(n, method="konbini")
    numbers: set[str] = set()
    while len(numbers) < len(pending):
        numbers.add(new_number(lawson))
    payments = Payment.objects.filter(order__in=pending).order_by("order_id")
    PaymentCode.objects.bulk_create(
        PaymentCode(payment=p, chain=lawson.code, number=number, check_code=lawson.check_code, created_at=now())
        for p, number in zip(payments, sorted(numbers), strict=True))
    paid_at = local(now()).isoformat()
    return [("POST", "/api/v1/konbini/payments/confirm",
             json.dumps({"payment_number": code.number, "check_code": lawson.check_code, "amount": code.payment.amount,
                         "store_code": "LS0001", "paid_at": paid_at, "receipt_number": f"R-{i:08d}"}).encode(),
             ctx.headers("lawson"))
            for i, code in enumerate(PaymentCode.objects.select_related("payment").filter(chain="lawson"))]


@scenario("POST /pickup/tickets", target=0.4)
def _pickup_ticket(ctx: Context, n: int) -> list[Request]:
    """A Loppi terminal prints 申し込み券 for parcels waiting at its store (keys typed as people
    type them: the inquiry number with hyphens); each request is a different real parcel (placed,
    shipped and arrived through the services), as at a real terminal where most parcels get one
    ticket. (A reprint also voids the old ticket: one more UPDATE, covered by the tests.)"""
    from backoffice.checkdigits import seven_dr_number
    from backoffice.timeutil import now
    from pickup.models import Pickup, Store
    from shop.models import Listing, Seller
    from shop.services import orders, shipments

    store = Store.objects.create(chain="lawson", code="BENCH-LS1", name="ローソン ベンチ店", prefecture="東京都",
                                 address="千代田区1-1")
    listing = Listing.objects.create(seller=Seller.objects.first(), sku=f"BENCH-pickup-{time.monotonic_ns()}",
                                     title="ベンチ用商品", price=1980, stock=10**6, fulfilled_by="platform")
    for i in range(n):
        order = orders.place(
            customer_data={"external_id": f"bench-pickup-{i}", "email": f"bp{i}@example.jp", "name": "ベンチ"},
            items=[{"sku": listing.sku, "quantity": 1}], shipping_speed="standard",
            destination=orders.Destination(type="pickup_store", store_code=store.code),
            payment_method="card", card_token="tok_visa", actor="bench",
        )
        shipment = shipments.register(order=order, carrier="yamato", tracking_number=seven_dr_number(f"{50_000_000_000 + i}"),
                                      actor="bench")
        shipments.record_event(shipment=shipment, type="arrived_at_store", occurred_at=now(), location=store.name,
                               store_code=store.code, actor="bench")
    parcels = list(Pickup.objects.filter(store=store).order_by("pk"))
    bodies = [json.dumps({"store_code": store.code, "auth_number": p.auth_number,
                          "inquiry_number": f"{p.inquiry_number[:4]}-{p.inquiry_number[4:8]}-{p.inquiry_number[8:]}"}
                         ).encode() for p in parcels]
    return [("POST", "/api/v1/pickup/tickets", bodies[i % len(bodies)], ctx.headers("lawson")) for i in range(n)]


# --- load generation -------------------------------------------------------------------------

def _client(requests: list[Request], threads: int) -> tuple[list[float], int, float, float]:
    """One client process: ``threads`` keep-alive connections. Returns latencies, errors and the
    process's own start and end (CLOCK_MONOTONIC, comparable across processes), so the process
    pool's start-up is not counted as serving time."""
    started = time.monotonic()
    latencies: list[float] = []
    errors = 0
    lock = threading.Lock()
    chunks = [requests[i::threads] for i in range(threads)]

    def run(chunk: list[Request]):
        nonlocal errors
        conn = http.client.HTTPConnection("127.0.0.1", PORT, timeout=30)
        mine, bad = [], 0
        for method, path, body, headers in chunk:
            start = time.perf_counter()
            try:
                conn.request(method, path, body=body, headers=headers)
                response = conn.getresponse()
                response.read()
                if response.status >= 400:
                    bad += 1
                if response.getheader("Connection", "").lower() == "close":
                    conn.close()
                    conn = http.client.HTTPConnection("127.0.0.1", PORT, timeout=30)
            except (OSError, http.client.HTTPException):
                bad += 1
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", PORT, timeout=30)
            mine.append(time.perf_counter() - start)
        with lock:
            latencies.extend(mine)
            errors += bad

    workers = [threading.Thread(target=run, args=(c,)) for c in chunks]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    return latencies, errors, started, time.monotonic()


def _run(requests: list[Request], concurrency: int, processes: int = 2) -> tuple[list[float], int, float]:
    parts = [requests[i::processes] for i in range(processes)]
    per_process = max(1, concurrency // processes)
    with ProcessPoolExecutor(max_workers=processes) as pool:
        results = list(pool.map(_client, parts, [per_process] * processes))
    elapsed = max(r[3] for r in results) - min(r[2] for r in results)
    return [x for r in results for x in r[0]], sum(r[1] for r in results), elapsed


def _summary(latencies: list[float], errors: int, elapsed: float) -> dict:
    latencies = sorted(latencies)
    return {
        "rps": len(latencies) / elapsed,
        "p50": statistics.median(latencies) * 1000,
        "p99": latencies[int(len(latencies) * 0.99) - 1] * 1000,
        "errors": errors,
        "n": len(latencies),
    }


def drive(requests: list[Request], concurrency: int, processes: int = 2) -> dict:
    return _summary(*_run(requests, concurrency, processes))


# --- where the CPU goes ------------------------------------------------------------------------

_TICK = os.sysconf("SC_CLK_TCK")
SERVER_PGID: int | None = None  # gunicorn's process group, once started


def cpu_snapshot() -> dict:
    """CPU seconds used so far by each process of the server (gunicorn's process group) and of
    the database (every ``postgres`` process: nothing else uses this machine's server during a
    run), by the client processes (reaped children of this process) and by the whole machine
    (busy time, /proc/stat)."""
    import resource

    processes: dict[int, tuple[str, float]] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat") as f:
                head, _, tail = f.read().rpartition(")")
        except OSError:
            continue
        fields = tail.split()
        group = ("server" if SERVER_PGID is not None and int(fields[2]) == SERVER_PGID
                 else "database" if head.endswith("(postgres") else None)
        if group:
            processes[int(entry.name)] = (group, (int(fields[11]) + int(fields[12])) / _TICK)  # utime + stime
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    with open("/proc/stat") as f:
        cpu = [int(x) for x in f.readline().split()[1:]]
    from django.db import connection

    with connection.cursor() as cursor:  # the WAL the database wrote (full-page images after a checkpoint)
        cursor.execute("SELECT wal_bytes, wal_fpi FROM pg_stat_wal")
        wal_bytes, wal_fpi = cursor.fetchone()
    return {"processes": processes, "clients": children.ru_utime + children.ru_stime,
            "machine": (sum(cpu) - cpu[3] - cpu[4]) / _TICK,  # all but idle and iowait
            "wal_kb": float(wal_bytes) / 1024, "wal_fpi": float(wal_fpi)}


def cpu_used(start: dict, end: dict) -> dict[str, float]:
    """Seconds of CPU between two snapshots by group. A process that exited in between (a
    database connection Django recycles after CONN_MAX_AGE) loses its last seconds: a slight
    undercount, never a negative."""
    out = {"server": 0.0, "database": 0.0}
    for pid, (group, used) in end["processes"].items():
        before = start["processes"].get(pid)
        out[group] += used - (before[1] if before and before[0] == group else 0.0)
    out["clients"] = end["clients"] - start["clients"]  # the server is reaped only at the end
    for key in ("machine", "wal_kb", "wal_fpi"):
        out[key] = end[key] - start[key]
    return out


def drive_paired(floors: dict[str, list[Request]], requests: list[Request], concurrency: int,
                 rounds: int) -> tuple[dict[str, dict], dict]:
    """The scenario's requests in ``rounds`` slices, each right after a slice of each floor's: all
    are measured under the same machine conditions (a shared host drifts by tens of percent over a
    run), and each side's requests/s is its total requests over its total time. Returns each
    floor's summary and the scenario's."""
    sides = {side: ([], 0, 0.0) for side in [*floors, "scenario"]}
    cpu: dict[str, float] = {}
    for r in range(rounds):
        for side, reqs in [*floors.items(), ("scenario", requests)]:
            chunk = reqs[r::rounds]
            start = cpu_snapshot() if side == "scenario" else None
            lat, err, elapsed = _run(chunk, concurrency)
            if start is not None:
                cpu = {k: cpu.get(k, 0.0) + v for k, v in cpu_used(start, cpu_snapshot()).items()}
            before = sides[side]
            sides[side] = (before[0] + lat, before[1] + err, before[2] + elapsed)
    scenario = _summary(*sides["scenario"])
    scenario["cpu_ms"] = {k: v / scenario["n"] * (1 if k.startswith("wal") else 1000) for k, v in cpu.items()}
    return {side: _summary(*sides[side]) for side in floors}, scenario


def start_server(env: dict, workers: int, threads: int) -> subprocess.Popen:
    proc = subprocess.Popen(
        [str(ROOT / ".venv/bin/gunicorn"), "backoffice.wsgi:application", "--bind", f"127.0.0.1:{PORT}",
         "--workers", str(workers), "--threads", str(threads), "--log-level", "warning"],
        cwd=ROOT, env=env, start_new_session=True,
    )
    for _ in range(100):
        try:
            conn = http.client.HTTPConnection("127.0.0.1", PORT, timeout=1)
            conn.request("GET", "/healthz")
            if conn.getresponse().status == 200:
                return proc
        except OSError:
            pass
        time.sleep(0.1)
    proc.kill()
    raise SystemExit("gunicorn did not become healthy")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=3000, help="requests per scenario")
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--workers", type=int, default=2, help="gunicorn worker processes")
    parser.add_argument("--threads", type=int, default=4, help="threads per gunicorn worker")
    parser.add_argument("--only", nargs="*", help="scenario names (substring match); the floor always runs")
    parser.add_argument("--warm", type=int, default=100,
                        help="requests of each scenario sent first and not measured (as the floors are warmed)")
    parser.add_argument("--rounds", type=int, default=3,
                        help="each scenario runs in this many slices, each paired with a slice of the floor")
    args = parser.parse_args()

    scratch_database("bench/api.py", DEFAULT_DB, broker="redis://127.0.0.1:6379/9", var_dir="/tmp/kb-bench")
    setup_django()
    ctx = base_context()
    chosen = [s for s in SCENARIOS if s.name in FLOORS.values() or not args.only
              or any(o in s.name for o in args.only)]
    warm = {s.name: 0 if s.name in FLOORS.values() else args.warm for s in chosen}
    prepared = {s.name: s.prepare(ctx, args.requests + warm[s.name]) for s in chosen}
    from django.db import connection, connections

    with connection.cursor() as cursor:
        settle(cursor)  # the preparation's writes flushed before anything is timed
    connections.close_all()

    env = {**os.environ, "LOG_LEVEL": "WARNING", "BENCH_WRITE_FLOOR": "true"}
    server = start_server(env, args.workers, args.threads)
    global SERVER_PGID
    SERVER_PGID = server.pid  # start_new_session: its pid is its process group
    try:
        for name in FLOORS.values():
            drive(prepared[name][: min(200, args.requests)], args.concurrency)  # warm
        print(f"bench/api.py — PostgreSQL, gunicorn {args.workers}×{args.threads} gthread, "
              f"{args.concurrency} keep-alive clients, {args.requests} requests per scenario, "
              f"{os.cpu_count()} CPUs, load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
        print(f"{'scenario':38} {'req/s':>8} {'p50 ms':>7} {'p99 ms':>7} {'errors':>6} {'read r/s':>8} "
              f"{'vs read':>7} {'write r/s':>9} {'vs write':>8}  target")
        floors = {side: prepared[name] for side, name in FLOORS.items()}
        failed = []
        cpu_lines: list[str] = []
        for s in chosen:
            if s.name in FLOORS.values():
                result = drive(prepared[s.name], args.concurrency)
                paired = {side: result for side, name in FLOORS.items() if name == s.name}
            else:
                # A process's first requests import and compile, a connection's first executions of a
                # statement are not yet prepared (DB_PREPARE_THRESHOLD): the steady state is measured.
                drive(prepared[s.name][:warm[s.name]], args.concurrency)
                paired, result = drive_paired(floors, prepared[s.name][warm[s.name]:], args.concurrency, args.rounds)
            ratios = {side: result["rps"] / floor["rps"] for side, floor in paired.items()}
            verdicts = []
            if s.target is not None:
                ok = ratios[s.target_floor] >= s.target and result["errors"] == 0
                verdicts.append(f"{'≥' if ok else '<'}{s.target:.0%} of {s.target_floor}")
                failed += [] if ok else [s.name]
            if s.max_p99 is not None:
                ok = result["p99"] < s.max_p99
                verdicts.append(f"p99 {'<' if ok else '≥'} {s.max_p99:.0f} ms")
                failed += [] if ok or s.name in failed else [s.name]
            cells = [f"{paired[side]['rps']:{w}.1f} {ratios[side]:{v}.0%}" if side in paired else " " * (w + v + 1)
                     for side, w, v in (("read", 8, 7), ("write", 9, 8))]
            print(f"{s.name:38} {result['rps']:8.1f} {result['p50']:7.1f} {result['p99']:7.1f} "
                  f"{result['errors']:6d} {cells[0]} {cells[1]}  {', '.join(verdicts)}")
            cpu_lines.append(f"{s.name:38} " + "  ".join(f"{k} {v:5.2f}" for k, v in result.get("cpu_ms", {}).items()))
        print("CPU ms per request of each scenario (server = gunicorn, database = postgres, clients = the load"
              " generator, machine = all busy time):")
        print("\n".join(line for line in cpu_lines if "machine" in line))
        if failed:
            print("below target:", ", ".join(failed))
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)


if __name__ == "__main__":
    main()
