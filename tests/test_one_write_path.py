"""Every cancellation path reaches the same state (Zulip's ``EventsRegisterTest`` idea): each path
runs on its own order of the same kind, every table of the database is snapshotted before and
after, and the shape of the change — rows inserted per table (with their kind/status), columns
changed per table — must be identical across the paths. A path that forgets a side effect
(stock, a voided code, the parcel's keys, the refund, its outbox row, the message) fails here.

The few tables a path writes for reasons of its own are named with the reason (the playbook's
fraud report and session revocation, the expiry's no-show count).
"""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

import pytest
import time_machine
from django.apps import apps
from django.contrib.auth.models import Group, User
from django.test import Client

from backoffice.models import Partner
from backoffice.timeutil import now
from fraud.services import playbook, review
from payments.konbini.jobs import expire_konbini_payments
from payments.konbini.models import PaymentCode
from pickup.jobs import expire_pickups
from pickup.models import Pickup
from shop.models import Message, Order
from shop.services import orders as order_service
from shop.services import shipments
from staff.permissions import FRAUD, SUPPORT
from tests import factories
from tests.pickup.conftest import arrive, shipped_pickup_order
from tests.staff import scenario
from tests.staff.submit import open_form

pytestmark = pytest.mark.django_db

# Columns whose values differ by nature between two runs (ids, clocks, who, why, free text).
VOLATILE = {"id", "at", "created_at", "updated_at", "placed_at", "voided_at", "closed_at", "available_at",
            "actor", "actor_kind", "actor_user_id", "actor_partner_id", "note", "params", "subject", "body",
            "dedupe_key", "cancellation_reason", "reason", "bulk", "last_login", "recorded_at", "occurred_at"}
# What each row is, when a table has such a column (shown in the diff).
WHAT = ("kind", "status", "task", "to_status", "method", "type")
# Tables no cancellation path may depend on for its shape (sessions, Django's own bookkeeping).
# (and a console form's one-time token, spent by the console paths: the form's bookkeeping).
IGNORED_TABLES = {"django_session", "django_admin_log", "backoffice_idempotencyrecord", "backoffice_formtoken"}


def snapshot() -> dict[str, dict[int, dict]]:
    tables = {}
    for model in apps.get_models():
        table = model._meta.db_table
        if table in IGNORED_TABLES or not model._meta.managed or model._meta.proxy:
            continue
        tables[table] = {row["id"]: row for row in model._default_manager.values()} \
            if model._meta.pk.name == "id" else {}
    return tables


def diff(before: dict, after: dict) -> dict[str, tuple]:
    """Per table: (inserted rows by their kind/status, sorted changed column names)."""
    out = {}
    for table, rows in after.items():
        old = before.get(table, {})
        inserted = Counter(
            tuple((k, row[k]) for k in WHAT if k in row) for pk, row in rows.items() if pk not in old)
        changed = sorted({k for pk, row in rows.items() if pk in old for k, v in row.items()
                          if k not in VOLATILE and old[pk][k] != v})
        deleted = len(set(old) - set(rows))
        if inserted or changed or deleted:
            out[table] = (sorted(inserted.items()), changed, deleted)
    return out


def run(path) -> dict[str, tuple]:
    before = snapshot()
    path()
    return diff(before, snapshot())


def staff_client(group: str, username: str) -> Client:
    user = User.objects.create_user(username=username, password="x-correct-horse", is_staff=True)
    user.groups.add(Group.objects.get_or_create(name=group)[0])
    client = Client()
    client.force_login(user)
    return client


def storefront() -> Client:
    partner = Partner(kind=Partner.Kind.STOREFRONT, name="storefront")
    key = partner.issue_key()
    partner.save()
    client = Client(headers={"Authorization": f"Bearer {key}"})
    return client


def paid_order(n: int) -> Order:
    return factories.place(factories.ListingFactory(price=1000 + n), external_id=f"paid-{n}")


def without(d: dict, *tables: str) -> dict:
    return {t: v for t, v in d.items() if t not in tables}


# --- a paid card order in processing: API, console, admin bulk, playbook, review rejection --------

