"""schemathesis over the live OpenAPI schema (issue 12): generated requests to every operation,
sent with every partner kind's key, never get a server error (API.md: "Never a 500").

Property-based (hypothesis) examples per operation, and stateful runs: schemathesis' state machine
follows the schema's links (the declared ones from ``POST /orders``, backoffice.api.schema.add_order_links,
and the ones it infers, ``POST /listings`` → ``PATCH /listings/{sku}``) from one step's response to the
next request. The app is called in-process through WSGI on the test database. ``FUZZ_EXAMPLES``,
``FUZZ_SCENARIOS`` and ``FUZZ_STEPS`` raise the numbers of examples, scenarios and steps per scenario
for a longer local run.
"""

from __future__ import annotations

import os
from collections import Counter

import pytest
from django.core.cache import cache
from django.db import transaction

from backoffice.models import Partner
from backoffice.wsgi import application
from tests.factories import ListingFactory, StoreFactory, order_payload, place

# Dev tools (requirements-dev.txt): absent from the runtime-only venv of `make runtime-check`.
schemathesis = pytest.importorskip("schemathesis")
hypothesis = pytest.importorskip("hypothesis")
HealthCheck, settings = hypothesis.HealthCheck, hypothesis.settings
not_a_server_error = pytest.importorskip("schemathesis.checks").not_a_server_error

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "3"))
SCENARIOS = int(os.environ.get("FUZZ_SCENARIOS", "12"))
STEPS = int(os.environ.get("FUZZ_STEPS", "20"))
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


HEALTH = [HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.filter_too_much,
          HealthCheck.data_too_large]


@pytest.mark.django_db
@schema.parametrize()
@settings(max_examples=EXAMPLES, deadline=None, derandomize=True, suppress_health_check=HEALTH)
def test_no_generated_request_gets_a_server_error(case, partner_keys):
    for key in [None, *partner_keys]:
        headers = {"Authorization": f"Bearer {key}"} if key else {}
        response = case.call(headers=headers)
        assert response.status_code < 500, f"{case.method} {case.formatted_path} → {response.status_code}: " \
                                           f"{response.text[:300]}"
        assert response.headers.get("content-type", [""])[0].startswith("application/json") or \
            response.status_code in (301, 302, 405), response.text[:200]


# The operations each stateful run walks, the kind whose key's response feeds the links, and an
# operation only a followed link reaches (no random root), which must have succeeded at least once.
FLOWS = {
    "storefront": (r"^/api/v1/(orders|customers)", Partner.Kind.STOREFRONT, "GET /api/v1/orders/{number}"),
    "seller": (r"^/api/v1/(listings|seller)", Partner.Kind.SELLER, "PATCH /api/v1/listings/{sku}"),
}
PAYMENT_METHODS = ["card", "konbini", "cod", "gift_card"]


def stateful_machine(flow, keys_by_kind, listing):
    path_regex, owner, _ = FLOWS[flow]
    keys = [None, *(key for kind, key in keys_by_kind.items() if kind != owner), keys_by_kind[owner]]

    class Flow(schema.include(path_regex=path_regex).as_state_machine()):
        succeeded = Counter()  # operation label → 2xx responses to the owner's key, over all scenarios

        def setup(self):
            """Each scenario starts from the fixture's data (hypothesis replays scenarios while
            shrinking, so one must not see another's orders, customers or throttles)."""
            self.savepoint = transaction.savepoint()
            self.orders_placed = 0

        def teardown(self):
            transaction.savepoint_rollback(self.savepoint)
            cache.clear()

        def before_call(self, case):
            """Every other `POST /orders` gets a valid body (so the links have a real order to follow,
            paid each way, for a few returning customers); the others are sent as generated."""
            if case.operation.label == "POST /api/v1/orders" and self.orders_placed % 2 == 0:
                n = self.orders_placed
                case.body = order_payload(listing, method=PAYMENT_METHODS[n % len(PAYMENT_METHODS)],
                                          external_id=f"stateful-{n % 3}")
                # A seeded case is a positive one: an `Authorization` header turns off the generated
                # "missing key" mutation (call() sends each real key over this placeholder).
                case.headers = {**(case.headers or {}), "Authorization": "Bearer seeded"}
            if case.operation.label == "POST /api/v1/orders":
                self.orders_placed += 1

        def call(self, case, **kwargs):
            """Every step is sent with no key (a bad one on a seeded order) and every kind's key; the
            owner's response comes last and is the one the links follow. None may be a server error."""
            for key in keys:
                headers = {"Authorization": f"Bearer {key}"} if key else {}
                response = case.call(headers=headers)
                case.validate_response(response, checks=[not_a_server_error])
                assert response.status_code < 500, f"{case.method} {case.formatted_path} → " \
                                                   f"{response.status_code}: {response.text[:300]}"
            if response.status_code < 300:
                Flow.succeeded[case.operation.label] += 1
            return response

        def validate_response(self, response, case, additional_checks=None, **kwargs):
            """Checked in call(), for every key."""

    return Flow


@pytest.mark.django_db
@pytest.mark.parametrize("flow", sorted(FLOWS))
def test_stateful_flows_never_get_a_server_error(flow, partner_keys):
    keys_by_kind = dict(zip([kind for kind, _ in KINDS], partner_keys, strict=True))
    seller = Partner.objects.get(kind=Partner.Kind.SELLER).seller
    seller.accept_cod_self_fulfilled = seller.accept_konbini_self_fulfilled = True
    seller.save()
    listing = ListingFactory(sku="FUZZ-STATEFUL", seller=seller, fulfilled_by="seller", stock=10_000)
    machine = stateful_machine(flow, keys_by_kind, listing)
    machine.run(settings=settings(max_examples=SCENARIOS, stateful_step_count=STEPS, deadline=None,
                                  derandomize=True, suppress_health_check=HEALTH))
    assert machine.succeeded[FLOWS[flow][2]] > 0, dict(machine.succeeded)


def test_schema_links_the_order_created_to_its_endpoints(client):
    operation = client.get("/api/schema/?format=json").json()["paths"]["/api/v1/orders"]["post"]
    links = operation["responses"]["201"]["links"]
    assert links["orders_retrieve"] == {"operationId": "orders_retrieve",
                                        "parameters": {"number": "$response.body#/order_number"}}
    assert links["orders_cancel_create"]["parameters"] == {"number": "$response.body#/order_number"}
    assert links["customers_orders_retrieve"]["parameters"] == {
        "external_id": "$request.body#/customer/external_id"}
    assert {"orders_konbini_payment_create", "orders_returns_create", "orders_receipt.json_retrieve",
            "customers_gift_card_retrieve"} <= set(links)
