"""factory_boy factories and a helper to place orders through the real service."""

from __future__ import annotations

import factory

from pickup.models import Store
from shop.models import Customer, Listing, Seller
from shop.services import orders


class SellerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Seller

    name = factory.Sequence(lambda n: f"出品者{n}")


class ListingFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Listing

    seller = factory.SubFactory(SellerFactory)
    sku = factory.Sequence(lambda n: f"SKU-{n:05d}")
    title = factory.Sequence(lambda n: f"商品{n}")
    price = 1000
    stock = 100
    fulfilled_by = Listing.FulfilledBy.PLATFORM
    digital = False


class CustomerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Customer

    external_id = factory.Sequence(lambda n: f"cust-{n}")
    email = factory.Sequence(lambda n: f"customer{n}@example.jp")
    name = factory.Sequence(lambda n: f"山田太郎{n}")
    phone = "+819012345678"


class StoreFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Store

    chain = "lawson"
    code = factory.Sequence(lambda n: f"{100000 + n}")
    name = factory.Sequence(lambda n: f"ローソン 新宿{n}丁目店")
    prefecture = "東京都"
    address = "新宿区西新宿1-1-1"


HOME = {
    "type": "home", "postal_code": "100-0001", "prefecture": "東京都", "city": "千代田区",
    "address_line": "千代田1-1", "recipient_name": "山田太郎", "phone": "090-1234-5678",
}


def customer_payload(external_id: str = "cust-1") -> dict:
    return {"external_id": external_id, "email": f"{external_id}@example.jp", "name": "山田太郎",
            "phone": "090-1234-5678"}


def order_payload(*listings: Listing, method: str = "card", speed: str = "standard", destination=None,
                  external_id: str = "cust-1", quantity: int = 1) -> dict:
    body = {
        "customer": customer_payload(external_id),
        "items": [{"sku": listing.sku, "quantity": quantity} for listing in listings],
        "shipping_speed": speed,
        "destination": dict(destination or HOME),
        "payment_method": method,
    }
    if method == "card":
        body["card_token"] = "tok_visa"
    return body


def place(*listings: Listing, method: str = "card", speed: str = "standard", destination=None,
          external_id: str = "cust-1", quantity: int = 1, card_token: str = "tok_visa"):
    payload = order_payload(*listings, method=method, speed=speed, destination=destination,
                            external_id=external_id, quantity=quantity)
    return orders.place(
        customer_data=payload["customer"], items=payload["items"], shipping_speed=speed,
        destination=orders.Destination(**payload["destination"]), payment_method=method,
        card_token=card_token if method == "card" else None,
    )
