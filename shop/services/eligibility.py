"""Which payment methods an order may use (SPEC §2 matrix) and every reason it may not."""

from __future__ import annotations

from dataclasses import dataclass, field

from payments.konbini.chains import KONBINI_MAX_TOTAL
from payments.models import GiftCardAccount
from shop.models import DestinationType, Listing, PaymentMethod, Seller, ShippingSpeed

UNAVAILABLE_MESSAGE = "このご注文にはご利用頂けません"


@dataclass
class Checkout:
    """What eligibility looks at: built from the request before anything is written."""

    total: int
    shipping_speed: str
    destination_type: str
    listings: list[Listing]
    fulfilling_seller: Seller | None
    gift_card: GiftCardAccount | None = None
    address_reasons: list[str] = field(default_factory=list)

    @property
    def has_digital(self) -> bool:
        return any(listing.digital for listing in self.listings)


def unavailable_reasons(method: str, checkout: Checkout) -> list[str]:
    reasons: list[str] = []
    seller = checkout.fulfilling_seller
    if method == PaymentMethod.GIFT_CARD:
        account = checkout.gift_card
        if account is not None and account.frozen:
            reasons.append("balance_frozen")
        if account is None or account.balance < checkout.total:
            reasons.append("balance_insufficient")
    elif method == PaymentMethod.KONBINI:
        if checkout.total > KONBINI_MAX_TOTAL:  # seed 003: 30万円を超える → 不可
            reasons.append("amount_over_limit")
        if checkout.shipping_speed != ShippingSpeed.STANDARD:  # seed 003: 通常配送のみ
            reasons.append("shipping_speed")
        if seller is not None and not seller.accept_konbini_self_fulfilled:  # seeds 003, 004
            reasons += ["seller_fulfilled", "seller_disabled_konbini"]
    elif method == PaymentMethod.COD:
        if checkout.destination_type == DestinationType.PICKUP_STORE:
            reasons.append("pickup_destination")
        if checkout.has_digital:
            reasons.append("digital_item")
        if seller is not None and not seller.accept_cod_self_fulfilled:  # seed 004
            reasons += ["seller_fulfilled", "seller_disabled_cod"]
        reasons += checkout.address_reasons
    return reasons
