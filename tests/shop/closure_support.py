"""Helpers of the closure tests: orders in the states that block a closure, through the services."""

from __future__ import annotations

from itertools import count

from backoffice.checkdigits import seven_dr_number
from backoffice.timeutil import now
from fraud.services import logins
from payments.services import bank, giftcards, points
from shop.models import Order
from shop.services import customers, shipments

_tracking = count(30_000_000_000)


def ship(order: Order):
    return shipments.register(order=order, carrier="yamato", tracking_number=seven_dr_number(str(next(_tracking))),
                              actor="warehouse:test")


def deliver(order: Order) -> Order:
    shipment = ship(order)
    shipments.record_event(shipment=shipment, type="delivered", occurred_at=now(), location="千代田センター",
                           actor="carrier:test")
    order.refresh_from_db()
    return order


def with_personal_data(external_id: str):
    """A customer with a login, a bank account, a call-back request, a gift-card balance and points."""
    customer = customers.get(external_id)
    logins.record_login(customer=customer, occurred_at=now(), ip="203.0.113.7", user_agent="Mozilla/5.0 (iPhone)",
                        device_id="dev-1")
    bank.set_bank_account(customer=customer, bank_code="0001", branch_code="001", account_type="ordinary",
                          account_number="1234567", holder_kana="ﾔﾏﾀﾞ ﾀﾛｳ")
    customers.request_callback(customer=customer, phone="090-1111-2222", topic="退会したい")
    giftcards.redeem(customer=customer, amount=1_500, reference="gc-1")
    points.charge(customer=customer, amount=3_000, reference="ch-1")  # +60 points, balance 4,500
    return customers.get(external_id)
