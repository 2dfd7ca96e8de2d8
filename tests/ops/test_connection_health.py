"""The pooled connection's health check (backoffice/postgresql/base.py): no round trip while the
connection is quiet, Django's ``SELECT 1`` once the server has said something, and a connection
PostgreSQL dropped replaced before the request uses it.

What the server last ran for our session is read from ``pg_stat_activity`` through a second
connection: it is ``SELECT 1`` exactly when the check asked the server.
"""

from __future__ import annotations

import psycopg
import pytest
from django.conf import settings
from django.db import close_old_connections, connection

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def _other():
    db = settings.DATABASES["default"]
    return psycopg.connect(host=db["HOST"], port=db["PORT"] or 5432, user=db["USER"], password=db["PASSWORD"],
                           dbname=db["NAME"], autocommit=True)


def _last_statement(pid: int) -> str:
    with _other() as other:
        return other.execute("SELECT query FROM pg_stat_activity WHERE pid = %s", [pid]).fetchone()[0]


def _new_request() -> int:
    """What Django does as a request starts and first touches the database; the backend's pid."""
    close_old_connections()
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        return cursor.fetchone()[0]


def test_a_quiet_connection_is_reused_without_a_select_1():
    assert connection.health_check_enabled
    pid = _new_request()
    with connection.cursor() as cursor:
        cursor.execute("SELECT 'the last statement'")
    close_old_connections()
    connection.close_if_health_check_failed()  # what the next request's first query does first
    assert connection.health_check_done
    assert _last_statement(pid) == "SELECT 'the last statement'"  # the server was not asked
    assert _new_request() == pid  # and the same session serves the request


def test_a_connection_the_server_spoke_on_is_asked_and_kept_when_alive():
    pid = _new_request()
    with connection.cursor() as cursor:
        cursor.execute("LISTEN bench_health")
    with _other() as other:
        other.execute("NOTIFY bench_health")  # the socket turns readable; the session is fine
    close_old_connections()
    connection.close_if_health_check_failed()
    assert _last_statement(pid) == "SELECT 1"  # readable: Django's check decided
    assert _new_request() == pid
    with connection.cursor() as cursor:
        cursor.execute("UNLISTEN *")


def test_a_connection_postgresql_dropped_is_replaced_before_the_request_uses_it():
    pid = _new_request()
    with _other() as other:  # as a restart or a failover does; returns once the session has ended
        assert other.execute("SELECT pg_terminate_backend(%s, 5000)", [pid]).fetchone()[0]
    close_old_connections()
    with connection.cursor() as cursor:  # no AdminShutdown: the check closed it, this reconnects
        cursor.execute("SELECT pg_backend_pid()")
        assert cursor.fetchone()[0] != pid
