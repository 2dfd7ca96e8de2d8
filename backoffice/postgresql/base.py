"""The PostgreSQL backend: Django's, with a health check that needs no round trip while nothing
has happened to the connection.

``CONN_HEALTH_CHECKS`` (issue 19) makes Django check a pooled connection before each request
reuses it, and Django's check is a ``SELECT 1``: one more round trip on every request of every
endpoint, for an answer that is almost always yes. What a restart, a failover or
``pg_terminate_backend`` does to an idle connection is visible without asking: the server sends
its FATAL error and closes the socket, so the socket turns readable. An idle session that the
server has said nothing to is alive as far as a ``SELECT 1`` could tell; only when the socket has
something to read (or the session is not idle) is Django's ``SELECT 1`` asked, and it decides.
"""

from __future__ import annotations

import select

from django.db.backends.postgresql import base
from psycopg import pq


class DatabaseWrapper(base.DatabaseWrapper):
    def is_usable(self) -> bool:
        conn = self.connection
        if conn is None or conn.closed or conn.broken:
            return False
        if conn.pgconn.transaction_status == pq.TransactionStatus.IDLE and not _readable(conn.pgconn.socket):
            return True
        return super().is_usable()


def _readable(fd: int) -> bool:
    """Whether the server has sent something (a FATAL error, the end of the stream, a notice)."""
    poller = select.poll()  # poll, not select: no FD_SETSIZE limit in a process with many files
    poller.register(fd, select.POLLIN | select.POLLPRI)
    return bool(poller.poll(0))
