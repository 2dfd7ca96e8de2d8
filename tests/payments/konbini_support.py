"""Shared helpers of the konbini payment tests (imported by tests/payments/test_konbini_*.py)."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from backoffice.models import Partner
from backoffice.timeutil import JST, local, now
from payments.konbini import codes
from tests.factories import ListingFactory, place

# SPEC §3 example: placed 2026-11-23 10:00 JST → deadline 2026-11-29 23:59:59 JST.
PLACED = datetime(2026, 11, 23, 10, 0, tzinfo=JST)
DEADLINE = datetime(2026, 11, 29, 23, 59, 59, tzinfo=JST)
# The last moment a payment is accepted with the default late-payment grace (SPEC §3: 60 minutes).
GRACE_END = DEADLINE + timedelta(minutes=60)


def jst(*args) -> datetime:
    return datetime(*args, tzinfo=JST)


def konbini_order(price: int = 2980, quantity: int = 1, stock: int = 10, digital: bool = False,
                  external_id: str = "cust-1"):
    listing = ListingFactory(price=price, stock=stock, digital=digital)
    return place(listing, method="konbini", quantity=quantity, external_id=external_id)


def issue(order, chain: str = "lawson"):
    code, _payment = codes.issue(order=order, chain_code=chain, actor="test")
    return code


def confirm_body(code, *, amount: int, receipt: str = "R-0001", check_code: str | None = "8888",
                 store_code: str = "LS0001", paid_at: str | None = None) -> dict:
    """A confirmation body; ``paid_at`` defaults to now (the register's clock)."""
    paid_at = paid_at or local(now()).isoformat()
    body = {"payment_number": code.number, "amount": amount, "store_code": store_code, "paid_at": paid_at,
            "receipt_number": receipt}
    if check_code is not None:
        body["check_code"] = check_code
    return body


@pytest.fixture
def chain_client(make_client):
    def make(chain: str = "lawson"):
        return make_client(Partner.Kind.KONBINI_CHAIN, f"chain-{chain}", chain=chain)

    return make


@pytest.fixture
def lawson(chain_client):
    return chain_client("lawson")
