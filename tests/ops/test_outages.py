"""A dependency that is down answers 503 with ``Retry-After``, never a 500 (issue 19 item 3).

PostgreSQL really drops the connection here (``pg_terminate_backend`` from another session), as
a restart or a failover does; the API answers its error body, the staff console a page that
needs no database."""

from __future__ import annotations

import pytest
from django.db import OperationalError, connection
from django.test import RequestFactory

from backoffice import outages
from tests.factories import ListingFactory, place
from tests.support import terminate_this_connection

pytestmark = pytest.mark.django_db


@pytest.fixture
def database_dropped():
    yield terminate_this_connection
    connection.close()  # what request_finished does with an unusable connection


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_the_api_answers_503_with_retry_after_when_the_database_drops_the_connection(storefront, database_dropped):
    order = place(ListingFactory(price=1000))
    database_dropped()
    r = storefront.get(f"/api/v1/orders/{order.number}")
    assert r.status_code == 503
    assert r["Retry-After"] == "5"
    assert r.json() == {"code": "service_unavailable", "message": outages.MESSAGE, "field": None, "reasons": []}


def test_an_outage_raised_outside_a_view_is_a_503_and_a_bug_stays_a_500():
    request = RequestFactory().get("/api/v1/orders/1")
    try:
        raise OperationalError("server closed the connection unexpectedly")
    except OperationalError:
        r = outages.server_error(request)
    assert r.status_code == 503 and r["Retry-After"] == "5"
    try:
        raise ValueError("a bug")
    except ValueError:
        r = outages.server_error(request)
    assert r.status_code == 500


def test_each_dependency_is_named_by_its_driver_error():
    import kombu.exceptions
    import redis

    assert outages.kind(OperationalError("x")) == "database"
    assert outages.kind(redis.exceptions.ConnectionError("x")) == "cache"
    assert outages.kind(kombu.exceptions.OperationalError("x")) == "broker"
    assert outages.kind(ValueError("x")) is None
    try:
        try:
            raise redis.exceptions.TimeoutError("x")
        except redis.exceptions.TimeoutError as exc:
            raise RuntimeError("wrapped") from exc
    except RuntimeError as wrapped:
        assert outages.kind(wrapped) == "cache"
