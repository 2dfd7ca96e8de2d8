"""Demo data for fraud/ (appended to ``manage.py seed_demo``): a held order in the review
queue, an open unauthorized-order report with the logins before it, and an address whose COD
was blocked after two refused parcels (with the report the system opened)."""

from __future__ import annotations

from datetime import timedelta

from backoffice.checkdigits import seven_dr_number
from backoffice.errors import DomainError
from backoffice.timeutil import now
from fraud.models import LoginEvent, ReportType
from fraud.services import logins, reports
from shop.models import Listing, PaymentMethod
from shop.services import customers, orders, shipments

VICTIM = "demo-fraud-victim"
HELD = "demo-fraud-held"
HOME = {"type": "home", "postal_code": "100-0001", "prefecture": "東京都", "city": "千代田区",
        "address_line": "千代田1-1", "recipient_name": "山田太郎", "phone": "090-1234-5678"}
HARASSED = {**HOME, "postal_code": "060-0000", "prefecture": "北海道", "city": "札幌市中央区",
            "address_line": "大通西3丁目7番", "recipient_name": "佐藤花子"}


def _customer(external_id: str, name: str):
    return customers.upsert(external_id=external_id, email=f"{external_id}@example.jp", name=name,
                            phone="090-1234-5678")


def _place(external_id: str, name: str, listing: Listing, method: str, dest=HOME):
    return orders.place(
        customer_data={"external_id": external_id, "email": f"{external_id}@example.jp", "name": name,
                       "phone": "090-1234-5678"},
        items=[{"sku": listing.sku, "quantity": 1}], shipping_speed="standard",
        destination=orders.Destination(**dest), payment_method=method,
        card_token="tok_visa" if method == PaymentMethod.CARD else None, actor="seed_demo",
    )


def seed(command) -> None:
    if LoginEvent.objects.filter(customer__external_id=VICTIM).exists():
        command.log("fraud: demo data already present")
        return
    digital = Listing.objects.filter(digital=True, stock__gte=2).order_by("pk").first()
    physical = Listing.objects.filter(digital=False, fulfilled_by="platform", stock__gte=2,
                                      price__lte=30_000).order_by("pk").first()
    if digital is None or physical is None:
        command.log("fraud: no listings to order — skipped")
        return
    at = now()
    # seed 002: the usual PC for months, then an unknown Android 40 minutes before a purchase.
    victim = _customer(VICTIM, "デモ顧客 不正ログイン")
    logins.record_login(customer=victim, occurred_at=at - timedelta(days=30), ip="198.51.100.10",
                        user_agent="Mozilla/5.0 (Windows NT 10.0) Chrome/120", device_id="home-pc")
    logins.record_login(customer=victim, occurred_at=at - timedelta(minutes=40), ip="203.0.113.99",
                        user_agent="Mozilla/5.0 (Linux; Android 10) Chrome/99", device_id="unknown-android")
    unauthorized = _place(VICTIM, "デモ顧客 不正ログイン", physical, PaymentMethod.CARD)
    report = reports.open_report(type=ReportType.UNAUTHORIZED_ORDER, customer=victim, orders=[unauthorized],
                                 description="お客様より「身に覚えのない注文の確認メールが届いた」とのお問い合わせ。",
                                 actor="storefront:seed_demo")
    command.log(f"fraud: open report #{report.pk} (unauthorized order {unauthorized.number}, status "
                f"{unauthorized.status}) — run the secure-account playbook from its page")
    # A takeover-like digital purchase from a new device: held for review (score ≥ 70).
    held_customer = _customer(HELD, "デモ顧客 審査待ち")
    logins.record_login(customer=held_customer, occurred_at=at - timedelta(minutes=5), ip="192.0.2.55",
                        user_agent="Mozilla/5.0 (iPhone)", device_id="new-iphone")
    held = _place(HELD, "デモ顧客 審査待ち", digital, PaymentMethod.CARD)
    command.log(f"fraud: order {held.number} is {held.status} (risk score {held.risk_score}) in the review queue")
    _seed_cod_block(command, physical)


def _seed_cod_block(command, listing: Listing) -> None:
    """seed 004: two COD parcels to one address refused at the door → COD blocked there."""
    counter = iter(range(30_000_000_000, 30_000_000_100))
    try:
        for n in range(2):
            order = _place(f"demo-harasser-{n}", f"デモ 架空注文{n}", listing, PaymentMethod.COD, HARASSED)
            shipment = shipments.register(order=order, carrier="sagawa", actor="seed_demo",
                                          tracking_number=seven_dr_number(str(next(counter))))
            shipments.record_event(shipment=shipment, type="refused", occurred_at=now(), location="札幌センター",
                                   actor="seed_demo")
    except DomainError as exc:
        command.log(f"fraud: COD block demo skipped ({exc.code})")
        return
    command.log("fraud: COD blocked at 北海道札幌市中央区大通西3-7 after 2 refused parcels (cod_harassment report)")
