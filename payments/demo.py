"""Demo data for refunds (appended to ``manage.py seed_demo``): a card refund that failed into
the staff queue, and a COD refund waiting for the next Zengin bank-transfer batch."""

from __future__ import annotations

from payments.models import Refund
from payments.services import bank, refunds
from shop.models import CancellationReason, Listing, PaymentMethod
from shop.services import customers, orders

FAILED_CUSTOMER = "demo-refund-failed"
BANK_CUSTOMER = "demo-refund-bank"
_HOME = dict(type="home", postal_code="100-0001", prefecture="東京都", city="千代田区", address_line="千代田1-1",
             recipient_name="山田太郎", phone="090-1234-5678")


def _place(external_id: str, name: str, method: str, listing: Listing, card_token: str | None = None):
    return orders.place(
        customer_data={"external_id": external_id, "email": f"{external_id}@example.jp", "name": name,
                       "phone": "090-1234-5678"},
        items=[{"sku": listing.sku, "quantity": 1}], shipping_speed="standard",
        destination=orders.Destination(**_HOME), payment_method=method, card_token=card_token, actor="seed_demo",
    )


def seed(command) -> None:
    if Refund.objects.filter(order__customer__external_id__in=(FAILED_CUSTOMER, BANK_CUSTOMER)).exists():
        command.log("refunds: demo refunds already present")
        return
    listing = Listing.objects.filter(fulfilled_by=Listing.FulfilledBy.PLATFORM, digital=False,
                                     stock__gte=2).order_by("pk").first()
    if listing is None:
        command.log("refunds: no platform listing to order — skipped")
        return

    failed = _place(FAILED_CUSTOMER, "デモ顧客 返金失敗", PaymentMethod.CARD, listing, card_token="tok_refund_fail")
    orders.cancel(failed, reason=CancellationReason.SUPPORT, actor="seed_demo")
    refund = Refund.objects.get(order=failed, cause=refunds.CANCEL_CAUSE)
    refunds.process(refund.pk)
    command.log(f"refunds: order {failed.number}: card refund failed (返金失敗キュー)")

    cod = _place(BANK_CUSTOMER, "デモ顧客 銀行振込返金", PaymentMethod.COD, listing)
    bank.set_bank_account(customer=customers.get(BANK_CUSTOMER), bank_code="0001", branch_code="001",
                          account_type="ordinary", account_number="1234567", holder_kana="ヤマダ タロウ",
                          use_for_refunds=True)
    orders.mark_paid(cod, amount=cod.total, actor="seed_demo")
    orders.cancel(cod, reason=CancellationReason.SUPPORT, actor="seed_demo")
    refund = Refund.objects.get(order=cod, cause=refunds.CANCEL_CAUSE)
    refunds.process(refund.pk)
    command.log(f"refunds: order {cod.number}: bank-transfer refund waiting for the Zengin batch")
