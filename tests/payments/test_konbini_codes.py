"""Choosing a chain: POST /orders/{n}/konbini-payment (API.md "Storefront", SPEC §3)."""

from __future__ import annotations

import pytest
import time_machine

from backoffice.checkdigits import luhn_valid
from payments.konbini.models import PaymentCode
from shop.models import Message
from shop.services import orders
from tests.payments.konbini_support import DEADLINE, PLACED, jst, konbini_order

pytestmark = pytest.mark.django_db


def _choose(client, order, chain):
    return client.json("post", f"/api/v1/orders/{order.number}/konbini-payment", {"chain": chain})


@time_machine.travel(PLACED, tick=False)
def test_choosing_lawson_gives_an_11_digit_number_with_8888_and_the_loppi_steps(storefront):
    order = konbini_order()
    r = _choose(storefront, order, "lawson")
    assert r.status_code == 201, r.json()
    body = r.json()
    assert body["chain"] == "lawson" and body["check_code"] == "8888" and body["amount"] == order.total
    assert len(body["payment_number"]) == 11 and luhn_valid(body["payment_number"])
    assert body["deadline"] == "2026-11-29T23:59:59+09:00"
    assert body["instructions"][0].startswith("店内のLoppiで「各種代金・料金お支払い」")
    assert any(body["payment_number"] in step for step in body["instructions"])


@time_machine.travel(PLACED, tick=False)
def test_seven_eleven_number_has_13_digits_and_no_check_code(storefront):
    body = _choose(storefront, konbini_order(), "seven_eleven").json()
    assert len(body["payment_number"]) == 13 and luhn_valid(body["payment_number"])
    assert body["check_code"] is None


def test_picking_another_chain_voids_the_previous_code_and_keeps_the_deadline(storefront):
    with time_machine.travel(PLACED, tick=False):
        order = konbini_order()
        first = _choose(storefront, order, "lawson").json()
    with time_machine.travel(jst(2026, 11, 27, 9, 0), tick=False):
        second = _choose(storefront, order, "familymart").json()
    assert second["deadline"] == first["deadline"] == DEADLINE.isoformat()
    codes = {c.chain: c.status for c in PaymentCode.objects.filter(payment__order=order)}
    assert codes == {"lawson": "void", "familymart": "live"}
    resource = storefront.get(f"/api/v1/orders/{order.number}").json()
    assert resource["payment"]["konbini"]["chain"] == "familymart"
    assert resource["payment"]["konbini"]["payment_number"] == second["payment_number"]
    assert resource["payment"]["deadline"] == DEADLINE.isoformat()


def test_picking_the_same_chain_again_returns_the_same_number(storefront):
    order = konbini_order()
    assert _choose(storefront, order, "lawson").json()["payment_number"] == \
        _choose(storefront, order, "lawson").json()["payment_number"]
    assert PaymentCode.objects.filter(payment__order=order).count() == 1


def test_the_number_is_unique_among_live_codes_of_the_chain(storefront, monkeypatch):
    from payments.konbini import codes

    draws = iter(["12345678903", "12345678903", "98765432106"])
    monkeypatch.setattr(codes, "new_number", lambda chain: next(draws))
    a, b = konbini_order(external_id="a"), konbini_order(external_id="b")
    assert _choose(storefront, a, "lawson").json()["payment_number"] == "12345678903"
    assert _choose(storefront, b, "lawson").json()["payment_number"] == "98765432106"


def test_a_code_is_refused_with_409_once_the_order_is_not_awaiting_payment(storefront):
    order = konbini_order()
    orders.cancel(order, reason="customer_request", actor="test")
    r = _choose(storefront, order, "lawson")
    assert r.status_code == 409 and r.json()["code"] == "not_pending_payment"


def test_a_card_order_cannot_get_a_konbini_code(storefront):
    from tests.factories import ListingFactory, place

    r = _choose(storefront, place(ListingFactory()), "lawson")
    assert r.status_code == 409 and r.json()["code"] == "not_konbini_payment"


def test_an_unknown_chain_is_a_400_and_nothing_is_written(storefront):
    order = konbini_order()
    r = _choose(storefront, order, "circle_k")
    assert r.status_code == 400 and r.json()["field"] == "chain"
    assert not PaymentCode.objects.exists()


