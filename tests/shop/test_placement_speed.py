"""Issue 16: order placement in few statements, behaving exactly as before.

The write floor of ``bench/api.py`` (``bench/floor.py``) is mounted only when asked for and never
in production mode; placement's PostgreSQL transaction 2 (one statement) writes what the services
write; an order number that is taken is drawn again without a savepoint; several lines' stock is
checked under one locking read."""

from __future__ import annotations

import pytest
from django.urls import Resolver404, resolve

from backoffice.models import Partner
from backoffice.timeutil import now
from payments.models import Payment, SandboxGatewayCapture
from shop.models import Customer, Listing, Order, OrderLine
from shop.services import orders, placement_sql
from tests.factories import ListingFactory, order_payload, place
from tests.security.test_deploy_settings import PRODUCTION, manage
from tests.support import copies, plans_of
from webhooks.models import Endpoint, Event

FLOOR = "/api/v1/bench/write-floor"


# --- the write floor -----------------------------------------------------------------------------

def test_the_write_floor_is_not_mounted_by_default():
    with pytest.raises(Resolver404):
        resolve(FLOOR)


def test_production_mode_refuses_the_write_floor(tmp_path):
    done = manage(tmp_path, "check", BENCH_WRITE_FLOOR="true", **PRODUCTION)
    assert done.returncode != 0 and "BENCH_WRITE_FLOOR" in done.stderr


@pytest.mark.django_db
@pytest.mark.urls("bench.floor")
def test_the_write_floor_inserts_an_order_two_lines_a_payment_and_an_event(storefront):
    customer = Customer.objects.create(external_id="floor", email="floor@example.jp", name="床")
    listings = [ListingFactory(), ListingFactory()]
    body = {**order_payload(listings[0]), "floor": {"customer_id": customer.pk,
                                                      "listing_ids": [listing.pk for listing in listings]}}
    r = storefront.json("post", FLOOR, body)
    assert r.status_code == 201, r.json()
    order = Order.objects.get(number=r.json()["order_number"])
    assert order.customer_id == customer.pk and order.lines.count() == 2
    assert Payment.objects.get(order=order).status == "pending"
    assert list(order.events.values_list("kind", flat=True)) == ["placed"]
    bad = storefront.json("post", FLOOR, {**body, "shipping_speed": "teleport"})
    assert bad.status_code == 400 and Order.objects.count() == 1  # validated like POST /orders


# --- transaction 2 in one statement (PostgreSQL) --------------------------------------------------

def _written(order: Order) -> dict:
    """What transaction 2 wrote for ``order``, without ids, clocks and the order's own number."""
    order.refresh_from_db()
    payment = Payment.objects.get(order=order)
    [event] = order.events.filter(kind="status_changed").values(
        "kind", "from_status", "to_status", "params", "actor", "actor_kind", "actor_user_id", "actor_partner_id",
        "note")
    [message] = order.messages.filter(kind="order_confirmed").values(
        "kind", "customer_id", "subject", "body", "dedupe_key", "emailed_at", "bulk", "send_attempts",
        "next_attempt_at", "last_error")
    for key in ("subject", "body", "dedupe_key"):
        message[key] = message[key].replace(order.number, "<number>")
    capture = SandboxGatewayCapture.objects.get(idempotency_key=f"capture:{order.number}")
    return {
        "order": (order.status, order.cancellation_reason, order.updated_at >= order.placed_at),
        "payment": (payment.status, payment.captured_amount, payment.paid_at is not None,
                    payment.gateway_reference == capture.reference),
        "event": event, "message": message,
        "webhooks": list(Event.objects.filter(order=order).order_by("sequence", "id").values_list("type", "sequence")),
    }


def _through_services(order, reference, lines) -> tuple[bool, bool]:
    orders._release_paid_with_services(order, reference, lines)
    return True, False


