"""The terminal and the register (API.md "Konbini chain": POST /pickup/tickets, .../redeem)."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
import time_machine

from backoffice.checkdigits import seven_dr_number
from backoffice.timeutil import JST
from pickup.models import Pickup, PickupAttempt, PickupTicket
from pickup.services import terminal
from tests.factories import StoreFactory
from tests.pickup.conftest import ticket_body

pytestmark = pytest.mark.django_db

TICKETS = "/api/v1/pickup/tickets"
FULL_WIDTH = str.maketrans("0123456789-", "０１２３４５６７８９－")


def redeem(client, number, store_code):
    return client.json("post", f"{TICKETS}/{number}/redeem", {"store_code": store_code})


def test_keys_at_the_right_store_print_a_ticket_valid_30_minutes(lawson, parcel):
    issued_at = datetime(2026, 11, 24, 19, 0, tzinfo=JST)
    with time_machine.travel(issued_at, tick=False):
        r = lawson.json("post", TICKETS, ticket_body(parcel))
    assert r.status_code == 201, r.json()
    body = r.json()
    assert len(body["ticket_number"]) == 13
    assert datetime.fromisoformat(body["expires_at"]) == issued_at + timedelta(minutes=30)
    assert body["expires_at"].endswith("+09:00")
    assert PickupAttempt.objects.get().outcome == "issued"


def test_full_width_digits_and_hyphens_are_accepted_at_the_terminal(lawson, parcel):
    inquiry = parcel.inquiry_number
    typed = f"{inquiry[:4]}-{inquiry[4:8]}-{inquiry[8:]}".translate(FULL_WIDTH)
    r = lawson.json("post", TICKETS, ticket_body(parcel, inquiry_number=typed,
                                                 auth_number=parcel.auth_number.translate(FULL_WIDTH)))
    assert r.status_code == 201, r.json()


def test_the_ticket_at_the_register_hands_the_parcel_over(lawson, parcel):
    number = lawson.json("post", TICKETS, ticket_body(parcel)).json()["ticket_number"]
    r = redeem(lawson, number, parcel.store.code)
    assert r.status_code == 200 and r.json() == {"status": "picked_up"}
    parcel.refresh_from_db()
    parcel.order.refresh_from_db()
    assert parcel.status == "picked_up" and parcel.order.status == "delivered"
    # The keys are spent: the same ticket again, or new keys, no second handover.
    assert redeem(lawson, number, parcel.store.code).json()["code"] == "ticket_already_used"
    r = lawson.json("post", TICKETS, ticket_body(parcel))
    assert r.status_code == 409 and r.json()["code"] == "already_picked_up"


def test_a_new_ticket_voids_the_old_one(lawson, parcel):
    first = lawson.json("post", TICKETS, ticket_body(parcel)).json()["ticket_number"]
    second = lawson.json("post", TICKETS, ticket_body(parcel)).json()["ticket_number"]
    r = redeem(lawson, first, parcel.store.code)
    assert r.status_code == 410 and r.json()["code"] == "ticket_expired"
    assert redeem(lawson, second, parcel.store.code).status_code == 200


def test_the_ticket_works_for_exactly_30_minutes(lawson, make_parcel, store):
    issued_at = datetime(2026, 11, 24, 19, 0, tzinfo=JST)
    on_time, late = make_parcel(store), make_parcel(store)
    with time_machine.travel(issued_at, tick=False):
        on_time_ticket = lawson.json("post", TICKETS, ticket_body(on_time)).json()["ticket_number"]
        late_ticket = lawson.json("post", TICKETS, ticket_body(late)).json()["ticket_number"]
    with time_machine.travel(issued_at + timedelta(minutes=30), tick=False):  # the 30th minute's last second
        assert redeem(lawson, on_time_ticket, store.code).status_code == 200
    with time_machine.travel(issued_at + timedelta(minutes=30, seconds=1), tick=False):
        r = redeem(lawson, late_ticket, store.code)
    assert r.status_code == 410 and r.json()["code"] == "ticket_expired"
    late.refresh_from_db()
    assert late.status == "ready"  # a fresh ticket at the terminal still works


def test_a_ticket_of_a_parcel_the_carrier_returned_is_expired_not_a_conflict(lawson, carrier, parcel):
    number = lawson.json("post", TICKETS, ticket_body(parcel)).json()["ticket_number"]
    r = carrier.json("post", f"/api/v1/shipments/{parcel.inquiry_number}/events",
                     {"type": "returned", "occurred_at": parcel.arrived_at.isoformat(), "location": "センター"})
    assert r.status_code == 201, r.json()
    assert Pickup.objects.get(pk=parcel.pk).status == "cancelled"  # closed by the cancellation itself
    r = redeem(lawson, number, parcel.store.code)
    assert r.status_code == 410 and r.json()["code"] == "ticket_expired"
    parcel.refresh_from_db()
    parcel.order.refresh_from_db()
    assert parcel.order.status == "cancelled" and parcel.status == "cancelled" and parcel.picked_up_at is None
    ticket = PickupTicket.objects.get(number=number)
    assert ticket.redeemed_at is None and ticket.voided_at is not None
    r = lawson.json("post", TICKETS, ticket_body(parcel))  # nor does the terminal print a new one
    assert r.status_code == 410 and r.json()["code"] == "pickup_expired"


def test_a_ticket_only_works_at_the_store_the_parcel_is_at(lawson, parcel):
    other = StoreFactory(chain="lawson")
    number = lawson.json("post", TICKETS, ticket_body(parcel)).json()["ticket_number"]
    r = redeem(lawson, number, other.code)
    assert r.status_code == 404 and r.json()["code"] == "ticket_not_found"
    assert redeem(lawson, "1234567890123", parcel.store.code).json()["code"] == "ticket_not_found"
    assert redeem(lawson, "12", parcel.store.code).status_code == 404


def test_unknown_number_wrong_auth_and_wrong_store_get_the_same_answer(lawson, parcel, make_parcel):
    other_store = StoreFactory(chain="lawson")
    elsewhere = make_parcel(other_store, external_id="cust-2")
    wrong_auth = f"{(int(parcel.auth_number) + 1) % 10**7:07d}"
    unknown = seven_dr_number("99999999999")  # a valid number nobody has
    answers = [
        lawson.json("post", TICKETS, ticket_body(parcel, inquiry_number=unknown)),
        lawson.json("post", TICKETS, ticket_body(parcel, auth_number=wrong_auth)),
        lawson.json("post", TICKETS, ticket_body(elsewhere, store_code=parcel.store.code)),
    ]
    assert {(r.status_code, r.content) for r in answers} == {
        (404, answers[0].content)}
    assert answers[0].json()["code"] == "pickup_not_found"
    assert list(PickupAttempt.objects.order_by("id").values_list("outcome", flat=True)) == [
        "unknown_number", "wrong_auth", "wrong_store"]


@pytest.mark.parametrize("field, value", [
    ("inquiry_number", "12345678901"),  # 11 digits
    ("inquiry_number", "123456789010"),  # 7DR check digit wrong (12345678901 mod 7 = 3)
    ("inquiry_number", "abcdefghijkl"),
    ("auth_number", "123456"),
    ("auth_number", "12345678"),
])
def test_a_malformed_number_is_a_400_and_is_not_counted(lawson, parcel, field, value):
    for _ in range(6):  # more than the 5 failures that would lock the parcel
        r = lawson.json("post", TICKETS, ticket_body(parcel, **{field: value}))
        assert r.status_code == 400 and r.json()["code"] == "invalid_number" and r.json()["field"] == field
    parcel.refresh_from_db()
    assert parcel.consecutive_failures == 0 and not parcel.locked
    assert lawson.json("post", TICKETS, ticket_body(parcel)).status_code == 201


def test_five_consecutive_failures_lock_the_parcel_until_staff_unlock_it(lawson, parcel):
    wrong = ticket_body(parcel, auth_number="0000000" if parcel.auth_number != "0000000" else "1111111")
    for _ in range(4):
        assert lawson.json("post", TICKETS, wrong).status_code == 404
    assert not Pickup.objects.get(pk=parcel.pk).locked  # 4 failures: not yet
    assert lawson.json("post", TICKETS, wrong).status_code == 404  # the 5th is answered, and locks
    r = lawson.json("post", TICKETS, ticket_body(parcel))  # even the right keys now
    assert r.status_code == 423 and r.json()["code"] == "pickup_locked"
    parcel.refresh_from_db()
    assert parcel.locked and parcel.order.events.filter(kind="pickup_locked").exists()
    terminal.unlock(parcel, actor="staff:agent")
    assert parcel.order.events.filter(kind="pickup_unlocked", actor="staff:agent").exists()
    assert lawson.json("post", TICKETS, ticket_body(parcel)).status_code == 201


def test_a_success_resets_the_consecutive_failure_count(lawson, parcel):
    wrong = ticket_body(parcel, auth_number="0000000" if parcel.auth_number != "0000000" else "1111111")
    for _ in range(4):
        assert lawson.json("post", TICKETS, wrong).status_code == 404
    assert lawson.json("post", TICKETS, ticket_body(parcel)).status_code == 201
    for _ in range(4):
        assert lawson.json("post", TICKETS, wrong).status_code == 404
    assert lawson.json("post", TICKETS, ticket_body(parcel)).status_code == 201


def test_more_than_20_failures_in_10_minutes_throttle_the_store_for_10_minutes(lawson, parcel):
    start = datetime(2026, 11, 24, 12, 0, tzinfo=JST)
    unknown = [f"{n:011d}{n % 7}" for n in range(10_000_000_000, 10_000_000_000 + 25)]
    with time_machine.travel(start, tick=False) as clock:
        for number in unknown[:20]:
            assert lawson.json("post", TICKETS, ticket_body(parcel, inquiry_number=number)).status_code == 404
            clock.shift(timedelta(seconds=25))
        assert lawson.json("post", TICKETS, ticket_body(parcel)).status_code == 201  # 20 is not "more than 20"
        assert lawson.json("post", TICKETS, ticket_body(parcel, inquiry_number=unknown[21])).status_code == 404
        r = lawson.json("post", TICKETS, ticket_body(parcel))
        assert r.status_code == 429 and r.json()["code"] == "store_throttled" and int(r["Retry-After"]) == 600
    other_store = StoreFactory(chain="lawson")
    with time_machine.travel(start + timedelta(minutes=9), tick=False):
        r = lawson.json("post", TICKETS, ticket_body(parcel, store_code=other_store.code))
        assert r.status_code == 404  # only that store is throttled
    throttled_at = start + timedelta(seconds=25 * 20)  # the 21st failure
    with time_machine.travel(throttled_at + timedelta(minutes=10) - timedelta(seconds=1), tick=False):
        assert lawson.json("post", TICKETS, ticket_body(parcel)).status_code == 429
    with time_machine.travel(throttled_at + timedelta(minutes=10), tick=False):
        assert lawson.json("post", TICKETS, ticket_body(parcel)).status_code == 201
    assert PickupAttempt.objects.filter(outcome="throttled").count() == 2


@pytest.mark.parametrize("later, throttled", [
    (timedelta(minutes=9, seconds=59), True),  # the first failure is still in the window: 21 failures
    (timedelta(minutes=10), False),  # it has left the 10-minute window: 20, not "more than 20"
])
def test_the_store_throttle_counts_the_failures_of_the_last_10_minutes(lawson, parcel, later, throttled):
    start = datetime(2026, 11, 24, 12, 0, tzinfo=JST)  # a whole minute: the window is counted by the minute
    unknown = [f"{n:011d}{n % 7}" for n in range(10_000_000_000, 10_000_000_000 + 21)]
    with time_machine.travel(start, tick=False):
        assert lawson.json("post", TICKETS, ticket_body(parcel, inquiry_number=unknown[0])).status_code == 404
    with time_machine.travel(start + later, tick=False):
        for number in unknown[1:]:
            assert lawson.json("post", TICKETS, ticket_body(parcel, inquiry_number=number)).status_code == 404
        r = lawson.json("post", TICKETS, ticket_body(parcel))
    assert r.status_code == (429 if throttled else 201), r.json()


def test_past_the_deadline_the_keys_get_410(lawson, parcel):
    with time_machine.travel(parcel.deadline + timedelta(seconds=1), tick=False):
        r = lawson.json("post", TICKETS, ticket_body(parcel))
    assert r.status_code == 410 and r.json()["code"] == "pickup_expired"


def test_a_store_of_another_chain_is_not_this_terminals(familymart, parcel):
    r = familymart.json("post", TICKETS, ticket_body(parcel))
    assert r.status_code == 404 and r.json()["code"] == "store_not_found"
    assert not PickupTicket.objects.exists()


@pytest.mark.parametrize("body", [
    {"store_code": "1", "inquiry_number": True, "auth_number": "1234567"},
    {"store_code": "1", "auth_number": "1234567"},
    {"store_code": ["1"], "inquiry_number": "123456789015", "auth_number": "1234567"},
    {"store_code": "1", "inquiry_number": "1" * 41, "auth_number": "1234567"},
])
def test_wrong_types_are_a_400_never_a_500(lawson, body):
    assert lawson.json("post", TICKETS, body).status_code == 400


def test_only_konbini_chains_reach_the_terminal(storefront, parcel):
    assert storefront.json("post", TICKETS, ticket_body(parcel)).status_code == 403


def test_every_attempt_is_recorded_with_store_time_and_outcome(lawson, parcel):
    lawson.json("post", TICKETS, ticket_body(parcel, auth_number="12"))
    lawson.json("post", TICKETS, ticket_body(parcel, auth_number="0000000" if parcel.auth_number != "0000000"
                                               else "1111111"))
    lawson.json("post", TICKETS, ticket_body(parcel))
    rows = list(PickupAttempt.objects.order_by("id").values_list("store_id", "outcome"))
    assert rows == [(parcel.store_id, "invalid_number"), (parcel.store_id, "wrong_auth"),
                    (parcel.store_id, "issued")]
    assert Pickup.objects.get(pk=parcel.pk).attempts.count() == 2
