"""Throwaway servers (../shared/FAULTS.md): a ``redis-server`` and a RabbitMQ node of their own on
free ports, started, SIGKILLed and started again by PID. Used by the fault suite (``conftest``)
and ``bench/soak.py``; the machine's own servers are never touched."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
from pathlib import Path

import redis
from django.conf import settings

from tests.support import wait_until


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def accepts(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.2):
            return True
    except OSError:
        return False


class ThrowawayRedis:
    """A ``redis-server`` child process on a free port: ``start``, ``kill`` (SIGKILL: open
    connections break mid-use), ``start`` again on the same port. ``persistent=True`` keeps an
    append-only file, as a production broker must: what it held survives the restart."""

    kind = "redis"

    def __init__(self, *, persistent: bool = False) -> None:
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.persistent = persistent
        self.dir = tempfile.mkdtemp(prefix="fault-redis-")
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        persistence = ["--appendonly", "yes", "--appendfsync", "always"] if self.persistent else ["--appendonly", "no"]
        self.process = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--dir", self.dir,
             *persistence], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
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

    def cleanup(self) -> None:
        self.kill()
        shutil.rmtree(self.dir, ignore_errors=True)


class ThrowawayRabbit:
    """A RabbitMQ node of its own (FAULTS.md recipe) on free ports; ``kill`` SIGKILLs its Erlang
    VM (connections break, nothing is flushed), ``start`` boots it again from the same folder:
    durable queues and their messages survive, as on a real node."""

    kind = "rabbitmq"

    def __init__(self) -> None:
        self.port = free_port()
        self.dist_port = self.port + 20000 if self.port + 20000 < 65536 else free_port()
        self.url = f"amqp://guest:guest@127.0.0.1:{self.port}//"
        self.dir = Path(tempfile.mkdtemp(prefix="fault-rabbit-"))
        for sub in ("mnesia", "log"):
            (self.dir / sub).mkdir()
        (self.dir / "enabled_plugins").write_text("[].\n")
        shutil.chown(self.dir, "rabbitmq", "rabbitmq")
        for path in self.dir.rglob("*"):
            shutil.chown(path, "rabbitmq", "rabbitmq")
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        d = self.dir
        env = {**os.environ, "RABBITMQ_NODENAME": f"fault{self.port}@localhost",
               "RABBITMQ_NODE_PORT": str(self.port), "RABBITMQ_DIST_PORT": str(self.dist_port),
               "RABBITMQ_MNESIA_BASE": f"{d}/mnesia", "RABBITMQ_LOG_BASE": f"{d}/log", "RABBITMQ_PID_FILE": f"{d}/pid",
               "RABBITMQ_ENABLED_PLUGINS_FILE": f"{d}/enabled_plugins",
               "RABBITMQ_FEATURE_FLAGS_FILE": f"{d}/feature_flags", "RABBITMQ_CONFIG_FILE": f"{d}/rabbitmq",
               "RABBITMQ_ADVANCED_CONFIG_FILE": f"{d}/advanced"}
        (d / "pid").unlink(missing_ok=True)
        self.process = subprocess.Popen(["rabbitmq-server"], env=env, stdout=subprocess.DEVNULL,
                                        stderr=subprocess.DEVNULL)
        wait_until(lambda: accepts(self.port), timeout=60, what="the throwaway RabbitMQ node")

    def _vm_pid(self) -> int | None:
        try:
            return int((self.dir / "pid").read_text().strip())
        except (OSError, ValueError):
            return None

    def kill(self) -> None:
        pid = self._vm_pid()
        if pid is not None:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            wait_until(lambda: not accepts(self.port), timeout=10, what="the RabbitMQ node to go")
        if self.process is not None:
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)

    def cleanup(self) -> None:
        self.kill()
        shutil.rmtree(self.dir, ignore_errors=True)


BROKERS = {"redis": ("redis-server", ThrowawayRedis), "rabbitmq": ("rabbitmq-server", ThrowawayRabbit)}


class WorkerProcess:
    """``celery worker`` (the test app ``tests.faults.worker_app``) in its own process group;
    ``supervised`` runs it under ``bin/supervise`` as ``bin/run`` does. ``celery_pid`` is the
    worker's main process (the one kombu's crash kills), ``kill_worker`` SIGKILLs it alone."""

    def __init__(self, env: dict, url: str, *, pool: str = "prefork", supervised: bool = False, name: str = "w"):
        self.log = Path(env["FAULT_LOG_DIR"]) / f"worker-{name}.log"
        command = [sys.executable, "-m", "celery", "-A", "tests.faults.worker_app", "worker", f"--pool={pool}",
                   "--concurrency=2", "--without-gossip", "--without-mingle", f"--hostname={name}@%h",
                   "--loglevel=INFO"]
        if supervised:
            command = [str(settings.BASE_DIR / "bin" / "supervise"), "worker", *command]
        self.supervised = supervised
        with open(self.log, "ab") as log:
            self.process = subprocess.Popen(command, cwd=settings.BASE_DIR, env={**env, "CELERY_BROKER_URL": url},
                                            start_new_session=True, stdout=log, stderr=subprocess.STDOUT)

    def celery_pid(self) -> int | None:
        if not self.supervised:
            return self.process.pid if self.process.poll() is None else None
        out = subprocess.run(["ps", "-o", "pid=", "--ppid", str(self.process.pid)], capture_output=True, text=True)
        pids = [int(p) for p in out.stdout.split()]
        return pids[0] if pids else None

    def children(self) -> list[int]:
        pid = self.celery_pid()
        out = subprocess.run(["ps", "-o", "pid=", "--ppid", str(pid)], capture_output=True, text=True)
        return [int(p) for p in out.stdout.split()]

    def kill_worker(self) -> int:
        """SIGKILL the worker's main process (the pool children die with it: their pipe closes)."""
        pid = self.celery_pid()
        os.kill(pid, signal.SIGKILL)
        return pid

    def log_text(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            pass
        try:
            os.killpg(self.process.pid, signal.SIGKILL)  # whatever is left of the group
        except ProcessLookupError:
            pass
        self.process.wait(timeout=10)


class WebServer:
    """gunicorn (gthread, as ``bin/run``, with the repository's ``gunicorn.conf.py``) serving the
    test database on a free port, with pooled
    database connections (``CONN_MAX_AGE``) — the connections PostgreSQL drops in a fault."""

    def __init__(self, env: dict, *, workers: int = 2, threads: int = 4) -> None:
        self.port = free_port()
        self.log = Path(env["FAULT_LOG_DIR"]) / "gunicorn.log"
        with open(self.log, "ab") as log:
            self.process = subprocess.Popen(
                [str(Path(sys.executable).parent / "gunicorn"), "backoffice.wsgi:application",
                 "--bind", f"127.0.0.1:{self.port}", "--workers", str(workers), "--worker-class", "gthread",
                 "--threads", str(threads), "--log-level", "warning"],
                cwd=settings.BASE_DIR, env=env, start_new_session=True, stdout=log, stderr=subprocess.STDOUT)
        wait_until(lambda: accepts(self.port), timeout=60, what="gunicorn")

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=10)


def gateway_pids(env: dict) -> list[int]:
    """The pool processes that entered the sandbox gateway's hold (one line each)."""
    entered = Path(f"{env['SANDBOX_GATEWAY_HOLD_FILE']}.entered")
    return [int(line) for line in entered.read_text().split()] if entered.exists() else []
