"""Shared fixtures: partners with real API keys, HTTP clients, factories, stack markers."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.core.cache import cache
from rest_framework.test import APIClient

from backoffice.celery import app as celery_app
from backoffice.models import Partner
from shop.models import Seller

# Tasks run in-process by default; tests of Celery's own behaviour start a real worker on Redis
# (marked ``redis``) and switch this off for their duration.
celery_app.conf.task_always_eager = True


def pytest_collection_modifyitems(config, items):
    on_pg = settings.IS_POSTGRES
    on_redis = settings.CELERY_BROKER_URL.startswith("redis")
    for item in items:
        if "faults" in item.keywords and not on_pg:
            item.add_marker(pytest.mark.skip(reason="the fault suite needs PostgreSQL (DATABASE_URL=postgres://...)"))
        if "postgres" in item.keywords and not on_pg:
            item.add_marker(pytest.mark.skip(reason="needs PostgreSQL (DATABASE_URL=postgres://...)"))
        if "redis" in item.keywords and not on_redis:
            item.add_marker(pytest.mark.skip(reason="needs Redis (CELERY_BROKER_URL=redis://...)"))


class PartnerClient(APIClient):
    partner: Partner

    def json(self, method: str, path: str, data=None, **extra):
        return getattr(self, method)(path, data=data, format="json", **extra)


def _partner(kind: str, name: str, chain: str = "", seller: Seller | None = None,
             carrier: str = "") -> tuple[Partner, str]:
    if kind == Partner.Kind.SELLER and seller is None:
        seller = Seller.objects.create(name=name)
    if kind == Partner.Kind.CARRIER and not carrier:
        carrier = "yamato"  # a carrier partner is one carrier's identity (API.md --carrier)
    partner = Partner(kind=kind, name=name, chain=chain, seller=seller, carrier=carrier)
    key = partner.issue_key()
    partner.save()
    return partner, key


@pytest.fixture
def make_client(db):
    def make(kind: str, name: str | None = None, chain: str = "", seller: Seller | None = None,
             carrier: str = "") -> PartnerClient:
        partner, key = _partner(kind, name or f"{kind}-{chain or carrier or 'x'}", chain, seller, carrier)
        client = PartnerClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
        client.partner = partner
        return client

    return make


@pytest.fixture
def storefront(make_client):
    return make_client(Partner.Kind.STOREFRONT, "storefront")


@pytest.fixture
def seller_client(make_client):
    return make_client(Partner.Kind.SELLER, "出品者A")


@pytest.fixture
def warehouse(make_client):
    return make_client(Partner.Kind.WAREHOUSE, "川崎倉庫")


@pytest.fixture
def carrier(make_client):
    return make_client(Partner.Kind.CARRIER, "ヤマト運輸")


@pytest.fixture
def anon():
    return PartnerClient()


@pytest.fixture(autouse=True)
def _empty_cache():
    """Cache counters (the pickup store throttle) are keyed by primary keys, which the test
    database hands out again after each test: every test starts with an empty cache, so that
    one test's wrong auth numbers never throttle a store of the next."""
    cache.clear()


@pytest.fixture(autouse=True)
def _outside_konbini_maintenance():
    """Tests run on the real clock unless they travel. If the suite happens to run inside a
    konbini maintenance window (odd months' 3rd Thursday 03:00–05:00 JST), move the clock to its
    end so that the payment-instructions endpoint answers; tests of the window travel themselves."""
    import time_machine

    from backoffice.timeutil import now
    from payments.konbini.maintenance import current_window

    window = current_window(now())
    if window is None:
        yield
        return
    with time_machine.travel(window.end, tick=True):
        yield



@pytest.fixture
def django_capture_on_commit_callbacks(django_capture_on_commit_callbacks):
    """pytest-django's fixture, plus what production does a moment after a commit: the outbox
    relay publishes the tasks the transaction wrote (eager here, so they run at once). Tests of
    the relay itself, of the broker and of real workers live in tests/faults and the
    ``redis``-marked modules."""
    from contextlib import contextmanager

    from backoffice import outbox

    @contextmanager
    def capture(*, using="default", execute=False):
        with django_capture_on_commit_callbacks(using=using, execute=execute) as callbacks:
            yield callbacks
        if execute:
            outbox.drain()

    return capture
