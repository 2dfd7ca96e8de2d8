"""Fault fixtures: throwaway servers this test starts and kills by PID (../shared/FAULTS.md).
The machine's own PostgreSQL, Redis and RabbitMQ are never touched."""

from __future__ import annotations

import shutil
import socket
import subprocess
from contextlib import contextmanager

import pytest
import redis

from backoffice.celery import app as celery_app
from tests.support import wait_until


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class ThrowawayRedis:
    """A ``redis-server`` child process on a free port: ``start``, ``kill`` (SIGKILL: open
    connections break mid-use), ``start`` again on the same port."""

    def __init__(self) -> None:
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_until(self.ping, timeout=10, what="the throwaway redis-server")

    def ping(self) -> bool:
        try:
            return redis.Redis(port=self.port, socket_connect_timeout=0.2).ping()
        except redis.ConnectionError:
            return False

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)


@pytest.fixture
def throwaway_redis():
    if shutil.which("redis-server") is None:
        pytest.skip("needs redis-server")
    server = ThrowawayRedis()
    try:
        yield server
    finally:
        server.kill()


def _reset_broker_pools() -> None:
    """Forget the app's broker connections (what Celery does after a fork)."""
    celery_app._pool = None
    celery_app.__dict__.get("amqp") and setattr(celery_app.amqp, "_producer_pool", None)


@contextmanager
def celery_on(url: str):
    """The project's Celery app publishing to ``url`` for real (not eagerly) for the block."""
    conf = celery_app.conf
    keys = ("broker_url", "broker_read_url", "broker_write_url", "task_always_eager")
    old = {key: conf[key] for key in keys}
    conf.update(broker_url=url, broker_read_url=url, broker_write_url=url, task_always_eager=False)
    _reset_broker_pools()
    try:
        yield celery_app
    finally:
        conf.update(old)
        _reset_broker_pools()
