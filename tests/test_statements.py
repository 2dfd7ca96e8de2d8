"""``backoffice.statements``: querysets compiled once per connection, run again with new values —
the same rows and instances as the ORM, on SQLite and on PostgreSQL."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection, connections, transaction
from django.db.models import F
from django.db.transaction import TransactionManagementError

from backoffice.models import IdempotencyRecord, Partner
from backoffice.statements import Select, Update
from shop.models import Listing
from tests.factories import ListingFactory, SellerFactory

pytestmark = pytest.mark.django_db

by_skus = Select(lambda skus: Listing.objects.select_related("seller").filter(sku__in=skus, visible=True))
by_pk = Select(lambda pk: Listing.objects.filter(pk=pk)[:1])
locked = Select(lambda pk: Listing.objects.select_for_update().filter(pk=pk))
take = Update(lambda pk, qty: (Listing.objects.filter(pk=pk, stock__gte=qty), {"stock": F("stock") - qty}))


def fields(obj) -> dict:
    return {f.attname: getattr(obj, f.attname) for f in obj._meta.concrete_fields}


def test_rows_come_back_as_the_orm_builds_them(django_assert_num_queries):
    a, b, hidden = ListingFactory(), ListingFactory(), ListingFactory(visible=False)
    with django_assert_num_queries(1):  # the seller comes with the listing (select_related)
        found = {listing.sku: listing for listing in by_skus.all([a.sku, b.sku, hidden.sku, "NO-SUCH"])}
        assert {sku: listing.seller.name for sku, listing in found.items()} == {a.sku: a.seller.name,
                                                                                b.sku: b.seller.name}
    orm = {x.sku: x for x in Listing.objects.select_related("seller").filter(sku__in=[a.sku, b.sku])}
    for sku, listing in found.items():
        assert fields(listing) == fields(orm[sku]) and fields(listing.seller) == fields(orm[sku].seller)
        assert listing._state.adding is False and listing._state.db == connection.alias
    listing = found[a.sku]
    listing.title = "変更後"
    listing.save(update_fields=["title"])  # an instance the ORM can save
    assert Listing.objects.get(pk=a.pk).title == "変更後"


def test_each_call_runs_with_its_own_values_whatever_the_length():
    listings = [ListingFactory() for _ in range(4)]
    for n in (1, 3, 2, 4, 1):
        wanted = [x.sku for x in listings[:n]]
        assert sorted(x.sku for x in by_skus.all(wanted)) == sorted(wanted)
    assert by_pk.first(listings[2].pk).sku == listings[2].sku
    assert by_pk.first(listings[0].pk).sku == listings[0].sku
    assert by_pk.first(10**9) is None


def test_an_update_changes_only_what_its_filter_allows():
    listing = ListingFactory(stock=3)
    assert take.run(listing.pk, 2) == 1
    assert take.run(listing.pk, 2) == 0  # one unit left: the condition holds the stock at ≥ 0
    assert take.run(listing.pk, 1) == 1
    listing.refresh_from_db()
    assert listing.stock == 0


@pytest.mark.django_db(transaction=True)
def test_a_locking_read_needs_a_transaction():
    listing = ListingFactory()
    with transaction.atomic():
        assert locked.first(listing.pk).pk == listing.pk  # compiled inside the transaction
    if not connection.features.has_select_for_update:
        return  # SQLite locks the whole database instead: the ORM has nothing to refuse there either
    with pytest.raises(TransactionManagementError):
        locked.first(listing.pk)  # the compiled statement checks it too


def test_a_value_the_sql_would_depend_on_is_refused():
    shaped_by_value = Select(lambda pk: Listing.objects.filter(pk=pk, **({"visible": True} if pk > 1_850_000_000 else {})))
    with pytest.raises(TypeError):
        shaped_by_value.all(7)
    with pytest.raises(TypeError):
        by_pk.first(True)  # neither a str nor an int
    with pytest.raises(TypeError):
        Select(lambda digest: Partner.objects.filter(key_digest=digest[:3])).all("abcdef")  # the value never reaches the SQL
    # The ORM folds an integer comparison outside the column's range (PostgreSQL's smallint here):
    # compiled with a mark, the value would be baked into the SQL.
    folded = Select(lambda status: IdempotencyRecord.objects.filter(status_code__gte=status))
    if connection.vendor == "postgresql":
        with pytest.raises(TypeError):
            folded.all(200)
    else:
        assert folded.all(200) == []


@pytest.mark.django_db(transaction=True)
def test_threads_each_compile_on_their_own_connection():
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL (DATABASE_URL=postgres://...): SQLite's in-memory test database is one connection")
    seller = SellerFactory()
    listings = [ListingFactory(seller=seller) for _ in range(16)]

    def read(i: int):
        try:
            listing = by_skus.all([listings[i % 16].sku])[0]
            return listing.pk, listing.seller.name
        finally:
            connections.close_all()

    with ThreadPoolExecutor(4) as pool:
        results = list(pool.map(read, range(64)))
    assert results == [(listings[i % 16].pk, seller.name) for i in range(64)]
