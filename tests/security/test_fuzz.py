"""schemathesis over the live OpenAPI schema (issue 12): generated requests to every operation,
sent with every partner kind's key, never get a server error (API.md: "Never a 500").

Property-based (hypothesis) examples per operation; the app is called in-process through WSGI
on the test database. ``FUZZ_EXAMPLES`` raises the number of examples for a longer local run.
"""

from __future__ import annotations

import os

import pytest

from backoffice.models import Partner
from backoffice.wsgi import application
from tests.factories import ListingFactory, StoreFactory, place

# Dev tools (requirements-dev.txt): absent from the runtime-only venv of `make runtime-check`.
schemathesis = pytest.importorskip("schemathesis")
hypothesis = pytest.importorskip("hypothesis")
HealthCheck, settings = hypothesis.HealthCheck, hypothesis.settings

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "3"))
KINDS = [(Partner.Kind.STOREFRONT, {}), (Partner.Kind.KONBINI_CHAIN, {"chain": "lawson"}),
         (Partner.Kind.CARRIER, {"carrier": "yamato"}), (Partner.Kind.WAREHOUSE, {}), (Partner.Kind.SELLER, {})]


schema = schemathesis.openapi.from_wsgi("/api/schema/", application)


@pytest.fixture
def in_process_wsgi(db):
    """As Django's test client does: a request must not close the test's database connection."""
    from django.core.signals import request_finished, request_started
    from django.db import close_old_connections

    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def partner_keys(in_process_wsgi):
    """A key of every partner kind, and a little data for generated numbers to run into."""
    keys = []
    for kind, extra in KINDS:
        partner = Partner(kind=kind, name=f"fuzz-{kind}", **extra)
        if kind == Partner.Kind.SELLER:
            from shop.models import Seller

            partner.seller = Seller.objects.create(name="fuzz-seller")
        keys.append(partner.issue_key())
        partner.save()
    StoreFactory(chain="lawson", code="LS0001")
    place(ListingFactory(sku="FUZZ-1"))
    return keys


@pytest.mark.django_db
@schema.parametrize()
@settings(max_examples=EXAMPLES, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                 HealthCheck.filter_too_much, HealthCheck.data_too_large])
def test_no_generated_request_gets_a_server_error(case, partner_keys):
    for key in [None, *partner_keys]:
        headers = {"Authorization": f"Bearer {key}"} if key else {}
        response = case.call(headers=headers)
        assert response.status_code < 500, f"{case.method} {case.formatted_path} → {response.status_code}: " \
                                           f"{response.text[:300]}"
        assert response.headers.get("content-type", [""])[0].startswith("application/json") or \
            response.status_code in (301, 302, 405), response.text[:200]