def test_every_path_that_cancels_a_paid_order_does_the_same_writes():
    api, agent = storefront(), staff_client(SUPPORT, "agent")
    staff_client(FRAUD, "analyst")
    orders = [paid_order(i) for i in range(5)]
    held = scenario.held_order(external_id="held-1", price=1000)
    assert held.status == "on_hold" and held.payment.status == "paid"
    console_url = f"/staff/orders/{orders[1].number}/actions/cancel/"
    console_token = open_form(agent, console_url)
    bulk_token = open_form(agent, "/staff/orders/cancel/", page=f"/staff/orders/cancel/?ids={orders[2].pk}")
    paths = {
        "api": lambda: api.post(f"/api/v1/orders/{orders[0].number}/cancel", {"reason": "customer_request"},
                                content_type="application/json"),
        "console": lambda: agent.post(console_url, {"note": "", "form_token": console_token}),
        "admin bulk": lambda: agent.post("/staff/orders/cancel/", {"ids": str(orders[2].pk), "reason": "support",
                                                                   "form_token": bulk_token}),
        "core": lambda: order_service.cancel(orders[3], reason="support", actor="test"),
    }
    diffs = {name: run(path) for name, path in paths.items()}
    for name in paths:
        order = Order.objects.get(pk=orders[list(paths).index(name)].pk)
        assert order.status == "cancelled", name
    # The playbook also files/works the fraud report and revokes the customer's sessions (seed 002).
    playbook_diff = without(run(lambda: playbook.secure_account_for_order(orders[4], actor=User.objects.get(
        username="analyst"))), "fraud_report", "fraud_report_orders", "fraud_reportevent", "fraud_reportcheck",
        "fraud_passwordresettoken", "fraud_sessionrevocation", "shop_customer", "payments_giftcardaccount", "shop_message")
    reference = diffs["api"]
    expected_tables = {"shop_order", "shop_orderevent", "shop_listing", "payments_payment", "payments_refund",
                       "backoffice_outboxtask", "shop_message"}
    assert set(reference) == expected_tables, reference
    for name, d in diffs.items():
        # The console also logs what its user did (staff activity log, issue 17): its own record.
        assert without(d, "staff_activity", "django_admin_log") == reference, name
    # its own message kinds (password reset) aside, the playbook's cancellation writes the same
    assert playbook_diff == without(reference, "shop_message")
    # A held order rejected by review: the same writes (the review report's decision is its own).
    rejected = without(run(lambda: review.reject(held, actor=User.objects.get(username="analyst"))),
                       "fraud_reportevent", "fraud_reportcheck", "fraud_report")
    assert rejected == reference


# --- an unpaid konbini order with a live code: API cancel and the expiry job ----------------------

def test_the_konbini_expiry_and_a_cancellation_of_an_unpaid_order_do_the_same_writes():
    api = storefront()
    at = now()
    with time_machine.travel(at, tick=False):
        by_api = scenario.konbini_order_with_code(external_id="k-api")
        expiring = scenario.konbini_order_with_code(external_id="k-exp")
    api_diff = run(lambda: api.post(f"/api/v1/orders/{by_api.number}/cancel", {"reason": "customer_request"},
                                    content_type="application/json"))
    with time_machine.travel(at + timedelta(days=30), tick=False):
        job_diff = run(expire_konbini_payments)
    assert Order.objects.get(pk=expiring.pk).status == "cancelled"
    assert set(api_diff) == {"shop_order", "shop_orderevent", "shop_listing", "payments_payment",
                             PaymentCode._meta.db_table, "shop_message"}, api_diff
    assert job_diff == api_diff
    # The job's e-mails are a batch's (sent after those people wait for); the API's are not.
    bulk = dict(Message.objects.filter(kind="cancelled").values_list("order_id", "bulk"))
    assert bulk == {by_api.pk: False, expiring.pk: True}
    assert not PaymentCode.objects.filter(status="live").exists()


# --- a parcel waiting at the konbini: carrier return, staff, and the pickup expiry -----------------

def test_every_path_that_cancels_a_parcel_at_the_konbini_does_the_same_writes():
    agent = staff_client(SUPPORT, "agent")
    store = factories.StoreFactory(chain="lawson")
    parcels = []
    for i in range(3):  # the third arrived days earlier: only its deadline passes below
        with time_machine.travel(now() - timedelta(days=5 if i == 2 else 0), tick=False):
            order, shipment = shipped_pickup_order(store, external_id=f"p-{i}")
            arrive(shipment, store.code)
        parcels.append(Pickup.objects.select_related("order__shipment").get(order=order))
    returned = run(lambda: shipments.record_event(
        shipment=parcels[0].order.shipment, type="returned", occurred_at=now(), location="センター",
        actor="carrier:test"))
    # Staff cannot cancel a parcel already shipped: refused, nothing written.
    refused = run(lambda: agent.post(f"/staff/orders/{parcels[1].order.number}/actions/cancel/", {"note": ""}))
    assert without(refused, "shop_orderevent") == {} and "shop_orderevent" not in refused
    deadline = Pickup.objects.get(pk=parcels[2].pk).deadline
    with time_machine.travel(deadline + timedelta(minutes=1), tick=False):
        expired = run(expire_pickups)
    assert Pickup.objects.get(pk=parcels[2].pk).status == "expired"
    assert Pickup.objects.get(pk=parcels[0].pk).status == "cancelled"
    # The expiry counts the customer's no-show (seed 001); a carrier's return does not. The shipment's
    # own tracking row is the carrier's input, not a cancellation effect.
    assert without(expired, "pickup_pickupnoshow") == without(returned, "shop_shipmentevent")
    assert {"shop_order", "shop_orderevent", "shop_listing", "payments_payment", "payments_refund",
            "backoffice_outboxtask", "shop_message", "pickup_pickup"} <= set(expired)
