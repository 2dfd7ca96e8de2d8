"""The web process as ``gunicorn.conf.py`` configures it (``bin/run``, the benchmarks and the fault
suite start gunicorn from the repository root, where gunicorn reads that file): a worker takes no
more connections than it has threads, so a connection never waits behind a busy worker while
another sits idle."""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings

from tests.faults.servers import accepts, free_port
from tests.support import wait_until


def holders(port: int) -> list[int]:
    """The pid of the process holding each established connection to ``port`` (``ss -tnp``)."""
    out = subprocess.run(["ss", "-tnpH", "state", "established", f"( sport = :{port} )"],
                         capture_output=True, text=True, check=True).stdout
    return [int(pid) for line in out.splitlines() for pid in re.findall(r"pid=(\d+)", line)]


@pytest.fixture
def web():
    if shutil.which("ss") is None:
        pytest.skip("needs ss (iproute2)")
    port = free_port()
    process = subprocess.Popen(
        [str(Path(sys.executable).parent / "gunicorn"), "--bind", f"127.0.0.1:{port}", "--workers", "3",
         "--threads", "1", "--log-level", "warning"],
        cwd=settings.BASE_DIR, env={**os.environ}, start_new_session=True,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_until(lambda: accepts(port), timeout=60, what="gunicorn")
        yield port
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=30)


def test_each_connection_goes_to_a_worker_with_a_free_thread(web):
    # Three workers of one thread, three clients connected at once: each worker holds one (with
    # gunicorn's default of 1,000 connections per worker, two or all three can land on one worker).
    clients = [socket.create_connection(("127.0.0.1", web)) for _ in range(3)]
    try:
        wait_until(lambda: len(holders(web)) == 3, timeout=30, what="three accepted connections")
        assert len(set(holders(web))) == 3
        for client in clients:
            client.sendall(b"GET /favicon.ico HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
            head = client.recv(65536).split(b"\r\n\r\n")[0].decode("latin-1").lower()
            # No keep-alive: an idle connection would hold the worker's one slot.
            assert head.startswith("http/1.1 301") and "connection: close" in head
    finally:
        for client in clients:
            client.close()
