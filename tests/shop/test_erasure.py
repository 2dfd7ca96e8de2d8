"""The erasure job (shop.services.erasure): a closed customer's personal data is blanked for good,
the books stay exactly as they were and still add up."""

from __future__ import annotations

import pytest
from django.db.models import Sum

from fraud.models import KnownDevice, LoginEvent, PasswordResetToken, Report
from fraud.services import accounts, reports
from payments.models import BankAccount, GiftCardEntry, Payment, PointsEntry, Refund
from payments.services import refunds
from shop.jobs import erase_closed_customers
from shop.models import CallbackRequest, Customer, CustomerClosure, Message, Order, OrderEvent, OrderLine
from shop.services import closure, customers, erasure
from tests.factories import ListingFactory, place
from tests.shop.closure_support import deliver, with_personal_data

pytestmark = pytest.mark.django_db


def _books(customer_id: int) -> dict:
    """Everything the books keep of a customer, as plain values."""
    orders = Order.objects.filter(customer_id=customer_id)
    return {
        "orders": list(orders.order_by("id").values_list("number", "status", "total", "payment_method", "placed_at")),
        "lines": list(OrderLine.objects.filter(order__in=orders).order_by("id")
                      .values_list("sku", "quantity", "unit_price")),
        "payments": list(Payment.objects.filter(order__in=orders).order_by("id")
                         .values_list("amount", "captured_amount", "refunded_amount", "status")),
        "refunds": list(Refund.objects.filter(order__in=orders).order_by("id").values_list("amount", "status", "cause")),
        "gift_card": list(GiftCardEntry.objects.filter(account__customer_id=customer_id).order_by("id")
                          .values_list("kind", "amount", "reference")),
        "points": list(PointsEntry.objects.filter(account__customer_id=customer_id).order_by("id")
                       .values_list("kind", "points", "reference")),
        "timeline": OrderEvent.objects.filter(order__in=orders).count(),
    }


def _closed_customer_with_history(external_id: str = "cust-1") -> Customer:
    big = deliver(place(ListingFactory(price=12_800), external_id=external_id, quantity=2))
    deliver(place(ListingFactory(price=980), external_id=external_id))
    refund = refunds.refund_return(order=big, amount=12_800, actor="storefront:test")
    refunds.process(refund.pk)  # the worker's job: the card refund succeeds
    customer = with_personal_data(external_id)
    accounts.require_password_reset(customer)
    report = reports.open_report(type="other", customer=customer, orders=[big], description="山田太郎 090-1111-2222",
                                 actor="storefront:test")
    reports.start(report, actor="staff:a")
    reports.dismiss(report, actor="staff:a", note="重複")
    closure.close(customers.get(external_id), confirm_forfeit=True, actor="storefront:test")
    return Customer.objects.get(external_id=external_id)


def test_erasure_blanks_the_personal_data_everywhere_and_logs_what_it_erased():
    customer = _closed_customer_with_history()
    bystander = with_personal_data_of_another()
    assert erase_closed_customers() == {"erased": 1}
    customer.refresh_from_db()
    assert (customer.name, customer.email, customer.phone) == ("", "", "")
    for order in Order.objects.filter(customer=customer):
        assert (order.postal_code, order.prefecture, order.city, order.address_line, order.recipient_name,
                order.recipient_phone, order.address_key) == ("", "", "", "", "", "", "")
    login = LoginEvent.objects.get(customer=customer)
    assert (login.ip, login.user_agent, login.device_id) == (None, "", "")
    assert not KnownDevice.objects.filter(customer=customer).exists()
    assert not BankAccount.objects.filter(customer=customer).exists()
    assert not Message.objects.filter(customer=customer).exists()
    assert not PasswordResetToken.objects.filter(customer=customer).exists()
    assert CallbackRequest.objects.filter(customer=customer).values_list("phone", "topic").get() == ("", "")
    assert Report.objects.get(customer=customer).description == ""
    log = CustomerClosure.objects.get(customer=customer)
    assert log.erased_at is not None
    assert log.erased_rows == {"customer": 1, "orders": 2, "login_events": 1, "callback_requests": 1, "reports": 1,
                               "known_devices": 1, "bank_accounts": 1, "messages": log.erased_rows["messages"],
                               "password_reset_tokens": 1, "webhook_deliveries": 0}
    assert log.erased_rows["messages"] >= 5
    bystander.refresh_from_db()  # another customer's data is untouched
    assert bystander.email == "cust-9@example.jp" and BankAccount.objects.filter(customer=bystander).exists()
    assert LoginEvent.objects.get(customer=bystander).ip == "203.0.113.7"


def with_personal_data_of_another() -> Customer:
    place(ListingFactory(), external_id="cust-9")
    return with_personal_data("cust-9")


def test_an_erased_customers_orders_still_total_correctly_in_the_books():
    customer = _closed_customer_with_history()
    before = _books(customer.pk)
    erase_closed_customers()
    assert _books(customer.pk) == before
    orders = Order.objects.filter(customer=customer)
    lines = sum(line.quantity * line.unit_price for line in OrderLine.objects.filter(order__in=orders))
    assert orders.aggregate(s=Sum("total"))["s"] == lines == 12_800 * 2 + 980
    paid = Payment.objects.filter(order__in=orders).aggregate(c=Sum("captured_amount"), r=Sum("refunded_amount"))
    assert (paid["c"], paid["r"]) == (26_580, 12_800)
    ledger = GiftCardEntry.objects.filter(account__customer=customer).aggregate(s=Sum("amount"))["s"]
    assert ledger == 0 == customer.gift_card.balance  # charged, redeemed, forfeited: the ledger still sums


def test_the_job_is_idempotent_and_the_external_id_stays_gone(storefront):
    _closed_customer_with_history()
    assert erase_closed_customers() == {"erased": 1}
    assert erase_closed_customers() == {"erased": 0}
    r = storefront.get("/api/v1/customers/cust-1/orders")
    assert (r.status_code, r.json()["code"]) == (410, "customer_closed")


def test_the_job_works_in_batches_oldest_closure_first():
    for i in range(3):
        deliver(place(ListingFactory(), external_id=f"c-{i}"))
        closure.close(customers.get(f"c-{i}"), confirm_forfeit=True, actor="test")
    assert erasure.erase_batch(batch_size=2) == 2
    assert list(CustomerClosure.objects.filter(erased_at__isnull=True).values_list("customer__external_id",
                                                                                   flat=True)) == ["c-2"]
    assert erasure.erase_due(batch_size=2) == 1


def test_an_open_customer_is_never_erased():
    place(ListingFactory())
    with_personal_data("cust-1")
    assert erase_closed_customers() == {"erased": 0}
    assert Customer.objects.get(external_id="cust-1").email == "cust-1@example.jp"