@pytest.mark.postgres
@pytest.mark.django_db
@pytest.mark.parametrize("digital", [False, True], ids=["parcel", "digital"])
@pytest.mark.parametrize("listening", [False, True], ids=["nobody-listens", "subscribed"])
def test_transaction_2_in_one_statement_writes_what_the_services_write(monkeypatch, digital, listening):
    if listening:  # the statement's subscriber check says yes: the same webhook events as the services'
        partner = Partner(kind=Partner.Kind.STOREFRONT, name="listener")
        partner.issue_key()
        partner.save()
        Endpoint.objects.create(partner=partner, url="https://hooks.example.jp/", created_at=now(), secret="s",
                                event_types=Endpoint.event_types_of(["order.placed", "order.paid", "order.delivered"]))
    written = []
    for through_services in (False, True):
        if through_services:
            monkeypatch.setattr(placement_sql, "release_paid", _through_services)
        order = place(ListingFactory(title="同じ商品", price=1480, digital=digital, stock=5), external_id="same-customer")
        written.append(_written(order))
    one_statement, services = written
    services.pop("webhooks")  # (emitted by the caller around the services: tests/webhooks cover that path)
    webhooks = one_statement.pop("webhooks")
    assert one_statement == services
    assert one_statement["order"][0] == ("delivered" if digital else "processing")
    # The statement's subscriber check: the order's events when someone listens, none otherwise.
    expected = [("order.placed", 1), ("order.paid", 2)] + ([("order.delivered", 3)] if digital else [])
    assert webhooks == (expected if listening else [])


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_capture_for_an_order_cancelled_meanwhile_is_voided_by_the_one_statement(monkeypatch):
    """The order was cancelled between the capture and transaction 2: nothing moves, the
    capture is voided (the statement matched no order: ``_OrderGone``)."""
    from shop.services import card_capture

    real_capture = card_capture.capture

    def capture_then_cancel(order, token):
        reference = real_capture(order, token)
        orders.cancel(order, reason="support", actor="system")
        return reference

    monkeypatch.setattr(card_capture, "capture", capture_then_cancel)
    listing = ListingFactory(stock=2)
    order = place(listing)
    assert (order.status, order.cancellation_reason) == ("cancelled", "support")
    assert SandboxGatewayCapture.objects.get().status == "voided"
    assert Payment.objects.get(order=order).status == "voided"
    assert not order.messages.filter(kind="order_confirmed").exists()
    assert Listing.objects.get(pk=listing.pk).stock == 2


# --- the order number and the stock ---------------------------------------------------------------

@pytest.mark.django_db
def test_an_order_number_already_taken_is_drawn_again(monkeypatch):
    first = place(ListingFactory())
    numbers = iter([first.number, "123-4567890-1234567"])
    monkeypatch.setattr(orders, "new_order_number", lambda: next(numbers))
    second = place(ListingFactory())
    assert second.number == "123-4567890-1234567" and second.status == "processing"
    assert Order.objects.count() == 2


@pytest.mark.django_db
def test_several_lines_one_short_is_out_of_stock_and_reserves_nothing(storefront):
    plenty, short, more = ListingFactory(stock=5), ListingFactory(stock=1, title="品薄の品"), ListingFactory(stock=5)
    body = order_payload(plenty, short, more)
    for item in body["items"]:
        item["quantity"] = 2
    r = storefront.json("post", "/api/v1/orders", body)
    assert r.status_code == 409 and r.json()["code"] == "out_of_stock" and "品薄の品" in r.json()["message"]
    assert sorted(Listing.objects.values_list("stock", flat=True)) == [1, 5, 5]
    assert not Order.objects.exists() and not OrderLine.objects.exists()
    r = storefront.json("post", "/api/v1/orders", order_payload(plenty, more, quantity=2))
    assert r.status_code == 201
    assert sorted(Listing.objects.values_list("stock", flat=True)) == [1, 3, 3]



@pytest.mark.postgres
@pytest.mark.django_db
def test_transaction_2_finds_its_order_and_payment_by_key_whatever_the_statistics_say():
    """When the planner's statistics say few orders await payment and few payments are pending
    (a card shop between two ANALYZEs), a status index — or a scan — looks cheaper than the keys;
    transaction 2 then read every order awaiting payment and every payment on each placement. It
    must reach both rows through their keys: ``shop_order_pkey`` and the payment's ``order_id``."""
    from django.db import connection

    listing = ListingFactory(stock=10**6)
    first = place(listing)
    others = Order.objects.bulk_create(copies(first, 400, number=lambda i: f"{first.number[:-6]}{i:06d}"))
    Payment.objects.bulk_create(copies(Payment.objects.get(order=first), 400, order_id=lambda i: others[i].pk))
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE shop_order")
        cursor.execute("ANALYZE payments_payment")
    with plans_of("WITH moved") as plans:
        place(listing)
    [scans] = plans
    assert {scan for scan in scans if scan[0] != "webhooks_endpoint"} == {
        ("shop_order", "shop_order_pkey"), ("payments_payment", "payments_payment_order_id_key")}
