"""A placement whose answer was lost (issue 19): its transactions committed, then the process or
its database connection died before the Idempotency-Key record was stored. The record then
holds only the claim transaction 1 wrote (the order's number); the client's retry with the same
key must find that order — never place and charge a second one.

The lost answer is modelled by putting the key's record back to the state such a crash leaves."""

from __future__ import annotations

import pytest

from backoffice.api import idempotency
from backoffice.models import IdempotencyRecord
from payments.models import SandboxGatewayCapture
from shop.models import Order, OrderStatus
from tests.factories import ListingFactory, order_payload

pytestmark = pytest.mark.django_db

ORDERS = "/api/v1/orders"


def _answer_lost(key: str) -> IdempotencyRecord:
    """What a crash after the placement and before storing its answer leaves: the claim only."""
    record = IdempotencyRecord.objects.get(key=key)
    number = record.body["order_number"]
    IdempotencyRecord.objects.filter(pk=record.pk).update(status_code=None, body={"order_number": number})
    return record


def test_the_retry_of_a_placement_whose_answer_was_lost_answers_the_same_order_and_charges_once(storefront):
    body = order_payload(ListingFactory(price=2400))
    first = storefront.json("post", ORDERS, body, HTTP_IDEMPOTENCY_KEY="k-1")
    assert first.status_code == 201
    _answer_lost("k-1")

    retry = storefront.json("post", ORDERS, body, HTTP_IDEMPOTENCY_KEY="k-1")
    assert retry.status_code == 201 and retry.json() == first.json()
    assert Order.objects.count() == 1 and SandboxGatewayCapture.objects.count() == 1
    again = storefront.json("post", ORDERS, body, HTTP_IDEMPOTENCY_KEY="k-1")  # stored now: a plain replay
    assert again.json() == first.json() and again["Idempotent-Replayed"] == "true"


def test_a_claimed_placement_still_waiting_for_its_capture_is_a_503_to_retry_later(storefront):
    body = order_payload(ListingFactory(price=2400))
    assert storefront.json("post", ORDERS, body, HTTP_IDEMPOTENCY_KEY="k-2").status_code == 201
    record = _answer_lost("k-2")
    Order.objects.filter(number=record.body["order_number"]).update(status=OrderStatus.PENDING_PAYMENT)

    retry = storefront.json("post", ORDERS, body, HTTP_IDEMPOTENCY_KEY="k-2")
    assert retry.status_code == 503 and retry.json()["code"] == "service_unavailable" and retry["Retry-After"]
    assert Order.objects.count() == 1
    assert IdempotencyRecord.objects.get(key="k-2").body == {"order_number": record.body["order_number"]}


def test_a_claimed_placement_that_kept_nothing_is_placed_afresh(storefront):
    body = order_payload(ListingFactory(price=2400))
    body["card_token"] = "tok_capture_timeout"  # 503: the order is cancelled, its capture voided
    assert storefront.json("post", ORDERS, body, HTTP_IDEMPOTENCY_KEY="k-3").status_code == 503
    cancelled = Order.objects.get()
    # Had the process died right after cancelling it, before the answer, the claim would remain:
    IdempotencyRecord.objects.create(partner=storefront.partner, key="k-3",
                                     endpoint=idempotency._scope("orders.create", ORDERS),
                                     fingerprint=idempotency._fingerprint(body), body={"order_number": cancelled.number})

    retry = storefront.json("post", ORDERS, body, HTTP_IDEMPOTENCY_KEY="k-3")
    assert retry.status_code == 503 and retry.json()["code"] == "payment_gateway_unavailable"
    assert Order.objects.count() == 2  # tried afresh: nothing was kept by the first order
    assert not SandboxGatewayCapture.objects.filter(status="captured").exists()
