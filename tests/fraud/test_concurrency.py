"""Races on real PostgreSQL (threads with their own connections): two agents deciding one held
order, and the secure-account playbook against a konbini payment confirmation."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection, transaction

from backoffice.errors import DomainError
from backoffice.timeutil import now
from fraud.models import ReportType
from fraud.services import playbook, reports, review
from payments.konbini import codes, confirmations
from payments.models import Payment, Refund
from shop.models import Order
from tests.factories import ListingFactory, place
from tests.fraud.helpers import only_weights
from tests.payments.konbini_support import register_store
from tests.support import wait_for_lock_waiters

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def run_concurrently(funcs):
    barrier = threading.Barrier(len(funcs))

    def worker(func):
        try:
            barrier.wait(timeout=30)
            return func()
        except DomainError as exc:
            return exc.code
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=len(funcs)) as pool:
        return list(pool.map(worker, funcs))


@pytest.mark.parametrize("attempt", range(3))
def test_two_agents_approving_and_rejecting_one_held_order_get_one_outcome(attempt):
    only_weights(new_address=70)
    listing = ListingFactory(stock=5, price=2000)
    order = place(listing)
    assert order.status == "on_hold"
    results = run_concurrently([
        lambda: review.approve(order, actor="staff:a").status,
        lambda: review.reject(order, actor="staff:b").status,
    ])
    assert sorted(results, key=str).count("already_reviewed") == 1, results
    order.refresh_from_db()
    listing.refresh_from_db()
    if order.status == "processing":
        assert not Refund.objects.filter(order=order).exists() and listing.stock == 4
    else:
        assert order.status == "cancelled" and order.cancellation_reason == "risk_rejected"
        assert Refund.objects.get(order=order).amount == 2000 and listing.stock == 5
    assert order.events.filter(from_status="on_hold").count() == 1


def _reported_konbini_order():
    register_store("lawson")  # the register's store (LS0001) is in Lawson's master
    order = place(ListingFactory(price=3000), method="konbini")
    code, _ = codes.issue(order=order, chain_code="lawson", actor="storefront")
    report = reports.open_report(type=ReportType.UNAUTHORIZED_ORDER, orders=[order], actor="storefront:test")
    return order, code, report


def _pay(code, receipt="R-1"):
    return confirmations.confirm(
        chain_code="lawson", payment_number=code.number, check_code_value="8888",
        cash=confirmations.CashPayment(amount=3000, store_code="LS0001", paid_at=now(), receipt_number=receipt),
        actor="konbini:lawson",
    )["status"]


def _never_paid_and_kept(order: Order) -> None:
    order.refresh_from_db()
    payment = Payment.objects.get(order=order)
    assert order.status == "cancelled" and order.cancellation_reason == "unauthorized_order"
    if payment.status == Payment.Status.PAID:
        assert Refund.objects.get(order=order).amount == payment.captured_amount == 3000
    else:
        assert payment.status == Payment.Status.VOIDED and not Refund.objects.filter(order=order).exists()


@pytest.mark.parametrize("attempt", range(3))
def test_playbook_racing_a_konbini_payment_never_leaves_the_order_paid_and_kept(attempt):
    order, code, report = _reported_konbini_order()
    results = run_concurrently([
        lambda: playbook.secure_account(report, actor="staff:a").cancelled,
        lambda: _pay(code),
    ])
    assert results[0] == [order.number]
    assert results[1] in ("paid", "payment_expired")
    _never_paid_and_kept(order)


def _in_thread(func) -> tuple[threading.Thread, list]:
    """Run ``func`` in a thread with its own connection; its result or error code lands in the list."""
    results: list = []

    def run():
        try:
            results.append(func())
        except DomainError as exc:
            results.append(exc.code)
        finally:
            connection.close()

    thread = threading.Thread(target=run)
    thread.start()
    return thread, results


def _holding(func, held: threading.Event, release: threading.Event):
    """``func`` in a transaction that stays open (its row locks held) until ``release``."""
    def run():
        with transaction.atomic():
            result = func()
            held.set()
            assert release.wait(timeout=30)
        return result

    return run


def _join(*threads: threading.Thread) -> None:
    for thread in threads:
        thread.join(timeout=30)
        assert not thread.is_alive()


@pytest.mark.parametrize("first", ["approve", "reject"])
def test_the_second_agent_waits_for_the_first_decision_and_is_told_it_was_made(first):
    """The first agent's decision holds the order's row lock; the second waits on it (PostgreSQL
    shows the waiter) and, once the first commits, gets ``already_reviewed``."""
    only_weights(new_address=70)
    listing = ListingFactory(stock=5, price=2000)
    order = place(listing)
    decide = {"approve": review.approve, "reject": review.reject}
    second = "reject" if first == "approve" else "approve"
    held, release = threading.Event(), threading.Event()
    first_thread, first_results = _in_thread(_holding(
        lambda: decide[first](order, actor="staff:a").status, held, release))
    assert held.wait(timeout=30)
    second_thread, second_results = _in_thread(lambda: decide[second](order, actor="staff:b").status)
    wait_for_lock_waiters()  # the second decision is blocked on the order's row lock
    assert second_results == []
    release.set()
    _join(first_thread, second_thread)
    assert first_results == ["processing" if first == "approve" else "cancelled"]
    assert second_results == ["already_reviewed"]
    order.refresh_from_db()
    listing.refresh_from_db()
    assert order.events.filter(from_status="on_hold").count() == 1
    assert listing.stock == (4 if first == "approve" else 5)


def test_payment_confirmed_first_then_playbook_cancels_and_refunds():
    order, code, report = _reported_konbini_order()
    paying, release = threading.Event(), threading.Event()
    payer, paid = _in_thread(_holding(lambda: _pay(code), paying, release))  # holds the order lock
    assert paying.wait(timeout=30)
    runner, secured = _in_thread(lambda: playbook.secure_account(report, actor="staff:a").cancelled)
    wait_for_lock_waiters()  # the playbook is blocked on the order the payment holds
    assert secured == []
    release.set()
    _join(payer, runner)
    assert paid == ["paid"] and secured == [[order.number]]
    _never_paid_and_kept(order)
    assert Payment.objects.get(order=order).status == Payment.Status.PAID


def test_playbook_first_then_the_payment_is_refused():
    order, code, report = _reported_konbini_order()
    secured, release = threading.Event(), threading.Event()
    staff, cancelled = _in_thread(_holding(lambda: playbook.secure_account(report, actor="staff:a").cancelled,
                                           secured, release))
    assert secured.wait(timeout=30)
    payer, outcome = _in_thread(lambda: _pay(code))
    wait_for_lock_waiters()  # the confirmation is blocked on the order the playbook holds
    assert outcome == []
    release.set()
    _join(staff, payer)
    assert cancelled == [[order.number]]
    assert outcome == ["payment_expired"]  # 410: the order was cancelled
    _never_paid_and_kept(order)


def test_concurrent_cod_orders_to_a_busy_address_cannot_all_slip_under_the_velocity_rule():
    """2 COD orders from 2 customers exist; 3 more arrive at once: the address row lock
    serialises them, so the first is the 3rd order (placed) and the other two are held."""
    only_weights()
    from tests.factories import HOME

    listing = ListingFactory(stock=10)
    place(listing, method="cod", external_id="a")
    place(listing, method="cod", external_id="b")
    results = run_concurrently([
        (lambda n=n: place(listing, method="cod", external_id=f"c{n}", destination=HOME).status) for n in range(3)
    ])
    assert sorted(results) == ["on_hold", "on_hold", "processing"], results


def test_two_simultaneous_first_logins_from_one_device_are_new_once():
    from fraud.models import LoginEvent
    from shop.models import Message
    from tests.fraud.helpers import login

    place(ListingFactory())
    results = run_concurrently([lambda: login("cust-1", "dev-1").new_device for _ in range(2)])
    assert sorted(results) == [False, True]
    assert LoginEvent.objects.count() == 2
    assert Message.objects.filter(kind="new_device_login").count() == 1


def test_three_reports_filed_at_once_about_one_customer_end_high_priority():
    from fraud.models import Report, ReportPriority

    customer = place(ListingFactory()).customer
    run_concurrently([lambda: reports.open_report(type="other", customer=customer).pk for _ in range(3)])
    assert set(Report.objects.values_list("priority", flat=True)) == {ReportPriority.HIGH}


@pytest.mark.parametrize("attempt", range(3))
def test_two_staff_clicks_on_secure_account_file_one_report_and_one_reset_link(attempt):
    from fraud.models import PasswordResetToken, Report
    from shop.models import Message

    order = place(ListingFactory(price=3000))
    results = run_concurrently([
        (lambda who=who: playbook.secure_account_for_order(order, actor=f"staff:{who}", description="電話").pk)
        for who in ("a", "b")
    ])
    report = Report.objects.get(orders=order)
    assert results == [report.pk, report.pk], results
    assert report.secured_at is not None
    assert Message.objects.filter(customer=order.customer, kind="password_reset_required").count() == 1
    assert PasswordResetToken.objects.filter(customer=order.customer).count() == 1


@pytest.mark.parametrize("attempt", range(3))
def test_staff_secure_account_racing_the_storefronts_report_runs_the_playbook_once(attempt):
    from fraud.models import Report
    from shop.models import Message

    order = place(ListingFactory(price=3000))
    run_concurrently([
        lambda: playbook.secure_account_for_order(order, actor="staff:a").pk,
        lambda: playbook.report_unauthorized_order(customer=order.customer, orders=[order], secure_account=False,
                                                   description="", actor="storefront:test").pk,
    ])
    assert Report.objects.filter(orders=order, secured_at__isnull=False).count() == 1
    assert Message.objects.filter(customer=order.customer, kind="password_reset_required").count() == 1
