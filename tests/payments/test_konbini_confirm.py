"""The chain API: lookup and confirm (API.md "Konbini chain", SPEC §3)."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from payments.konbini.expiry import expire_overdue_payments
from payments.konbini.models import PaymentCode, PaymentReceipt
from payments.models import Payment
from shop import events
from shop.models import Message, Order
from shop.services import orders
from tests.payments import konbini_support
from tests.payments.konbini_support import (
    DEADLINE,
    PLACED,
    confirm_body,
    issue,
    jst,
    konbini_order,
)
from tests.support import copies, plans_of

pytestmark = pytest.mark.django_db

# Fixtures shared by the konbini tests.
chain_client = konbini_support.chain_client
lawson = konbini_support.lawson

CONFIRM = "/api/v1/konbini/payments/confirm"
LOOKUP = "/api/v1/konbini/payments/lookup"
FULL_WIDTH = str.maketrans("0123456789", "０１２３４５６７８９")


@pytest.fixture(autouse=True)
def _placement_day():
    with time_machine.travel(PLACED, tick=False) as traveller:
        yield traveller


@pytest.fixture
def order():
    return konbini_order(price=2980)


@pytest.fixture
def code(order):
    return issue(order, "lawson")


# --- lookup ---------------------------------------------------------------------------------

def test_lookup_tells_amount_deadline_and_status(lawson, code):
    r = lawson.json("post", LOOKUP, {"payment_number": code.number, "check_code": "8888"})
    assert r.status_code == 200, r.json()
    assert r.json().items() >= {"amount": 2980, "deadline": "2026-11-29T23:59:59+09:00", "status": "pending"}.items()


def test_lookup_accepts_full_width_digits_and_hyphens(lawson, code):
    typed = f"{code.number[:4]}－{code.number[4:]}".translate(FULL_WIDTH)
    r = lawson.json("post", LOOKUP, {"payment_number": typed, "check_code": "８８８８"})
    assert r.status_code == 200 and r.json()["payment_number"] == code.number


# --- refused before any lookup --------------------------------------------------------------

@pytest.mark.parametrize("number", ["1234567890", "123456789012", "1234567890a", "12345-67890-1", 12])
def test_a_number_of_the_wrong_length_or_not_digits_is_invalid_number(lawson, code, number):
    r = lawson.json("post", CONFIRM, confirm_body(code, amount=2980) | {"payment_number": number})
    assert r.status_code == 400 and r.json()["code"] == "invalid_number" and r.json()["field"] == "payment_number"


def test_a_mistyped_digit_fails_the_luhn_check_before_any_lookup(lawson, code, django_assert_max_num_queries):
    wrong = code.number[:-1] + str((int(code.number[-1]) + 1) % 10)
    body = confirm_body(code, amount=2980) | {"payment_number": wrong}
    with django_assert_max_num_queries(1):  # the partner key only
        r = lawson.json("post", CONFIRM, body)
    assert r.status_code == 400 and r.json()["code"] == "invalid_number"


def test_lawson_without_8888_is_told_to_enter_8888(lawson, code):
    r = lawson.json("post", CONFIRM, confirm_body(code, amount=2980, check_code=None))
    assert r.status_code == 400
    assert r.json()["code"] == "check_code_required" and r.json()["field"] == "check_code"
    assert "確認番号「8888」を入力してください" in r.json()["message"]
    assert Order.objects.get(pk=code.payment.order_id).status == "pending_payment"


def test_a_wrong_check_code_is_check_code_invalid_and_says_8888(lawson, code):
    r = lawson.json("post", CONFIRM, confirm_body(code, amount=2980, check_code="1234"))
    assert r.status_code == 400 and r.json()["code"] == "check_code_invalid"
    assert "「8888」" in r.json()["message"]


@pytest.mark.parametrize("chain", ["ministop", "familymart"])
def test_ministop_and_familymart_also_need_8888(chain_client, order, chain):
    code = issue(order, chain)
    r = chain_client(chain).json("post", CONFIRM, confirm_body(code, amount=2980, check_code=""))
    assert r.status_code == 400 and r.json()["code"] == "check_code_required"


@pytest.mark.parametrize("chain", ["seven_eleven", "seicomart", "daily_yamazaki"])
def test_chains_without_a_check_code_confirm_without_one(chain_client, order, chain):
    code = issue(order, chain)
    r = chain_client(chain).json("post", CONFIRM, confirm_body(code, amount=2980, check_code=None))
    assert r.status_code == 200, r.json()


# --- not found, wrong chain, wrong amount ------------------------------------------------

def test_an_unknown_number_is_payment_not_found(lawson, code):
    from backoffice.checkdigits import luhn_check_digit

    other = "9999999999"
    other += luhn_check_digit(other)
    r = lawson.json("post", CONFIRM, confirm_body(code, amount=2980) | {"payment_number": other})
    assert r.status_code == 404 and r.json()["code"] == "payment_not_found"


def test_another_chains_code_looks_like_it_does_not_exist(chain_client, code):
    familymart = chain_client("familymart")
    for path in (LOOKUP, CONFIRM):
        r = familymart.json("post", path, confirm_body(code, amount=2980))
        assert r.status_code == 404 and r.json()["code"] == "payment_not_found"
    assert Payment.objects.get(pk=code.payment_id).status == "pending"


def test_other_partner_kinds_cannot_confirm(storefront, code):
    assert storefront.json("post", CONFIRM, confirm_body(code, amount=2980)).status_code == 403


@pytest.mark.parametrize("amount", [2979, 2981])
def test_the_amount_must_equal_the_total_exactly(lawson, code, amount):
    r = lawson.json("post", CONFIRM, confirm_body(code, amount=amount))
    assert r.status_code == 409 and r.json()["code"] == "amount_mismatch" and "2,980円" in r.json()["message"]
    assert not PaymentReceipt.objects.exists()
    assert Payment.objects.get(pk=code.payment_id).status == "pending"


@pytest.mark.parametrize("field,value", [("amount", "2980"), ("amount", -1), ("amount", 10**12),
                                         ("paid_at", "yesterday"), ("receipt_number", None),
                                         ("receipt_number", "x" * 65), ("store_code", 123)])
def test_malformed_input_is_a_400_and_nothing_is_written(lawson, code, field, value):
    r = lawson.json("post", CONFIRM, confirm_body(code, amount=2980) | {field: value})
    assert r.status_code == 400 and r.json()["field"] == field
    assert not PaymentReceipt.objects.exists()


def test_malformed_json_is_a_400(lawson):
    r = lawson.post(CONFIRM, data="{", content_type="application/json")
    assert r.status_code == 400 and r.json()["code"] == "malformed_json"


def test_a_paid_at_in_the_future_is_refused(lawson, code):
    r = lawson.json("post", CONFIRM, confirm_body(code, amount=2980, paid_at="2026-11-24T10:00:00+09:00"))
    assert r.status_code == 400 and r.json()["field"] == "paid_at"


# --- payment received ----------------------------------------------------------------------

def test_confirmation_pays_the_order_and_tells_the_customer(lawson, code, order, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        r = lawson.json("post", CONFIRM, confirm_body(code, amount=2980, paid_at="2026-11-23T09:58:00+09:00"))
    assert r.status_code == 200 and r.json()["status"] == "paid"
    order.refresh_from_db()
    payment = Payment.objects.get(order=order)
    assert order.status == "processing"
    assert (payment.status, payment.captured_amount) == ("paid", 2980)
    assert PaymentCode.objects.get(pk=code.pk).status == "paid"
    receipt = PaymentReceipt.objects.get(payment=payment)
    assert (receipt.receipt_number, receipt.store_code, receipt.late) == ("R-0001", "LS0001", False)
    assert receipt.paid_at == jst(2026, 11, 23, 9, 58)
    assert Message.objects.filter(order=order, kind="payment_received").count() == 1
    last = order.events.order_by("-id").first()
    assert (last.from_status, last.to_status) == ("pending_payment", "processing")
    assert last.params == {"cause": "konbini_paid", "chain": "lawson", "store_code": "LS0001", "receipt_number": "R-0001"}
    assert "R-0001" in events.describe(last) and last.actor_kind == "partner" and last.actor_partner_id == lawson.partner.pk


def test_a_paid_digital_order_is_delivered(lawson):
    order = konbini_order(digital=True, price=400)
    code = issue(order, "lawson")
    assert lawson.json("post", CONFIRM, confirm_body(code, amount=400)).status_code == 200
    order.refresh_from_db()
    assert order.status == "delivered"


def test_lookup_after_payment_says_paid(lawson, code):
    lawson.json("post", CONFIRM, confirm_body(code, amount=2980))
    assert lawson.json("post", LOOKUP, {"payment_number": code.number, "check_code": "8888"}).json()["status"] == "paid"


def test_the_same_receipt_confirmed_twice_answers_the_same_and_records_one_payment(lawson, code, order):
    first = lawson.json("post", CONFIRM, confirm_body(code, amount=2980))
    again = lawson.json("post", CONFIRM, confirm_body(code, amount=2980))
    assert first.status_code == again.status_code == 200
    assert first.json() == again.json()
    assert PaymentReceipt.objects.count() == 1
    assert Message.objects.filter(order=order, kind="payment_received").count() == 1
    assert order.events.filter(to_status="processing").count() == 1


def test_a_second_receipt_for_a_paid_number_is_already_paid(lawson, code):
    lawson.json("post", CONFIRM, confirm_body(code, amount=2980, receipt="R-1"))
    r = lawson.json("post", CONFIRM, confirm_body(code, amount=2980, receipt="R-2"))
    assert r.status_code == 409 and r.json()["code"] == "already_paid"
    assert PaymentReceipt.objects.get().receipt_number == "R-1"


def test_idempotency_key_replays_the_first_answer(lawson, code):
    body = confirm_body(code, amount=2980)
    first = lawson.json("post", CONFIRM, body, HTTP_IDEMPOTENCY_KEY="k-1")
    again = lawson.json("post", CONFIRM, body, HTTP_IDEMPOTENCY_KEY="k-1")
    assert again.status_code == 200 and again.json() == first.json() and again["Idempotent-Replayed"] == "true"
    other = lawson.json("post", CONFIRM, body | {"receipt_number": "R-9"}, HTTP_IDEMPOTENCY_KEY="k-1")
    assert other.status_code == 422 and other.json()["code"] == "idempotency_key_reused"
    assert PaymentReceipt.objects.count() == 1


def test_confirmations_keep_working_in_the_maintenance_window(lawson, _placement_day):
    _placement_day.move_to(jst(2027, 1, 20, 10, 0))
    code = issue(konbini_order(external_id="c-2"), "lawson")
    _placement_day.move_to(jst(2027, 1, 21, 4, 0))  # the January 2027 window
    r = lawson.json("post", CONFIRM, confirm_body(code, amount=2980, paid_at="2027-01-21T03:59:00+09:00"))
    assert r.status_code == 200, r.json()


# --- deadline and late-payment grace ----------------------------------------------------

def test_a_payment_at_the_deadline_is_on_time(lawson, code, _placement_day):
    _placement_day.move_to(DEADLINE)
    assert lawson.json("post", CONFIRM, confirm_body(code, amount=2980, paid_at=DEADLINE.isoformat())).status_code == 200
    assert PaymentReceipt.objects.get().late is False


def test_a_payment_at_the_end_of_the_grace_is_accepted_as_late(lawson, code, _placement_day):
    _placement_day.move_to(DEADLINE + timedelta(minutes=60))
    assert lawson.json("post", CONFIRM, confirm_body(code, amount=2980, paid_at=DEADLINE.isoformat())).status_code == 200
    assert PaymentReceipt.objects.get().late is True


def test_a_payment_one_second_after_the_grace_is_payment_expired(lawson, code, _placement_day):
    _placement_day.move_to(DEADLINE + timedelta(minutes=60, seconds=1))
    r = lawson.json("post", CONFIRM, confirm_body(code, amount=2980, paid_at=DEADLINE.isoformat()))
    assert r.status_code == 410 and r.json()["code"] == "payment_expired"
    assert lawson.json("post", LOOKUP, {"payment_number": code.number, "check_code": "8888"}).status_code == 410
    assert Payment.objects.get(pk=code.payment_id).status == "pending"  # the job cancels, not the chain


def test_the_grace_is_the_setting(lawson, code, _placement_day, settings):
    settings.KONBINI_LATE_PAYMENT_GRACE = timedelta(minutes=10)
    _placement_day.move_to(DEADLINE + timedelta(minutes=10, seconds=1))
    assert lawson.json("post", CONFIRM, confirm_body(code, amount=2980)).json()["code"] == "payment_expired"


def test_after_the_expiry_job_a_confirmation_is_payment_expired(lawson, code, order, _placement_day):
    _placement_day.move_to(DEADLINE + timedelta(minutes=61))
    assert expire_overdue_payments()["expired"] == 1
    r = lawson.json("post", CONFIRM, confirm_body(code, amount=2980))
    assert r.status_code == 410 and r.json()["code"] == "payment_expired"
    assert "お支払い期限（2026年11月29日 23:59）を過ぎた" in r.json()["message"]
    order.refresh_from_db()
    assert order.status == "cancelled" and not PaymentReceipt.objects.exists()


def test_after_the_customer_cancelled_a_confirmation_is_refused_with_410(lawson, code, order):
    orders.cancel(order, reason="customer_request", actor="test")
    r = lawson.json("post", CONFIRM, confirm_body(code, amount=2980))
    assert r.status_code == 410 and "キャンセル" in r.json()["message"]


def test_the_code_of_a_chain_the_customer_left_is_no_longer_payable(lawson, code, order):
    issue(order, "familymart")
    r = lawson.json("post", CONFIRM, confirm_body(code, amount=2980))
    assert r.status_code == 404 and r.json()["code"] == "payment_not_found"


# --- constant queries -----------------------------------------------------------------------

def _confirm_queries(client, code, amount):
    body = confirm_body(code, amount=amount, receipt=f"R-{code.pk}")
    with CaptureQueriesContext(connection) as ctx:
        r = client.json("post", CONFIRM, body)
    assert r.status_code == 200, r.json()
    return len(ctx.captured_queries)


def test_a_confirmation_costs_a_constant_number_of_queries(lawson, django_assert_max_num_queries):
    from tests.factories import ListingFactory, place

    small = issue(konbini_order(price=1000), "lawson")
    big_order = place(*[ListingFactory(price=100) for _ in range(8)], method="konbini", quantity=3,
                      external_id="c-big")
    big = issue(big_order, "lawson")
    assert _confirm_queries(lawson, small, 1000) == _confirm_queries(lawson, big, 2400)
    third = issue(konbini_order(price=500, external_id="c-3"), "lawson")
    if connection.vendor == "postgresql":  # partner key, savepoint, the lock's join, one write statement, release
        bound = 5
    else:  # the same lock, then code, receipt, payment, order, event and message one by one, plus savepoints
        bound = 13  # and the webhook subscriber check (on PostgreSQL it rides in the write statement)
    body = confirm_body(third, amount=500, receipt="R-3")
    with django_assert_max_num_queries(bound):
        r = lawson.json("post", CONFIRM, body)
    assert r.status_code == 200, r.json()


# --- the one-statement write (PostgreSQL) writes what the services write ---------------------

def _written(order) -> dict:
    """Every row a confirmation writes for ``order``, without ids, clocks and the order's own
    number (which differs between the two orders compared)."""
    order.refresh_from_db()
    payment = Payment.objects.get(order=order)
    receipt = PaymentReceipt.objects.get(payment=payment)
    [event] = order.events.filter(kind="status_changed", from_status="pending_payment").values(
        "kind", "from_status", "to_status", "params", "actor", "actor_kind", "actor_user_id", "actor_partner_id",
        "note")
    [message] = order.messages.filter(kind="payment_received").values(
        "kind", "customer_id", "subject", "body", "dedupe_key", "emailed_at", "bulk", "send_attempts",
        "next_attempt_at", "last_error")
    for key in ("subject", "body", "dedupe_key"):
        message[key] = message[key].replace(order.number, "<number>")
    return {
        "order": (order.status, order.cancellation_reason, order.updated_at > order.placed_at),
        "payment": (payment.status, payment.captured_amount, payment.paid_at is not None),
        "code": PaymentCode.objects.get(pk=receipt.code_id).status,
        "codes": sorted(PaymentCode.objects.filter(payment=payment).values_list("chain", "status")),
        "receipt": (receipt.chain, receipt.receipt_number, receipt.store_code, receipt.amount, receipt.paid_at,
                    receipt.late, receipt.partner_id, receipt.recorded_at is not None),
        "event": event, "message": message,
    }


@pytest.mark.postgres
@pytest.mark.parametrize("digital, late", [(False, False), (True, True)], ids=["parcel on time", "digital in grace"])
def test_the_one_statement_write_matches_the_services_row_for_row(lawson, monkeypatch, _placement_day, digital, late):
    from payments.konbini import confirmations

    written = []
    for through_services in (False, True):
        order = konbini_order(price=1480, digital=digital, external_id="same-customer", stock=5)
        code = issue(order, "lawson")
        if through_services:
            monkeypatch.setattr(confirmations, "_record_in_one_statement", confirmations._record_with_services)
        at = DEADLINE + timedelta(minutes=30) if late else PLACED + timedelta(hours=1)
        with time_machine.travel(at, tick=False):
            r = lawson.json("post", CONFIRM, confirm_body(code, amount=1480, receipt="R-77", paid_at=at.isoformat()))
        assert r.status_code == 200, r.json()
        written.append(_written(order))
    one_statement, services = written
    assert one_statement == services
    assert one_statement["order"][0] == ("delivered" if digital else "processing")
    text = events.describe(order.events.get(kind="status_changed", from_status="pending_payment"))
    assert one_statement["receipt"][5] is late and ("猶予内" in text) is late
    assert one_statement["event"]["actor_partner_id"] == lawson.partner.pk


@pytest.mark.postgres
def test_confirmation_finds_its_code_payment_and_order_by_key_whatever_the_statistics_say(lawson, code, order):
    """With statistics saying few codes are live, few payments pending and few orders awaiting
    payment, a status index looks cheaper than the keys: the confirmation's one statement must
    still reach its three rows through their primary keys, not read every row in that status."""
    paid = Order.objects.bulk_create(copies(order, 400, number=lambda i: f"{order.number[:-6]}{i:06d}",
                                            status=lambda i: "processing"))
    payments = Payment.objects.bulk_create(copies(Payment.objects.get(order=order), 400, status=lambda i: "paid",
                                                  order_id=lambda i: paid[i].pk))
    PaymentCode.objects.bulk_create(copies(code, 400, status=lambda i: "paid", payment_id=lambda i: payments[i].pk,
                                           number=lambda i: f"{i:011d}"))
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE shop_order, payments_payment, konbini_paymentcode")
    with plans_of("WITH code") as plans:
        r = lawson.json("post", CONFIRM, confirm_body(code, amount=2980))
    assert r.status_code == 200, r.json()
    [scans] = plans
    assert {scan for scan in scans if scan[0] != "webhooks_endpoint"} == {
        ("konbini_paymentcode", "konbini_paymentcode_pkey"), ("payments_payment", "payments_payment_pkey"),
        ("shop_order", "shop_order_pkey")}  # (the subscriber check reads the few endpoints as it likes)
