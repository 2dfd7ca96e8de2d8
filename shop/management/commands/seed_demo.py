"""Demo data: sellers, listings, stores, customers, orders in every state, staff logins.

Idempotent: running it twice does not duplicate anything. Every write goes through the same
services as the API, so the demo orders have real timelines, payments and messages.
"""

from __future__ import annotations

import os
import secrets

from django.conf import settings
from django.contrib.auth.models import Group, User
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from backoffice.checkdigits import seven_dr_number
from backoffice.models import Partner
from pickup.models import Store
from shop.models import Listing, Order, Seller
from shop.services import orders, shipments
from shop.tax import REDUCED_RATE, STANDARD_RATE

# The demo staff users' password: DEMO_STAFF_PASSWORD, or a random one printed once when the
# users are created. No password is published with the code (issue 12).
PASSWORD_ENV = "DEMO_STAFF_PASSWORD"
HOME = {"type": "home", "postal_code": "100-0001", "prefecture": "東京都", "city": "千代田区",
        "address_line": "千代田1-1", "recipient_name": "山田太郎", "phone": "090-1234-5678"}


class Command(BaseCommand):
    help = "デモデータを作成します。"

    def log(self, text: str) -> None:
        self.stdout.write(f"  {text}")

    def handle(self, *args, **options):
        if settings.PRODUCTION:
            raise CommandError("seed_demo はデモ専用です（DJANGO_SECURE=true の本番環境では実行できません）。")
        self.stdout.write("seed_demo: creating demo data …")
        with transaction.atomic():
            self.staff()
            if Order.objects.exists():
                self.stdout.write("  demo orders already present — skipping orders")
                return
            platform, seller = self.sellers()
            self.stores()
            self.orders(platform, seller)
        for extra in _EXTRA_SEEDERS:
            extra(self)
        self.stdout.write(self.style.SUCCESS("seed_demo: done"))

    def staff(self) -> None:
        users = [("admin", None, True), ("agent", "support_agent", False), ("analyst", "fraud_analyst", False),
                 ("finance", "finance", False)]
        password = os.environ.get(PASSWORD_ENV) or secrets.token_urlsafe(12)
        created_any = False
        for username, group, superuser in users:
            user, created = User.objects.get_or_create(username=username, defaults={"is_staff": True})
            if created:
                created_any = True
                user.is_superuser = superuser
                user.set_password(password)
                user.save()
                if group:
                    user.groups.add(Group.objects.get(name=group))
        if created_any:
            self.log(f"staff users: admin, agent, analyst, finance — password: {password}")
        else:
            self.log("staff users: admin, agent, analyst, finance (password as printed when they were created; "
                     "`python manage.py changepassword admin` sets a new one)")

    def sellers(self):
        platform = Seller.objects.create(name="コンビニ堂 公式ストア")
        seller = Seller.objects.create(name="北海道うまいもの市場", accept_cod_self_fulfilled=True)
        rows = [
            (platform, "BOOK-0001", "はじめてのDjango", 2980, 50, "platform", False),
            (platform, "TOY-0002", "知育ブロック 500ピース", 4580, 30, "platform", False),
            (platform, "TV-0003", "4K有機ELテレビ 65型", 320000, 5, "platform", False),
            (platform, "VIDEO-0004", "映画「東京物語」レンタル（ストリーミング）", 400, 9999, "platform", True),
            (seller, "CRAB-0005", "毛ガニ 2尾セット", 8800, 20, "seller", False),
        ]
        food = {"CRAB-0005"}  # 軽減税率 (8%): food and drink
        for owner, sku, title, price, stock, by, digital in rows:
            Listing.objects.create(seller=owner, sku=sku, title=title, price=price, stock=stock,
                                   fulfilled_by=by, digital=digital,
                                   tax_rate=REDUCED_RATE if sku in food else STANDARD_RATE)
        for kind, name, chain, sel in [("storefront", "デモストアフロント", "", None), ("warehouse", "川崎倉庫", "", None),
                                       ("carrier", "ヤマト運輸", "", None), ("konbini_chain", "ローソン", "lawson", None),
                                       ("konbini_chain", "ファミリーマート", "familymart", None),
                                       ("seller", seller.name, "", seller)]:
            partner = Partner(kind=kind, name=name, chain=chain, seller=sel,
                              carrier="yamato" if kind == "carrier" else "")
            partner.issue_key()
            partner.save()
        self.log(f"sellers: 2, listings: {len(rows)}, partners: 6 (keys: python manage.py create_partner)")
        return platform, seller

    def stores(self) -> None:
        stores = [("lawson", "LS0001", "ローソン 大手町一丁目店"), ("familymart", "FM0001", "ファミリーマート 丸の内店"),
                  ("ministop", "MS0001", "ミニストップ 神田店")]
        for chain, code, name in stores:
            Store.objects.create(chain=chain, code=code, name=name, prefecture="東京都", address="千代田区1-1")
        self.log("pickup stores: 3")

    def orders(self, platform, seller) -> None:
        def place(ext, sku, method, qty=1, dest=HOME, token="tok_visa"):
            return orders.place(
                customer_data={"external_id": ext, "email": f"{ext}@example.jp", "name": f"デモ顧客 {ext}",
                               "phone": "090-1234-5678"},
                items=[{"sku": sku, "quantity": qty}], shipping_speed="standard",
                destination=orders.Destination(**dest), payment_method=method,
                card_token=token if method == "card" else None, actor="seed_demo",
            )

        counter = iter(range(10_000_000_000, 10_000_001_000))
        processing = place("demo-1", "BOOK-0001", "card")
        shipped = place("demo-1", "TOY-0002", "card")
        shipments.register(order=shipped, carrier="yamato", tracking_number=seven_dr_number(str(next(counter))),
                           actor="seed_demo")
        delivered = place("demo-2", "BOOK-0001", "cod")
        s = shipments.register(order=delivered, carrier="sagawa",
                               tracking_number=seven_dr_number(str(next(counter))), actor="seed_demo")
        from backoffice.timeutil import now

        shipments.record_event(shipment=s, type="delivered", occurred_at=now(), location="丸の内センター",
                               actor="seed_demo")
        pending = place("demo-3", "TOY-0002", "konbini")
        cancelled = place("demo-2", "TOY-0002", "card")
        orders.cancel(cancelled, reason="customer_request", actor="seed_demo")
        digital = place("demo-3", "VIDEO-0004", "card")
        seller_order = place("demo-4", "CRAB-0005", "cod")
        for o in (processing, shipped, delivered, pending, cancelled, digital, seller_order):
            o.refresh_from_db()
            self.log(f"order {o.number}: {o.status}")


# Other apps append callables taking the command (for their demo data) here.
_EXTRA_SEEDERS: list = []
