"""Sellers' listings and settings (API.md "Seller")."""

from __future__ import annotations

from django.db import IntegrityError, transaction

from backoffice.errors import Conflict, NotFound
from shop.models import Listing, Seller
from shop.tax import STANDARD_RATE


def create_listing(*, seller: Seller, sku: str, title: str, price: int, stock: int, fulfilled_by: str,
                   digital: bool = False, tax_rate: int = STANDARD_RATE) -> Listing:
    """A new listing; SKUs are unique across the shop (the database says so)."""
    try:
        with transaction.atomic():
            return Listing.objects.create(seller=seller, sku=sku, title=title, price=price, stock=stock,
                                          fulfilled_by=fulfilled_by, digital=digital, tax_rate=tax_rate)
    except IntegrityError:
        raise Conflict("このSKUは既に使われています。", code="sku_taken", field="sku") from None


def update_listing(*, seller: Seller, sku: str, changes: dict) -> Listing:
    """Change price, stock or title of one of the seller's own listings (another's is 404)."""
    listing = Listing.objects.filter(sku=sku, seller=seller).first()
    if listing is None:
        raise NotFound("出品が見つかりません。", code="listing_not_found")
    if changes:
        for name, value in changes.items():
            setattr(listing, name, value)
        listing.save(update_fields=[*changes, "updated_at"])
    return listing


def update_seller_settings(*, seller: Seller, changes: dict) -> Seller:
    """The COD/konbini switches for self-fulfilled listings (seed 004)."""
    if changes:
        for name, value in changes.items():
            setattr(seller, name, value)
        seller.save(update_fields=list(changes))
    return seller
