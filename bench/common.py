"""What every benchmark needs: a scratch PostgreSQL database and the process's peak memory."""

from __future__ import annotations

import resource


def _admin_url(url: str) -> tuple[str, str]:
    return url.rsplit("/", 1)[0] + "/postgres", url.rsplit("/", 1)[1]


def recreate_database(url: str) -> None:
    """Drop (if present) and create the database named at the end of ``url``."""
    import psycopg

    admin, name = _admin_url(url)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def drop_database(url: str) -> None:
    import psycopg

    admin, name = _admin_url(url)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def scratch_database(script: str, default_db: str, *, broker: str, var_dir: str, recreate: bool = True) -> str:
    """The benchmark's environment: DATABASE_URL (or ``default_db``) must name a PostgreSQL
    database called ``kb_bench…``, which is dropped and created empty (unless ``recreate`` is
    false: a kept one reused); the Celery broker and VAR_DIR default to the given ones; DEBUG is
    off. Returns the database URL."""
    import os

    db_url = os.environ.get("DATABASE_URL", default_db)
    if not db_url.startswith("postgres"):
        raise SystemExit(f"{script} runs on PostgreSQL: set DATABASE_URL=postgres://...")
    if not db_url.rsplit("/", 1)[1].startswith("kb_bench"):
        raise SystemExit("refusing to recreate a database whose name does not start with kb_bench")
    os.environ["DATABASE_URL"] = db_url
    os.environ.setdefault("CELERY_BROKER_URL", broker)
    os.environ.setdefault("VAR_DIR", var_dir)
    os.environ["DEBUG"] = "false"
    if recreate:
        recreate_database(db_url)
    return db_url


def inprocess_main(*, script: str, doc: str, default_db: str, run, env: dict[str, str] | None = None) -> None:
    """The command line of an in-process profile (``--requests N``): a scratch PostgreSQL database
    (Redis broker db 9 unless CELERY_BROKER_URL says otherwise), ``run(N)``, the database dropped."""
    import argparse
    import os

    parser = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=1000)
    args = parser.parse_args()
    db_url = scratch_database(script, default_db, broker="redis://127.0.0.1:6379/9", var_dir="/tmp/kb-bench")
    os.environ.update(env or {})
    try:
        run(args.requests)
    finally:
        from django.db import connections

        connections.close_all()
        drop_database(db_url)


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB


# Targets shared by the sweep benchmarks (issues 3 and 5).
MAX_TIME_RATIO = 12  # the large run may take at most 12× the small run's time
MAX_PEAK_RSS_MB = 250


def sweep_main(*, script: str, doc: str, default_db: str, unit: str, min_rate: int, base_data, run,
               extra_report=None) -> None:
    """The command line of a sweep benchmark: a scratch PostgreSQL database, a small and a large
    run of ``run(n, offset, *base_data())`` (which returns the job's seconds), then the figures
    against the targets. Celery goes to an in-memory broker unless CELERY_BROKER_URL says otherwise."""
    import argparse
    import os

    parser = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--small", type=int, default=10_000)
    parser.add_argument("--large", type=int, default=100_000)
    parser.add_argument("--keep", action="store_true", help="keep the scratch database")
    parser.add_argument("--profile", action="store_true", help="print the job's database time per statement")
    args = parser.parse_args()
    if args.profile:
        os.environ["BENCH_PROFILE"] = "1"

    db_url = scratch_database(script, default_db, broker="memory://localhost/", var_dir=f"/tmp/kb-bench-{unit}")
    broker = os.environ["CELERY_BROKER_URL"]
    os.environ["CELERY_TASK_ALWAYS_EAGER"] = "false"
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "backoffice.settings")
    try:
        import django

        django.setup()
        from django.core.management import call_command

        call_command("migrate", verbosity=0)
        data = base_data()
        print(f"{script} — PostgreSQL, {os.cpu_count()} CPUs, broker {broker.split('://')[0]}")
        small = run(args.small, 0, *data)
        large = run(args.large, args.small, *data)
        if extra_report is not None:
            extra_report()
        rate, ratio, rss = args.large / large, large / small, peak_rss_mb()
        print(f"throughput (large run): {rate:,.0f} {unit}/s (target ≥ {min_rate:,}) "
              f"{'OK' if rate >= min_rate else 'BELOW TARGET'}")
        print(f"time ratio {args.large // 1000}k/{args.small // 1000}k: {ratio:.1f}× (target ≤ {MAX_TIME_RATIO}×; "
              f"linear = {args.large / args.small:.0f}×) {'OK' if ratio <= MAX_TIME_RATIO else 'ABOVE TARGET'}")
        print(f"peak RSS: {rss:.1f} MB (target < {MAX_PEAK_RSS_MB} MB) "
              f"{'OK' if rss < MAX_PEAK_RSS_MB else 'ABOVE TARGET'}")
    finally:
        from django.db import connections

        connections.close_all()
        if broker.startswith("redis"):
            from backoffice.celery import app

            app.control.purge()
        if not args.keep:
            drop_database(db_url)


class StatementProfile:
    """Database time per statement shape while active (``connection.execute_wrapper``): where a
    job's time goes, printed by the sweep benchmarks with ``--profile``."""

    def __init__(self) -> None:
        self.by_shape: dict[str, list[float]] = {}

    def __call__(self, execute, sql, params, many, context):
        import time

        t0 = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            shape = " ".join(sql.split())[:90]
            entry = self.by_shape.setdefault(shape, [0, 0.0])
            entry[0] += 1
            entry[1] += time.perf_counter() - t0

    def report(self, total: float) -> None:
        db = sum(t for _, t in self.by_shape.values())
        print(f"  database {db:.2f}s of {total:.2f}s ({db / total:.0%}); Python and the rest {total - db:.2f}s")
        for shape, (n, t) in sorted(self.by_shape.items(), key=lambda item: -item[1][1])[:12]:
            print(f"  {t:7.3f}s {n:6} × {shape}")
