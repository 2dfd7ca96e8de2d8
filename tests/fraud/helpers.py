"""Helpers for the fraud tests: weights, logins, refused COD parcels through the real services."""

from __future__ import annotations

from datetime import datetime

from backoffice.checkdigits import seven_dr_number
from backoffice.timeutil import now
from fraud.models import RiskRule
from fraud.services import logins
from shop.models import Order
from shop.services import customers, shipments
from tests.factories import HOME

_tracking = iter(range(20_000_000_000, 20_000_100_000))

OSAKA = {**HOME, "postal_code": "530-0001", "prefecture": "大阪府", "city": "大阪市北区", "address_line": "梅田1-1"}


def only_weights(**weights: int) -> None:
    """Every rule weighs 0 except the ones given: isolates a rule's effect on the score."""
    RiskRule.objects.update(weight=0)
    for code, weight in weights.items():
        assert RiskRule.objects.filter(code=code).update(weight=weight) == 1, code


def fired(order: Order) -> list[str]:
    order.refresh_from_db()
    return [rule["code"] for rule in order.risk_rules]


def login(external_id: str, device_id: str, at: datetime | None = None):
    customer = customers.upsert(external_id=external_id, email=f"{external_id}@example.jp", name="山田太郎")
    return logins.record_login(customer=customer, occurred_at=at or now(), ip="203.0.113.7",
                               user_agent="Mozilla/5.0 (iPhone)", device_id=device_id)


def refuse_cod(order: Order) -> Order:
    """Ship the COD parcel and have it refused at the door (carrier event ``refused``)."""
    shipment = shipments.register(order=order, carrier="yamato", tracking_number=seven_dr_number(str(next(_tracking))),
                                  actor="test")
    shipments.record_event(shipment=shipment, type="refused", occurred_at=now(), location="千代田センター",
                           actor="carrier:test")
    order.refresh_from_db()
    return order
