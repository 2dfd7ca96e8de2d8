"""Refunds (SPEC §3): one per cause, status on the timeline, card / gift card / bank transfer,
transient-then-success and permanent-failure gateway paths, the failed queue and the sweep."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine

from backoffice.errors import Conflict
from backoffice.models import OutboxTask
from backoffice.timeutil import now
from payments import jobs
from payments.models import GiftCardEntry, Payment, Refund, SandboxGatewayRefund
from payments.services import bank, giftcards, refunds
from shop.models import CancellationReason, Message, Order, OrderStatus
from shop.services import orders
from tests.factories import CustomerFactory, ListingFactory, place
from tests.support import relay_through_backoff

pytestmark = pytest.mark.django_db

S = Refund.Status


def cancel(order: Order, captured) -> Refund:
    """Cancel, then let the outbox relay run through every retry's backoff."""
    with captured(execute=True):
        orders.cancel(order, reason=CancellationReason.CUSTOMER_REQUEST, actor="storefront:test")
    relay_through_backoff()
    return Refund.objects.get(order=order, cause="cancel")


def timeline(order: Order) -> list[str]:
    return list(order.events.filter(kind__startswith="refund_").values_list("kind", flat=True))


def completed_messages(refund: Refund) -> int:
    return Message.objects.filter(kind="refund_completed", dedupe_key=f"refund_completed:{refund.pk}").count()


def paid_cash_order(method: str = "konbini", external_id: str = "cust-1") -> Order:
    order = place(ListingFactory(price=3000), method=method, external_id=external_id)
    orders.mark_paid(order, amount=order.total, actor="konbini:lawson")
    return order


def test_cancelled_card_order_is_refunded_through_the_gateway_once(django_capture_on_commit_callbacks):
    order = place(ListingFactory(price=4980))
    refund = cancel(order, django_capture_on_commit_callbacks)

    assert (refund.status, refund.method, refund.amount) == (S.SUCCEEDED, "card", order.total)
    assert SandboxGatewayRefund.objects.filter(idempotency_key=f"refund:{refund.pk}", status="succeeded").count() == 1
    assert refund.gateway_reference.startswith("re_")
    assert timeline(order) == ["refund_requested", "refund_processing", "refund_succeeded"]
    assert completed_messages(refund) == 1
    assert Payment.objects.get(order=order).refunded_amount == order.total


def test_a_second_request_for_the_same_cause_returns_the_first_refund(django_capture_on_commit_callbacks):
    order = place(ListingFactory())
    first = cancel(order, django_capture_on_commit_callbacks)
    again = refunds.request(order=order, amount=1, cause="cancel", reason="x", actor="staff:a")

    assert again.pk == first.pk
    assert Refund.objects.filter(order=order).count() == 1
    assert Payment.objects.get(order=order).refunded_amount == order.total


def test_processing_a_finished_refund_again_moves_no_money_and_sends_no_second_message(
        django_capture_on_commit_callbacks):
    order = place(ListingFactory())
    refund = cancel(order, django_capture_on_commit_callbacks)
    with django_capture_on_commit_callbacks(execute=True):
        refunds.process(refund.pk)
        refunds.process(refund.pk)

    assert SandboxGatewayRefund.objects.get(idempotency_key=f"refund:{refund.pk}").calls == 1
    assert completed_messages(refund) == 1
    assert Message.objects.filter(order=order, kind="refund_completed").count() == 1


def test_flaky_gateway_fails_transiently_twice_then_the_retry_succeeds(django_capture_on_commit_callbacks):
    order = place(ListingFactory(), card_token="tok_refund_flaky")
    refund = cancel(order, django_capture_on_commit_callbacks)

    assert refund.status == S.SUCCEEDED
    assert refund.attempts == 3
    record = SandboxGatewayRefund.objects.get(idempotency_key=f"refund:{refund.pk}")
    assert (record.calls, record.status) == (3, "succeeded")
    assert timeline(order) == ["refund_requested", "refund_processing", "refund_retry_scheduled",
                               "refund_retry_scheduled", "refund_succeeded"]
    assert completed_messages(refund) == 1


def test_retries_back_off_exponentially(django_capture_on_commit_callbacks):
    order = place(ListingFactory(), card_token="tok_refund_flaky")
    refund = refunds.request(order=order, amount=order.total, cause="cancel", reason="support", actor="staff:a")

    assert refunds.process(refund.pk).retry_in == 60  # 1 minute
    assert refunds.process(refund.pk).retry_in == 120  # 2 minutes
    assert refunds.process(refund.pk).retry_in is None
    assert Refund.objects.get(pk=refund.pk).status == S.SUCCEEDED


