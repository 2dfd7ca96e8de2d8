"""Soak: mixed partner traffic for a few minutes with the faults of a real deployment injected
(issue 19 item 6), then the money reconciled.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/kb_bench_soak \
    .venv/bin/python bench/soak.py [--broker rabbitmq|redis] [--seconds 180] [--clients 6]

It (re)creates the scratch database, starts its own broker (a throwaway RabbitMQ node or
redis-server) and cache (a throwaway redis-server), gunicorn (2 × 4 gthread), a Celery worker and
Celery beat — both under ``bin/supervise``, as ``bin/run`` does — and drives storefront clients
(place a card order with an Idempotency-Key, read it, cancel every third: a refund through the
outbox and the worker) plus a konbini terminal guessing wrong keys. Meanwhile, on a schedule: the
broker is SIGKILLed and started again, the worker is SIGKILLed mid-work (main process and pool
children), PostgreSQL terminates every backend of the database (three times), the cache is
SIGKILLed and started again, and a pool child is SIGKILLed.

At the end it waits until every refund is done, sweeps abandoned card placements, and prints the
requests served, the answers by status, the faults, and the money: captured − refunded by our
books against what the gateway saw, lost refunds, doubled refunds, and charged orders no client
was told about (the known Idempotency-Key gap: see the README).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import threading
import time
from collections import Counter
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import scratch_database  # noqa: E402

DEFAULT_DB = "postgres://postgres@127.0.0.1:5432/kb_bench_soak"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--broker", choices=["rabbitmq", "redis"], default="rabbitmq")
    parser.add_argument("--seconds", type=int, default=180, help="how long the traffic runs")
    parser.add_argument("--clients", type=int, default=6, help="storefront client threads")
    args = parser.parse_args()

    var_dir = tempfile.mkdtemp(prefix="soak-")
    db_url = scratch_database("bench/soak.py", DEFAULT_DB, broker="memory://", var_dir=var_dir)
    from tests.faults.servers import BROKERS, ThrowawayRedis, WebServer, WorkerProcess

    broker = BROKERS[args.broker][1]() if args.broker == "rabbitmq" else ThrowawayRedis(persistent=True)
    cache = ThrowawayRedis()
    broker.start()
    cache.start()
    os.environ.update(CELERY_BROKER_URL=broker.url, CACHE_URL=cache.url, DJANGO_SETTINGS_MODULE="backoffice.settings")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    from backoffice.models import Partner
    from bench.traffic import Traffic, reconcile
    from payments.models import Refund
    from pickup.models import Store
    from shop.models import Listing, Order, Seller
    from shop.services import orders
    from tests.faults.conftest import terminate_backends

    storefront = Partner(kind=Partner.Kind.STOREFRONT, name="storefront")
    storefront_key = storefront.issue_key()
    storefront.save()
    lawson = Partner(kind=Partner.Kind.KONBINI_CHAIN, name="lawson", chain="lawson")
    lawson_key = lawson.issue_key()
    lawson.save()
    seller = Seller.objects.create(name="soak seller")
    skus = [Listing.objects.create(seller=seller, sku=f"SOAK-{i}", title="負荷試験商品", price=1000 + 10 * i,
                                   stock=10**7, fulfilled_by="platform").sku for i in range(20)]
    store = Store.objects.create(chain="lawson", code="LS9001", name="ローソン 負荷試験店", prefecture="東京都",
                                 address="千代田区1-1")

    env = {**os.environ, "DATABASE_URL": db_url, "CELERY_BROKER_URL": broker.url, "CACHE_URL": cache.url,
           "CELERY_TASK_ALWAYS_EAGER": "false", "CELERY_VISIBILITY_TIMEOUT_SECONDS": "20", "CONN_MAX_AGE": "60",
           "DEBUG": "false", "VAR_DIR": var_dir, "FAULT_LOG_DIR": var_dir, "OUTBOX_RELAY_SECONDS": "1"}
    web = WebServer(env)
    worker = WorkerProcess(env, broker.url, supervised=True, name="soak")
    beat_log = open(Path(var_dir) / "beat.log", "ab")
    import subprocess

    beat = subprocess.Popen([str(ROOT / "bin/supervise"), "beat", sys.executable, "-m", "celery", "-A", "backoffice",
                             "beat", "--loglevel=WARNING", "-s", str(Path(var_dir) / "beat-schedule")],
                            cwd=ROOT, env=env, start_new_session=True, stdout=beat_log, stderr=subprocess.STDOUT)

    traffic = Traffic(web.port, storefront_key, skus, chain_key=lawson_key, store_code=store.code)
    stop = threading.Event()
    faults: list[str] = []
    started = time.monotonic()

    def at(fraction: float) -> None:
        while time.monotonic() - started < fraction * args.seconds:
            time.sleep(0.2)

    def note(what: str) -> None:
        faults.append(f"{time.monotonic() - started:6.1f}s  {what}")

    print(f"bench/soak.py — {args.broker} broker, {args.seconds}s, {args.clients} storefront clients + 1 terminal; "
          f"logs in {var_dir}", flush=True)
    threads = traffic.run(clients=args.clients, stop=stop)
    try:
        at(0.10)
        note("broker SIGKILL")
        broker.kill()
        time.sleep(10)
        broker.start()
        note("broker started again")
        at(0.30)
        pid = worker.kill_worker()
        note(f"worker SIGKILL (pid {pid}; the supervisor restarts it)")
        for fraction in (0.45, 0.50, 0.55):
            at(fraction)
            note(f"PostgreSQL: {terminate_backends()} backends terminated")
        at(0.65)
        note("cache SIGKILL")
        cache.kill()
        time.sleep(10)
        cache.start()
        note("cache started again")
        at(0.80)
        children = worker.children()
        if children:
            os.kill(children[0], 9)
            note(f"pool child SIGKILL (pid {children[0]})")
        at(1.0)
    finally:
        stop.set()
        for thread in threads:
            thread.join(60)
    served = time.monotonic() - started

    # Let the worker finish: every refund done, nothing due in the outbox.
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline and Refund.objects.exclude(status=Refund.Status.SUCCEEDED).exists():
        time.sleep(1)
    import time_machine

    from backoffice.timeutil import now

    with time_machine.travel(now() + orders.CARD_CAPTURE_ABANDONED_AFTER + timedelta(minutes=1)):
        abandoned = orders.cancel_abandoned_card_orders()
    money = reconcile()
    charged = set(Order.objects.filter(payment__captured_amount__gt=0).values_list("number", flat=True))
    untold = len(charged - set(traffic.placed.values()))
    refunds = Counter(Refund.objects.values_list("status", flat=True))
    restarts = worker.log_text().count("exited with status")

    beat.terminate()
    worker.stop()
    web.stop()
    broker.cleanup()
    cache.cleanup()

    total = sum(traffic.counts.values())
    print(f"\nrequests: {total} in {served:.0f}s ({total / served:.0f}/s); answers by status: "
          + ", ".join(f"{k}: {v}" for k, v in sorted(traffic.counts.items(), key=lambda kv: str(kv[0]))))
    print(f"server errors (5xx other than 503): {traffic.server_errors()}; placements given up: {traffic.given_up}")
    print(f"orders placed (answered 201): {len(traffic.placed)}; cancelled (200): {len(traffic.cancelled)}; "
          f"abandoned placements swept: {abandoned}; worker restarts by the supervisor: {restarts}")
    print("faults:\n  " + "\n  ".join(faults))
    print(f"refunds by status: {dict(refunds)}")
    print(f"money (yen): captured {money['captured']:,} − refunded {money['refunded']:,} = {money['net']:,}; "
          f"gateway: captured {money['gateway_captured']:,} − refunded {money['gateway_refunded']:,} = "
          f"{money['gateway_net']:,} → {'reconciled' if money['net'] == money['gateway_net'] else 'MISMATCH'}")
    print(f"lost refunds: {money['lost_refunds']}; doubled refunds: {money['doubled']}; "
          f"charged orders no client was told about: {untold}")
    ok = (traffic.server_errors() == 0 and money["net"] == money["gateway_net"] and money["lost_refunds"] == 0
          and money["doubled"] == 0)
    raise SystemExit(0 if ok else 1)


if __name__ == "__main__":
    main()