def test_order_number_typed_in_full_width_is_accepted(storefront):
    order = konbini_order()
    full = order.number.replace("-", "").translate(str.maketrans("0123456789", "０１２３４５６７８９"))
    assert storefront.json("post", f"/api/v1/orders/{full}/konbini-payment", {"chain": "lawson"}).status_code == 201


def test_the_code_is_sent_as_a_payment_instructions_message_with_the_steps(storefront):
    order = konbini_order()
    number = _choose(storefront, order, "familymart").json()["payment_number"]
    message = Message.objects.get(order=order, kind="payment_instructions",
                                  dedupe_key__startswith=f"payment_instructions:{order.number}:")
    assert number in message.body and "8888" in message.body and "Famiポート" in message.body


def test_other_partners_cannot_choose_a_chain(make_client):
    order = konbini_order()
    lawson = make_client("konbini_chain", "ローソン", chain="lawson")
    assert _choose(lawson, order, "lawson").status_code == 403


@pytest.mark.parametrize("moment", [jst(2026, 11, 19, 3, 0), jst(2026, 11, 19, 4, 59, 59)])
def test_in_the_maintenance_window_the_instructions_endpoint_answers_503(storefront, moment):
    with time_machine.travel(jst(2026, 11, 18, 12, 0), tick=False):
        order = konbini_order()
    with time_machine.travel(moment, tick=False):
        r = _choose(storefront, order, "lawson")
    assert r.status_code == 503 and r.json()["code"] == "maintenance"
    assert "メンテナンス" in r.json()["message"]
    assert int(r["Retry-After"]) == int((jst(2026, 11, 19, 5, 0) - moment).total_seconds())
    assert not PaymentCode.objects.exists()


def test_at_5_00_the_instructions_endpoint_is_open_again(storefront):
    with time_machine.travel(jst(2026, 11, 18, 12, 0), tick=False):
        order = konbini_order()
    with time_machine.travel(jst(2026, 11, 19, 5, 0), tick=False):
        assert _choose(storefront, order, "lawson").status_code == 201


def test_there_is_no_maintenance_in_december_2026(storefront):
    with time_machine.travel(jst(2026, 12, 15, 12, 0), tick=False):
        order = konbini_order()
    with time_machine.travel(jst(2026, 12, 17, 4, 0), tick=False):  # 3rd Thursday of an even month
        assert _choose(storefront, order, "lawson").status_code == 201


def test_the_current_code_can_be_read_back(storefront):
    order = konbini_order()
    number = _choose(storefront, order, "seicomart").json()["payment_number"]
    r = storefront.get(f"/api/v1/orders/{order.number}/konbini-payment")
    assert r.status_code == 200 and r.json()["payment_number"] == number


def _get_order_queries(client, number) -> int:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as ctx:
        assert client.get(f"/api/v1/orders/{number}").status_code == 200
    return len(ctx.captured_queries)


def test_the_order_resource_shows_the_code_with_a_constant_number_of_queries(storefront):
    plain = konbini_order(external_id="a")
    switched = konbini_order(external_id="b")
    for chain in ("lawson", "familymart", "seven_eleven", "ministop"):
        _choose(storefront, switched, chain)
    assert _get_order_queries(storefront, plain.number) == _get_order_queries(storefront, switched.number)
    assert storefront.get(f"/api/v1/orders/{plain.number}").json()["payment"]["konbini"] is None
    konbini = storefront.get(f"/api/v1/orders/{switched.number}").json()["payment"]["konbini"]
    assert konbini["chain"] == "ministop" and konbini["check_code"] == "8888"


def test_no_new_number_after_the_deadline(storefront):
    with time_machine.travel(PLACED, tick=False):
        order = konbini_order()
    with time_machine.travel(DEADLINE, tick=False):
        assert _choose(storefront, order, "lawson").status_code == 201
    with time_machine.travel(jst(2026, 11, 30, 0, 0), tick=False):
        r = _choose(storefront, order, "familymart")
    assert r.status_code == 410 and r.json()["code"] == "payment_expired"
    assert PaymentCode.objects.get(payment__order=order).chain == "lawson"
