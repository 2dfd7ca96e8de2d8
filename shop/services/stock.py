"""Stock: reserved at placement, given back by a cancellation (SPEC §2: no oversell)."""

from __future__ import annotations

from django.db.models import F, Sum

from backoffice import bulksql
from backoffice.errors import Conflict
from backoffice.statements import Update
from shop.models import Listing, OrderLine

# Compiled once per connection (``backoffice.statements``): every placement of one listing runs it.
_take_units = Update(lambda pk, qty: (Listing.objects.filter(pk=pk, stock__gte=qty), {"stock": F("stock") - qty}))


def reserve(lines: list[tuple[Listing, int]]) -> None:
    """Conditional decrement: never below zero, whatever runs concurrently (no oversell).

    One listing: one conditional UPDATE. Several: their rows locked in primary-key order (the
    order ``release`` locks them in: no deadlock) by a read that says whether each has enough,
    then one UPDATE for all of them: two statements however many lines."""
    ordered = sorted(lines, key=lambda pair: pair[0].pk)
    if len(ordered) == 1:
        [(listing, qty)] = ordered
        if not _take_units.run(listing.pk, qty):
            raise _out_of_stock(listing)
        return
    wanted: dict[int, int] = {}
    for listing, qty in ordered:  # a listing on two lines needs both quantities
        wanted[listing.pk] = wanted.get(listing.pk, 0) + qty
    locked = dict(Listing.objects.select_for_update().filter(pk__anyof=list(wanted)).order_by("pk")
                  .values_list("pk", "stock"))  # current: a locking read returns the latest row
    for listing, _qty in ordered:
        if locked.get(listing.pk, 0) < wanted[listing.pk]:
            raise _out_of_stock(listing)
    bulksql.add(Listing, "stock", {pk: -qty for pk, qty in wanted.items()})


def _out_of_stock(listing: Listing) -> Conflict:
    return Conflict("「%(title)s」の在庫が不足しています。", params={"title": listing.title}, code="out_of_stock",
                    field="items")


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
