"""Orders for the receipt tests, placed and paid through the real services."""

from __future__ import annotations

import shutil
import subprocess

import pytest

from payments.models import Refund
from shop.models import Order, OrderStatus
from shop.services import orders
from tests.factories import HOME, ListingFactory, customer_payload


def place(items: list[tuple], *, method: str = "card", external_id: str = "cust-1") -> Order:
    """``items`` = [(listing, quantity)]; a card order is paid at placement."""
    return orders.place(
        customer_data=customer_payload(external_id), items=[{"sku": li.sku, "quantity": q} for li, q in items],
        shipping_speed="standard", destination=orders.Destination(**HOME), payment_method=method,
        card_token="tok_visa" if method == "card" else None,
    )


def groceries_and_a_book():
    """おにぎり 108円 ×3 at 8%, 緑茶 150円 ×2 at 8%, a book 1,980円 ×1 at 10%."""
    onigiri = ListingFactory(title="おにぎり 鮭", price=108, tax_rate=8)
    tea = ListingFactory(title="緑茶 500ml", price=150, tax_rate=8)
    book = ListingFactory(title="文庫本", price=1980, tax_rate=10)
    return onigiri, tea, book


def delivered(order: Order) -> Order:
    Order.objects.filter(pk=order.pk).update(status=OrderStatus.DELIVERED)
    order.refresh_from_db()
    return order


def succeeded(order: Order) -> list[Refund]:
    return list(Refund.objects.filter(order=order, status=Refund.Status.SUCCEEDED))


def pdftotext(content: bytes, tmp_path) -> str:
    exe = shutil.which("pdftotext")
    if exe is None:
        pytest.fail("pdftotext is missing: `make test` installs poppler-utils (make pdftools)")
    path = tmp_path / "receipt.pdf"
    path.write_bytes(content)
    return subprocess.run([exe, "-layout", "-enc", "UTF-8", str(path), "-"], check=True, capture_output=True,
                          text=True, timeout=60).stdout