def test_permanent_gateway_failure_fails_at_once_into_the_failed_queue(django_capture_on_commit_callbacks):
    order = place(ListingFactory(), card_token="tok_refund_fail")
    refund = cancel(order, django_capture_on_commit_callbacks)

    assert (refund.status, refund.attempts) == (S.FAILED, 1)
    assert "permanent" in refund.last_error
    assert timeline(order)[-1] == "refund_failed"
    assert completed_messages(refund) == 0
    assert not SandboxGatewayRefund.objects.filter(status="succeeded").exists()
    # The money stays reserved for this refund: nothing else can be refunded twice.
    assert Payment.objects.get(order=order).refunded_amount == order.total


def test_transient_failures_after_the_last_retry_fail_the_refund(django_capture_on_commit_callbacks):
    order = place(ListingFactory(), card_token="tok_refund_timeout")
    refund = cancel(order, django_capture_on_commit_callbacks)

    assert (refund.status, refund.attempts) == (S.FAILED, 5)
    assert SandboxGatewayRefund.objects.get(idempotency_key=f"refund:{refund.pk}").calls == 5


def test_staff_retry_of_a_failed_refund_can_reissue_it_to_the_gift_card_balance(django_capture_on_commit_callbacks):
    order = place(ListingFactory(price=2500), card_token="tok_refund_fail")
    refund = cancel(order, django_capture_on_commit_callbacks)

    with django_capture_on_commit_callbacks(execute=True):
        refunds.retry(refund_id=refund.pk, actor="staff:finance", to_gift_card=True)

    refund.refresh_from_db()
    assert (refund.status, refund.method) == (S.SUCCEEDED, "gift_card")
    assert giftcards.account_for(order.customer).balance == order.total
    assert "refund_retried" in timeline(order)
    assert completed_messages(refund) == 1
    with pytest.raises(Conflict) as exc:
        refunds.retry(refund_id=refund.pk, actor="staff:finance")
    assert exc.value.code == "refund_not_failed"


def test_staff_retry_sends_a_failed_card_refund_through_the_gateway_again(django_capture_on_commit_callbacks):
    order = place(ListingFactory(), card_token="tok_refund_timeout")
    refund = cancel(order, django_capture_on_commit_callbacks)

    with django_capture_on_commit_callbacks(execute=True):
        refunds.retry(refund_id=refund.pk, actor="staff:finance")
    relay_through_backoff()

    refund.refresh_from_db()
    assert (refund.status, refund.attempts) == (S.FAILED, 5)  # attempts start over
    assert SandboxGatewayRefund.objects.get().calls == 10


def test_gift_card_order_is_refunded_to_the_balance_at_once(django_capture_on_commit_callbacks):
    customer = CustomerFactory(external_id="cust-1")
    giftcards.credit(customer=customer, amount=10000, kind=GiftCardEntry.Kind.PURCHASE, reference="card-1")
    order = place(ListingFactory(price=3000), method="gift_card")
    assert giftcards.account_for(customer).balance == 10000 - order.total

    refund = cancel(order, django_capture_on_commit_callbacks)

    assert (refund.status, refund.method) == (S.SUCCEEDED, "gift_card")
    assert giftcards.account_for(customer).balance == 10000
    entry = GiftCardEntry.objects.get(kind="refund")
    assert (entry.amount, entry.reference, entry.order_id) == (order.total, f"refund:{refund.pk}", order.pk)


@pytest.mark.parametrize("method", ["konbini", "cod"])
def test_cash_payment_is_refunded_to_the_gift_card_balance_by_default(method, django_capture_on_commit_callbacks):
    order = paid_cash_order(method)
    refund = cancel(order, django_capture_on_commit_callbacks)

    assert (refund.status, refund.method) == (S.SUCCEEDED, "gift_card")
    assert giftcards.account_for(order.customer).balance == order.total


