"""Konbini settlement (issue 14, API.md "Konbini settlement"): 速報 leaves the payment paid, 確報
settles it, 速報取消 before shipment reopens the payment and after shipment opens a finance case;
every discrepancy code; a duplicate report changes nothing; a correction is diffed."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine

from backoffice.checkdigits import seven_dr_number
from backoffice.timeutil import local
from payments.konbini.expiry import expire_overdue_payments
from payments.konbini.models import PaymentCode, PaymentReceipt, SettlementCase, SettlementLine, SettlementReport
from payments.models import BankAccount, GiftCardEntry, Payment, Refund
from shop.models import Message, OrderEvent, OrderStatus
from shop.services import shipments
from tests.payments import konbini_support
from tests.payments.konbini_support import DEADLINE, PLACED, confirm_body, issue, jst, konbini_order

pytestmark = pytest.mark.django_db
chain_client = konbini_support.chain_client
lawson = konbini_support.lawson

CONFIRM = "/api/v1/konbini/payments/confirm"
CANCEL = "/api/v1/konbini/payments/cancel-preliminary"
SETTLE = "/api/v1/konbini/settlements"
PAID_AT = "2026-11-23T10:00:00+09:00"
DAY = "2026-11-23"


@pytest.fixture(autouse=True)
def _clock():
    with time_machine.travel(PLACED, tick=False) as traveller:  # 11-23 10:00 JST
        yield traveller


def paid_order(client, *, price=2980, receipt="R-1", external_id="cust-1"):
    order = konbini_order(price=price, external_id=external_id)
    code = issue(order, client.partner.chain)
    r = client.json("post", CONFIRM, confirm_body(code, amount=price, receipt=receipt, paid_at=PAID_AT))
    assert r.status_code == 200, r.json()
    order.refresh_from_db()
    return order, code


def line(code, receipt="R-1", amount=2980, paid_at=PAID_AT):
    return {"payment_number": code.number, "receipt_number": receipt, "amount": amount, "paid_at": paid_at}


def settle(client, items, day=DAY, **extra):
    return client.json("post", SETTLE, {"settlement_date": day, "items": items, **extra})


def payment_status(order) -> str:
    return Payment.objects.get(order=order).status


# --- 速報 and 確報 ----------------------------------------------------------------------------------

def test_a_preliminary_report_leaves_the_payment_paid_and_the_final_report_settles_it(lawson, storefront):
    order, code = paid_order(lawson)
    assert payment_status(order) == "paid"
    r = settle(lawson, [line(code)])
    assert r.status_code == 200, r.json()
    assert r.json()["settled"] == 1 and r.json()["discrepancies"] == []
    assert payment_status(order) == "settled"
    receipt = PaymentReceipt.objects.get(payment__order=order)
    assert receipt.status == "settled" and receipt.settlement_line.report.settlement_date.isoformat() == DAY
    doc = storefront.get(f"/api/v1/orders/{order.number}").json()
    assert doc["payment"]["status"] == "settled"
    assert "konbini_settled" in [e.kind for e in OrderEvent.objects.filter(order=order)]


def test_the_same_report_twice_changes_nothing(lawson):
    order, code = paid_order(lawson)
    first = settle(lawson, [line(code)]).json()
    counts = (SettlementReport.objects.count(), SettlementLine.objects.count(), OrderEvent.objects.count())
    again = settle(lawson, [line(code)])
    assert again.status_code == 200 and again.json() == first
    assert (SettlementReport.objects.count(), SettlementLine.objects.count(), OrderEvent.objects.count()) == counts


def test_another_report_for_a_reconciled_day_is_accepted_only_as_a_correction(lawson):
    a, code_a = paid_order(lawson, receipt="R-A", external_id="c-a")
    b, code_b = paid_order(lawson, receipt="R-B", external_id="c-b")
    c, code_c = paid_order(lawson, receipt="R-C", external_id="c-c")
    settle(lawson, [line(code_a, "R-A"), line(code_b, "R-B")])
    refused = settle(lawson, [line(code_a, "R-A"), line(code_c, "R-C")])
    assert refused.status_code == 409 and refused.json()["code"] == "already_reconciled"
    assert payment_status(c) == "paid"
    r = settle(lawson, [line(code_a, "R-A"), line(code_c, "R-C")], correction=True)
    assert r.status_code == 200, r.json()
    body = r.json()
    assert body["settled"] == 2
    assert body["correction"] | {"removed_lines": None} == {
        "corrects_report": body["report_id"] - 1, "added": 1, "removed": 1, "changed": 0, "removed_lines": None}
    assert body["correction"]["removed_lines"] == [{"payment_number": code_b.number, "receipt_number": "R-B",
                                                    "amount": 2980}]
    # A kept, B back to its preliminary alone (a case for finance), C settled.
    assert [payment_status(o) for o in (a, b, c)] == ["settled", "paid", "settled"]
    assert SettlementCase.objects.get(kind="correction_removed").order_id == b.pk
    assert SettlementReport.objects.filter(current=True).count() == 1


def test_a_correction_with_a_changed_amount_opens_amount_differs(lawson):
    order, code = paid_order(lawson)
    settle(lawson, [line(code)])
    r = settle(lawson, [line(code, amount=2000)], correction=True)
    assert r.json()["discrepancies"] == [{"payment_number": code.number, "receipt_number": "R-1",
                                          "code": "amount_differs"}]
    assert r.json()["correction"]["changed"] == 1
    assert payment_status(order) == "paid"


# --- the codes ---------------------------------------------------------------------------------------

def test_amount_differs(lawson):
    order, code = paid_order(lawson)
    r = settle(lawson, [line(code, amount=2900)])
    assert r.json() | {"report_id": 0} == {"settled": 0, "report_id": 0, "settlement_date": DAY, "correction": None,
                                           "discrepancies": [{"payment_number": code.number, "receipt_number": "R-1",
                                                              "code": "amount_differs"}]}
    assert payment_status(order) == "paid"
    case = SettlementCase.objects.get()
    assert (case.kind, case.amount, case.expected_amount, case.order_id) == ("amount_differs", 2900, 2980, order.pk)


def test_no_preliminary_takes_the_payment_of_an_order_still_awaiting_it(lawson):
    order = konbini_order(price=2980)
    code = issue(order, "lawson")
    r = settle(lawson, [line(code, "R-9")])
    assert r.json()["discrepancies"] == [{"payment_number": code.number, "receipt_number": "R-9",
                                          "code": "no_preliminary"}]
    order.refresh_from_db()
    assert order.status == OrderStatus.PROCESSING and payment_status(order) == "settled"
    receipt = PaymentReceipt.objects.get(payment__order=order)
    assert receipt.from_settlement and receipt.status == "settled"
    assert SettlementCase.objects.get().kind == "no_preliminary"


def test_no_preliminary_for_an_unknown_payment_number_is_a_case(lawson):
    order = konbini_order(price=2980)
    code = issue(order, "familymart")  # another chain's number: unknown to Lawson
    r = settle(lawson, [{**line(code, "R-X"), "payment_number": code.number}])
    assert r.json()["discrepancies"][0]["code"] == "no_preliminary"
    assert payment_status(order) == "pending" and SettlementCase.objects.get().order_id is None


def test_order_cancelled_cash_for_an_expired_order_is_refunded_to_the_gift_card_balance(lawson, _clock):
    order = konbini_order(price=2980)
    code = issue(order, "lawson")
    _clock.move_to(DEADLINE + timedelta(hours=2))
    expire_overdue_payments()
    order.refresh_from_db()
    assert order.cancellation_reason == "payment_expired"
    r = settle(lawson, [line(code, "R-LATE", paid_at=local(DEADLINE + timedelta(minutes=70)).isoformat())],
               day="2026-11-30")
    assert r.json()["discrepancies"][0]["code"] == "order_cancelled"
    refund = Refund.objects.get(order=order)
    assert (refund.amount, refund.method) == (2980, "gift_card")
    assert payment_status(order) == "settled"
    case = SettlementCase.objects.get()
    assert (case.kind, case.refund_id) == ("order_cancelled", refund.pk)
    order.refresh_from_db()
    assert order.status == OrderStatus.CANCELLED


def test_order_cancelled_cash_goes_to_the_bank_account_the_customer_chose(lawson, _clock):
    order = konbini_order(price=2980)
    BankAccount.objects.create(customer=order.customer, bank_code="0001", bank_name="みずほ", branch_code="001",
                               branch_name="東京営業部", account_type="ordinary", account_number="1234567",
                               holder_kana="ﾔﾏﾀﾞ ﾀﾛｳ", use_for_refunds=True)
    code = issue(order, "lawson")
    _clock.move_to(DEADLINE + timedelta(hours=2))
    expire_overdue_payments()
    settle(lawson, [line(code, "R-LATE", paid_at=local(DEADLINE).isoformat())], day="2026-11-29")
    assert Refund.objects.get(order=order).method == "bank_transfer"
    assert not GiftCardEntry.objects.filter(order=order).exists()


def test_preliminary_cancelled_the_chain_reports_cash_for_a_voided_sale(lawson):
    order, code = paid_order(lawson)
    lawson.json("post", CANCEL, {"payment_number": code.number, "receipt_number": "R-1", "cancelled_at": PAID_AT})
    r = settle(lawson, [line(code)])
    assert r.json()["discrepancies"][0]["code"] == "preliminary_cancelled"
    assert SettlementCase.objects.filter(kind="preliminary_cancelled", order=order).exists()


def test_a_duplicate_line_in_one_report_is_refused(lawson):
    order, code = paid_order(lawson)
    r = settle(lawson, [line(code), line(code)])
    assert r.status_code == 400 and r.json()["code"] == "duplicate_line"
    assert not SettlementReport.objects.exists()


def test_a_chain_reaches_only_its_own_codes(lawson, chain_client):
    order, code = paid_order(lawson)
    familymart = chain_client("familymart")
    r = settle(familymart, [{**line(code), "payment_number": code.number}])
    assert r.json()["discrepancies"][0]["code"] == "no_preliminary"
    assert payment_status(order) == "paid"
    r = familymart.json("post", CANCEL, {"payment_number": code.number, "receipt_number": "R-1",
                                         "cancelled_at": PAID_AT})
    assert r.status_code == 404 and r.json()["code"] == "receipt_not_found"


@pytest.mark.parametrize("bad", [
    {"settlement_date": "2026-13-01", "items": []},
    {"settlement_date": "2099-01-01", "items": []},
    {"settlement_date": DAY, "items": "x"},
    {"settlement_date": DAY, "items": [{"payment_number": "1", "receipt_number": "R", "amount": 1,
                                        "paid_at": PAID_AT}]},
    {"settlement_date": DAY, "items": [None]},
    {"settlement_date": DAY, "items": [], "correction": "yes"},
])
def test_bad_reports_are_coded_400s_and_write_nothing(lawson, bad):
    r = lawson.json("post", SETTLE, bad)
    assert r.status_code == 400 and r.json()["code"]
    assert not SettlementReport.objects.exists()


# --- 速報取消 ------------------------------------------------------------------------------------------

def test_preliminary_cancelled_before_shipment_awaits_payment_again_with_the_same_code(lawson):
    order, code = paid_order(lawson)
    r = lawson.json("post", CANCEL, {"payment_number": code.number, "receipt_number": "R-1",
                                     "cancelled_at": PAID_AT})
    assert r.status_code == 200, r.json()
    assert r.json() | {"payment_number": None} == {
        "status": "cancelled", "payment_number": None, "receipt_number": "R-1", "order_status": "pending_payment",
        "payment_status": "pending", "finance_case": None}
    order.refresh_from_db()
    payment = Payment.objects.get(order=order)
    assert order.status == "pending_payment" and (payment.status, payment.captured_amount) == ("pending", 0)
    assert PaymentCode.objects.get(pk=code.pk).status == "live"
    voided = Message.objects.get(order=order, kind="payment_voided")
    assert code.number in voided.body and "2026年11月29日 23:59" in voided.body
    # the same code is payable again, with a new receipt
    again = lawson.json("post", CONFIRM, confirm_body(code, amount=2980, receipt="R-2"))
    assert again.status_code == 200, again.json()
    order.refresh_from_db()
    assert order.status == "processing"
    # repeated 速報取消 answers the same and writes nothing
    before = OrderEvent.objects.count()
    repeat = lawson.json("post", CANCEL, {"payment_number": code.number, "receipt_number": "R-1",
                                          "cancelled_at": PAID_AT})
    assert repeat.json()["status"] == "cancelled" and OrderEvent.objects.count() == before


def test_preliminary_cancelled_before_shipment_then_expires_as_usual(lawson, _clock):
    order, code = paid_order(lawson)
    lawson.json("post", CANCEL, {"payment_number": code.number, "receipt_number": "R-1", "cancelled_at": PAID_AT})
    _clock.move_to(DEADLINE + timedelta(minutes=59))
    assert expire_overdue_payments()["expired"] == 0
    _clock.move_to(DEADLINE + timedelta(minutes=61))
    assert expire_overdue_payments()["expired"] == 1
    order.refresh_from_db()
    assert (order.status, order.cancellation_reason) == ("cancelled", "payment_expired")


def test_preliminary_cancelled_after_shipment_opens_a_finance_case(lawson):
    order, code = paid_order(lawson)
    shipments.register(order=order, carrier="yamato", tracking_number=seven_dr_number("10000000001"), actor="test")
    r = lawson.json("post", CANCEL, {"payment_number": code.number, "receipt_number": "R-1",
                                     "cancelled_at": PAID_AT})
    assert r.status_code == 200, r.json()
    case = SettlementCase.objects.get()
    assert r.json()["finance_case"] == case.pk and case.kind == "cancelled_after_shipment"
    order.refresh_from_db()
    assert order.status == "shipped" and payment_status(order) == "paid"
    kinds = [e.kind for e in OrderEvent.objects.filter(order=order)]
    assert "konbini_preliminary_cancelled" in kinds and "settlement_case_opened" in kinds


def test_a_settled_receipt_cannot_be_cancelled(lawson):
    order, code = paid_order(lawson)
    settle(lawson, [line(code)])
    r = lawson.json("post", CANCEL, {"payment_number": code.number, "receipt_number": "R-1",
                                     "cancelled_at": PAID_AT})
    assert r.status_code == 409 and r.json()["code"] == "already_settled"


def test_unknown_receipt_is_404(lawson):
    order, code = paid_order(lawson)
    r = lawson.json("post", CANCEL, {"payment_number": code.number, "receipt_number": "R-404",
                                     "cancelled_at": PAID_AT})
    assert r.status_code == 404 and r.json()["code"] == "receipt_not_found"


def test_jst_helper_in_use():
    assert jst(2026, 11, 24).isoformat() == "2026-11-24T00:00:00+09:00"


def test_the_set_based_settled_events_are_the_builders_rows(lawson):
    from shop import events
    from shop.models import OrderEvent

    order, _code = paid_order(lawson)
    OrderEvent.objects.filter(order=order).delete()
    assert events.insert_konbini_settled_many([(order.pk, "R-1", 2980)], actor="system:x", chain="lawson",
                                              settlement_date=DAY, at=PLACED) == 1
    built = events.build_konbini_settled(order=order.pk, actor="system:x", chain="lawson", receipt_number="R-1",
                                         settlement_date=DAY, amount=2980, at=PLACED)
    names = [f.attname for f in OrderEvent._meta.concrete_fields if not f.primary_key]
    written = OrderEvent.objects.get(order=order)
    assert {name: getattr(written, name) for name in names} == {name: getattr(built, name) for name in names}


def test_the_final_report_closes_the_unsettled_preliminary_case(lawson, _clock):
    from payments.konbini import cases

    order, code = paid_order(lawson)
    _clock.move_to(PLACED + timedelta(days=4))
    assert cases.list_unsettled()["opened"] == 1
    settle(lawson, [line(code)])
    case = SettlementCase.objects.get(kind="unsettled")
    assert case.status == "resolved" and payment_status(order) == "settled"


def test_settled_and_the_preliminary_void_are_rows_of_the_state_tables():
    from shop import states

    assert states.payment_allowed("paid", "settled") and states.payment_allowed("paid", "pending")
    assert states.payment_allowed("voided", "settled") and not states.payment_allowed("settled", "pending")
    assert states.allowed("processing", "pending_payment") and not states.allowed("shipped", "pending_payment")
