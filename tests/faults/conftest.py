"""Fault fixtures: throwaway servers and worker processes this suite starts and kills by PID
(../shared/FAULTS.md). The machine's own PostgreSQL, Redis and RabbitMQ are never touched.

``throwaway_broker`` is parametrised on both supported brokers (Redis and RabbitMQ): every test
that takes it runs once per broker. ``worker_process`` starts a real ``celery worker`` on the
test database, optionally under ``bin/supervise`` (what ``bin/run`` and a deployment do)."""

from __future__ import annotations

import shutil
from contextlib import contextmanager
from pathlib import Path

import pytest
from django.db import connection

from backoffice.celery import app as celery_app
from tests import support
from tests.faults.servers import BROKERS, ThrowawayRedis, WebServer, WorkerProcess, free_port, gateway_pids

__all__ = ["free_port", "gateway_pids"]




@pytest.fixture
def throwaway_redis():
    if shutil.which("redis-server") is None:
        pytest.skip("needs redis-server")
    server = ThrowawayRedis()
    try:
        yield server
    finally:
        server.cleanup()


@pytest.fixture(params=sorted(BROKERS))
def throwaway_broker(request):
    """A broker server of each supported kind (not started): the test runs once per broker."""
    binary, server_class = BROKERS[request.param]
    if shutil.which(binary) is None:
        pytest.skip(f"needs {binary}")
    server = server_class(persistent=True) if server_class is ThrowawayRedis else server_class()
    try:
        yield server
    finally:
        server.cleanup()


def _reset_broker_pools() -> None:
    """Forget the app's broker connections (what Celery does after a fork)."""
    celery_app._pool = None
    celery_app.__dict__.get("amqp") and setattr(celery_app.amqp, "_producer_pool", None)


@contextmanager
def celery_on(url: str):
    """The project's Celery app publishing to ``url`` for real (not eagerly) for the block, with
    that broker's transport options (``backoffice.settings``)."""
    conf = celery_app.conf
    keys = ("broker_url", "broker_read_url", "broker_write_url", "task_always_eager", "broker_transport_options")
    old = {key: conf[key] for key in keys}
    options = {"confirm_publish": True} if url.startswith("amqp") else old["broker_transport_options"]
    conf.update(broker_url=url, broker_read_url=url, broker_write_url=url, task_always_eager=False,
                broker_transport_options=options)
    _reset_broker_pools()
    try:
        yield celery_app
    finally:
        conf.update(old)
        _reset_broker_pools()


# --- worker processes ----------------------------------------------------------------------------

@pytest.fixture
def worker_env(tmp_path: Path) -> dict:
    """A subprocess worker's environment: the test database, a short Redis visibility timeout
    (redelivery within the test) and the sandbox gateway's hold file (refunds pause while it exists).
    The broker URL is the test's (``worker_process(url=...)``)."""
    env = support.worker_environment(
        CACHE_URL="locmemcache://", CELERY_VISIBILITY_TIMEOUT_SECONDS="3",
        SANDBOX_GATEWAY_HOLD_FILE=str(tmp_path / "hold-gateway"), FAULT_LOG_DIR=str(tmp_path))
    return env


@pytest.fixture
def worker_process(worker_env):
    started: list[WorkerProcess] = []

    def start(url: str, **kwargs) -> WorkerProcess:
        worker = WorkerProcess(worker_env, url, **kwargs)
        started.append(worker)
        return worker

    yield start
    for worker in started:
        worker.stop()


# --- the web server ------------------------------------------------------------------------------

@pytest.fixture
def web_server(worker_env):
    started: list[WebServer] = []

    def start(**overrides) -> WebServer:
        env = {**worker_env, "CONN_MAX_AGE": "60", "DEBUG": "false",
               # Requests never talk to the broker (the outbox): a broker nobody listens on proves it.
               "CELERY_BROKER_URL": f"redis://127.0.0.1:{free_port()}/0", **overrides}
        server = WebServer(env)
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()


def terminate_backends() -> int:
    """PostgreSQL drops every other session of the test database (FAULTS.md); returns how many."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                       "WHERE datname = current_database() AND pid <> pg_backend_pid()")
        return cursor.fetchone()[0]