@pytest.mark.parametrize("method", ["konbini", "cod"])
def test_cash_payment_goes_to_the_bank_when_the_customer_chose_it(method, django_capture_on_commit_callbacks):
    customer = CustomerFactory(external_id="cust-1")
    bank.set_bank_account(customer=customer, bank_code="0001", branch_code="001", account_type="ordinary",
                          account_number="1234567", holder_kana="ヤマダ タロウ", use_for_refunds=True)
    order = paid_cash_order(method)
    refund = cancel(order, django_capture_on_commit_callbacks)

    assert (refund.status, refund.method) == (S.PROCESSING, "bank_transfer")
    assert timeline(order) == ["refund_requested", "refund_processing", "refund_awaiting_transfer"]
    assert giftcards.account_for(customer).balance == 0
    assert completed_messages(refund) == 0


def test_an_account_on_file_without_the_refund_choice_keeps_the_gift_card_default(django_capture_on_commit_callbacks):
    customer = CustomerFactory(external_id="cust-1")
    bank.set_bank_account(customer=customer, bank_code="0001", branch_code="001", account_type="ordinary",
                          account_number="1234567", holder_kana="ヤマダ タロウ")
    refund = cancel(paid_cash_order(), django_capture_on_commit_callbacks)
    assert refund.method == "gift_card"


def test_an_unpaid_konbini_order_gets_no_refund(django_capture_on_commit_callbacks):
    order = place(ListingFactory(), method="konbini")
    with django_capture_on_commit_callbacks(execute=True):
        orders.cancel(order, reason=CancellationReason.CUSTOMER_REQUEST, actor="storefront:test")
    assert not Refund.objects.filter(order=order).exists()


# --- returns of delivered goods ------------------------------------------------------------------

def delivered(order: Order) -> Order:
    Order.objects.filter(pk=order.pk).update(status=OrderStatus.DELIVERED)
    order.refresh_from_db()
    return order


def test_a_partial_return_by_line_and_quantity_refunds_those_items(django_capture_on_commit_callbacks):
    a, b = ListingFactory(price=1200), ListingFactory(price=800)
    order = delivered(place(a, b, quantity=3))
    with django_capture_on_commit_callbacks(execute=True):
        refund = refunds.refund_return(order=order, lines=[(a.sku, 2)], actor="staff:support")

    refund.refresh_from_db()
    assert (refund.amount, refund.status, refund.reason) == (2400, S.SUCCEEDED, "customer_return")
    assert refund.cause == f"return:{refund.return_request.pk}"
    assert Payment.objects.get(order=order).refunded_amount == 2400


def test_a_line_cannot_be_returned_more_often_than_it_was_ordered():
    a = ListingFactory(price=1000)
    order = delivered(place(a, quantity=2))
    refunds.refund_return(order=order, lines=[(a.sku, 1)], actor="staff:support")
    refunds.refund_return(order=order, lines=[(a.sku, 1)], actor="staff:support")

    with pytest.raises(Conflict) as exc:
        refunds.refund_return(order=order, lines=[(a.sku, 1)], actor="staff:support")
    assert exc.value.code == "return_quantity_exceeded"
    assert Refund.objects.filter(order=order).count() == 2


def test_a_return_by_amount_beyond_what_is_left_is_refused_and_nothing_is_written():
    order = delivered(place(ListingFactory(price=5000)))
    refunds.refund_return(order=order, amount=3000, actor="staff:support")

    with pytest.raises(Conflict) as exc:
        refunds.refund_return(order=order, amount=order.total - 3000 + 1, actor="staff:support")
    assert exc.value.code == "refund_exceeds_captured"
    assert order.returns.count() == 1
    assert Payment.objects.get(order=order).refunded_amount == 3000


def test_the_same_return_reference_is_one_return():
    order = delivered(place(ListingFactory(price=5000)))
    first = refunds.refund_return(order=order, amount=1000, actor="staff:support", reference="RMA-1")
    again = refunds.refund_return(order=order, amount=1000, actor="staff:support", reference="RMA-1")
    assert first.pk == again.pk
    assert Payment.objects.get(order=order).refunded_amount == 1000


def test_goods_not_yet_delivered_cannot_be_returned():
    order = place(ListingFactory())
    with pytest.raises(Conflict) as exc:
        refunds.refund_return(order=order, amount=100, actor="staff:support")
    assert exc.value.code == "not_returnable"


