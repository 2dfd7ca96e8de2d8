"""gunicorn's settings for the web process (read from the working directory: ``bin/run``, the
benchmarks and the fault suite start gunicorn from the repository root; command-line options
override these).

Threaded workers (gthread) with one connection per thread: a worker whose threads are all busy
stops accepting, so a new connection goes to a worker that can serve it at once. gunicorn's
default lets a worker accept up to 1,000 connections whatever its threads: measured on 2 cores with
8 clients (``bench/api.py``), one of the two workers held 7 of the 8 connections while the other
sat idle, and the requests queued behind its 4 threads set the p99. The price is no keep-alive
(each response closes its connection): behind a proxy that is the usual upstream arrangement, and
a local reconnect costs far less than a request waiting for a thread.
"""

import os

wsgi_app = "backoffice.wsgi:application"
worker_class = "gthread"
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
threads = int(os.environ.get("WEB_THREADS", "4"))
keepalive = 0


def on_starting(server) -> None:
    # After the command line is applied: as many connections per worker as it has threads.
    server.cfg.set("worker_connections", server.cfg.threads)
