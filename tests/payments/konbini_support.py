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


# The register's store of each chain in these tests: a store of the chain's own master for the
# pickup chains (``chain_client`` creates it; a confirmation must name one), a code no other
# chain owns for the rest.
REGISTER_STORES = {"lawson": "LS0001", "ministop": "MS0001", "familymart": "FM0001",
                   "seven_eleven": "SE0001", "seicomart": "SC0001", "daily_yamazaki": "DY0001"}


def register_store(chain: str) -> str:
    """The chain's register store code, created in the store master for a pickup chain."""
    from pickup.models import PICKUP_CHAINS, Store

    code = REGISTER_STORES[chain]
    if chain in PICKUP_CHAINS:
        Store.objects.get_or_create(code=code, defaults={"chain": chain, "name": f"{chain} テスト店",
                                                         "prefecture": "東京都", "address": "千代田区1-1"})
    return code


def confirm_body(code, *, amount: int, receipt: str = "R-0001", check_code: str | None = "8888",
                 store_code: str | None = None, paid_at: str | None = None) -> dict:
    """A confirmation body; ``paid_at`` defaults to now (the register's clock), ``store_code`` to
    the code's chain's register store."""
    paid_at = paid_at or local(now()).isoformat()
    store_code = store_code or register_store(code.chain)
    body = {"payment_number": code.number, "amount": amount, "store_code": store_code, "paid_at": paid_at,
            "receipt_number": receipt}
    if check_code is not None:
        body["check_code"] = check_code
    return body


@pytest.fixture
def chain_client(make_client):
    def make(chain: str = "lawson"):
        register_store(chain)
        return make_client(Partner.Kind.KONBINI_CHAIN, f"chain-{chain}", chain=chain)

    return make


@pytest.fixture
def lawson(chain_client):
    return chain_client("lawson")