@pytest.mark.parametrize("kwargs, code", [
    ({"lines": [("NOPE", 1)]}, "line_not_found"),
    ({"lines": [("SKU", 0)]}, "invalid_quantity"),
    ({"amount": 0}, "invalid_amount"),
    ({}, "invalid_return"),
])
def test_bad_return_input_is_refused_with_a_code(kwargs, code):
    listing = ListingFactory(sku="SKU")
    order = delivered(place(listing))
    from backoffice.errors import DomainError

    with pytest.raises(DomainError) as exc:
        refunds.refund_return(order=order, actor="staff:support", **kwargs)
    assert exc.value.code == code
    assert not order.returns.exists()


# --- the sweep ------------------------------------------------------------------------------------

def test_the_sweep_picks_up_a_refund_whose_task_was_lost(django_capture_on_commit_callbacks):
    order = place(ListingFactory())
    orders.cancel(order, reason=CancellationReason.CUSTOMER_REQUEST, actor="storefront:test")
    OutboxTask.objects.update(published_at=now())  # published, then lost by the broker
    refund = Refund.objects.get(order=order)
    assert refund.status == S.REQUESTED

    with django_capture_on_commit_callbacks(execute=True):
        assert jobs.sweep_stuck_refunds() == {"enqueued": 0}  # too recent: its task may still come
    with time_machine.travel(now() + refunds.STUCK_REQUESTED + timedelta(seconds=1)):
        with django_capture_on_commit_callbacks(execute=True):
            assert jobs.sweep_stuck_refunds() == {"enqueued": 1}
        with django_capture_on_commit_callbacks(execute=True):
            assert jobs.sweep_stuck_refunds() == {"enqueued": 0}

    refund.refresh_from_db()
    assert refund.status == S.SUCCEEDED
    assert completed_messages(refund) == 1


def test_the_sweep_leaves_bank_transfers_waiting_for_their_batch(django_capture_on_commit_callbacks):
    customer = CustomerFactory(external_id="cust-1")
    bank.set_bank_account(customer=customer, bank_code="0001", branch_code="001", account_type="ordinary",
                          account_number="1234567", holder_kana="ヤマダ タロウ", use_for_refunds=True)
    cancel(paid_cash_order(), django_capture_on_commit_callbacks)
    with time_machine.travel(now() + timedelta(days=1)):
        assert refunds.sweep_stuck() == 0


def test_the_sweep_costs_the_same_number_of_queries_for_one_or_many_refunds(django_assert_max_num_queries):
    for i in range(5):
        order = place(ListingFactory(), external_id=f"c{i}")
        refunds.request(order=order, amount=order.total, cause="cancel", reason="support", actor="t")
    with time_machine.travel(now() + refunds.STUCK_REQUESTED + timedelta(seconds=1)):
        with django_assert_max_num_queries(5):  # savepoint, select-for-update, update, outbox insert, release
            assert refunds.sweep_stuck() == 5


def test_a_finished_refund_cannot_change_status_again(django_capture_on_commit_callbacks):
    refund = cancel(place(ListingFactory()), django_capture_on_commit_callbacks)
    for to in (S.PROCESSING, S.FAILED, S.REQUESTED):
        with pytest.raises(Conflict) as exc:
            refunds.transition(refund, to, actor="staff:a", note="")
        assert exc.value.code == "refund_invalid_transition"
    assert Refund.objects.get(pk=refund.pk).status == S.SUCCEEDED


def test_methods_for_many_payments_asks_for_the_customers_choice_once(django_assert_num_queries):
    to_bank = CustomerFactory(external_id="cust-bank")
    bank.set_bank_account(customer=to_bank, bank_code="0001", branch_code="001", account_type="ordinary",
                          account_number="1234567", holder_kana="ヤマダ タロウ", use_for_refunds=True)
    card = place(ListingFactory(), method="card", external_id="cust-bank")
    konbini_bank = paid_cash_order("konbini", external_id="cust-bank")
    cod_gift = paid_cash_order("cod", external_id="cust-gift")
    payments = list(Payment.objects.filter(order__in=[card, konbini_bank, cod_gift]))
    by_order = {p.order_id: p.pk for p in payments}
    with django_assert_num_queries(1):
        methods = refunds.methods_for(payments)
    assert methods == {by_order[card.pk]: "card", by_order[konbini_bank.pk]: "bank_transfer",
                       by_order[cod_gift.pk]: "gift_card"}
    assert all(refunds.method_for(p) == methods[p.pk] for p in payments)
    with django_assert_num_queries(0):
        assert refunds.methods_for([p for p in payments if p.order_id == card.pk]) == {by_order[card.pk]: "card"}
