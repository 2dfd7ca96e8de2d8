"""``/healthz`` (README "Running it for real"): the database down is a 503; the broker, the cache
or a stale worker is ``degraded`` with 200 (requests still work); the worker's heartbeat and the
oldest due outbox row are reported."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.db import connection

from backoffice import heartbeat, outbox
from backoffice.timeutil import now
from tests.support import terminate_this_connection

pytestmark = pytest.mark.django_db


def test_a_worker_heartbeat_within_30_seconds_is_ok_and_older_is_stale(client):
    start = now()
    with time_machine.travel(start, tick=False) as clock:
        heartbeat.beat("celery@web-1", pid=4242)
        body = client.get("/healthz").json()
        assert (body["worker"], body["worker_last_beat_seconds"], body["status"]) == ("ok", 0, "ok")
        clock.shift(timedelta(seconds=30))
        assert client.get("/healthz").json()["worker"] == "ok"
        clock.shift(timedelta(seconds=1))
        r = client.get("/healthz")
        assert r.status_code == 200  # requests still work: their tasks wait in the outbox
        assert (r.json()["worker"], r.json()["worker_last_beat_seconds"], r.json()["status"]) == ("stale", 31, "degraded")


def test_no_worker_ever_is_stale(client):
    body = client.get("/healthz").json()
    assert (body["worker"], body["worker_last_beat_seconds"]) == ("stale", None)


def test_the_age_of_the_oldest_due_outbox_row_is_reported(client):
    start = now()
    with time_machine.travel(start, tick=False) as clock:
        assert client.get("/healthz").json()["outbox_oldest_due_seconds"] is None
        outbox.enqueue("payments.process_refund", 1)
        outbox.enqueue("payments.process_refund", 2, at=start + timedelta(hours=1))  # not due yet
        clock.shift(timedelta(seconds=90))
        assert client.get("/healthz").json()["outbox_oldest_due_seconds"] == 90


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_the_database_unreachable_is_a_503_with_retry_after(client):
    terminate_this_connection()
    try:
        r = client.get("/healthz")
    finally:
        connection.close()
    assert r.status_code == 503 and r["Retry-After"] == "5"
    assert r.json()["status"] == "error" and r.json()["database"].startswith("error")
