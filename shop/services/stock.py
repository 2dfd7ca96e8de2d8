"""Stock: reserved at placement, given back by a cancellation (SPEC §2: no oversell)."""

from __future__ import annotations

from django.db.models import F, Sum

from backoffice import bulksql
from backoffice.errors import Conflict
from shop.models import Listing, OrderLine


def reserve(lines: list[tuple[Listing, int]]) -> None:
    """Conditional decrement: never below zero, whatever runs concurrently (no oversell)."""
    for listing, qty in sorted(lines, key=lambda pair: pair[0].pk):  # one lock order: no deadlock
        if not Listing.objects.filter(pk=listing.pk, stock__gte=qty).update(stock=F("stock") - qty):
            raise Conflict(f"「{listing.title}」の在庫が不足しています。", code="out_of_stock", field="items")


def release(order_ids: list[int]) -> None:
    """Give back the units reserved by these orders (one, or an expiry job's batch): one read of
    the units per listing, the listings locked in primary-key order — the order placement locks
    them in, so no deadlock — and one UPDATE (``bulksql.add``)."""
    if not order_ids:
        return
    per_listing = dict(
        OrderLine.objects.filter(order_id__anyof=list(order_ids)).order_by().values("listing_id")
        .annotate(units=Sum("quantity")).values_list("listing_id", "units")
    )
    if not per_listing:
        return
    list(Listing.objects.select_for_update().filter(pk__anyof=sorted(per_listing)).order_by("pk")
         .values_list("pk", flat=True))
    bulksql.add(Listing, "stock", per_listing)
