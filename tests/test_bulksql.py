"""``backoffice.bulksql``: the set-based statements write exactly what the ORM would, on both backends."""

from __future__ import annotations

import pickle
from datetime import timedelta

import pytest
from django.db import connection
from django.db.models import signals

from backoffice import bulksql
from backoffice.models import OutboxTask
from backoffice.timeutil import now
from shop.models import Listing, Message, Order, OrderEvent
from tests.factories import ListingFactory, place

pytestmark = pytest.mark.django_db


def test_insert_writes_the_rows_the_orm_would_in_row_order():
    orders = [place(ListingFactory()) for _ in range(3)]
    at = now() - timedelta(minutes=5)
    ids = bulksql.insert(OrderEvent, {
        "order_id": [o.pk for o in orders], "at": at, "kind": "status_changed",
        "from_status": ["pending_payment", "paid", "ready_for_pickup"], "to_status": "cancelled",
        "params": [{"cause": "support", "n": i, "名前": "山田"} for i in range(3)], "actor": "system:test"},
        returning=True)
    assert len(ids) == 3 and ids == sorted(ids)
    rows = list(OrderEvent.objects.filter(pk__in=ids).order_by("pk"))
    assert [r.order_id for r in rows] == [o.pk for o in orders]
    assert [r.from_status for r in rows] == ["pending_payment", "paid", "ready_for_pickup"]
    assert {r.to_status for r in rows} == {"cancelled"} and {r.at for r in rows} == {at}
    assert [r.params for r in rows] == [{"cause": "support", "n": i, "名前": "山田"} for i in range(3)]
    # The defaults of the fields not given, as the ORM gives them.
    assert {(r.note, r.actor_kind, r.actor_user_id, r.actor_partner_id) for r in rows} == {("", "system", None, None)}


def test_a_shared_list_value_is_marked_same():
    assert bulksql.insert(OutboxTask, {"task": ["a", "b"], "args": bulksql.same([1, 2]), "created_at": now(),
                                       "available_at": now()}) == 2
    assert [t.args for t in OutboxTask.objects.order_by("pk")] == [[1, 2], [1, 2]]
    with pytest.raises(ValueError):
        bulksql.insert(OutboxTask, {"task": ["a", "b"], "args": [[1], [2], [3]], "created_at": now(),
                                    "available_at": now()})


def test_ignore_conflicts_skips_what_a_unique_constraint_refuses():
    order = place(ListingFactory())
    columns = {"customer_id": [order.customer_id] * 2, "order_id": order.pk, "kind": "cancelled", "subject": "s",
               "body": "b", "dedupe_key": ["k:1", "k:2"], "created_at": now()}
    assert bulksql.insert(Message, columns, ignore_conflicts=True) == 2
    bulksql.insert(Message, {**columns, "dedupe_key": ["k:2", "k:3"]}, ignore_conflicts=True)
    assert sorted(Message.objects.filter(dedupe_key__startswith="k:").values_list("dedupe_key", flat=True)) == [
        "k:1", "k:2", "k:3"]


@pytest.mark.postgres
def test_on_postgresql_the_statement_text_does_not_depend_on_the_row_count():
    orders = [place(ListingFactory()) for _ in range(5)]
    texts = []

    def capture(execute, sql, params, many, context):
        texts.append(sql)
        return execute(sql, params, many, context)

    for n in (1, 5):
        with connection.execute_wrapper(capture):
            bulksql.insert(OrderEvent, {"order_id": [o.pk for o in orders[:n]], "at": now(), "kind": "placed",
                                        "actor": "system"})
            list(OrderEvent.objects.filter(order_id__anyof=[o.pk for o in orders[:n]]))
    assert len(texts) == 4 and texts[:2] == texts[2:]
    assert "unnest(" in texts[0] and "= ANY(" in texts[1]


def test_anyof_is_in():
    orders = [place(ListingFactory()) for _ in range(4)]
    picked = [orders[0].pk, orders[2].pk]
    assert sorted(Order.objects.filter(pk__anyof=picked).values_list("pk", flat=True)) == picked
    assert list(Order.objects.filter(pk__anyof=[])) == []
    assert OrderEvent.objects.filter(order_id__anyof=picked).count() == OrderEvent.objects.filter(
        order_id__in=picked).count()


def test_add_adds_each_row_its_amount():
    a, b, c = ListingFactory(stock=5), ListingFactory(stock=0), ListingFactory(stock=7)
    assert bulksql.add(Listing, "stock", {a.pk: 3, b.pk: 10}) == 2
    assert [Listing.objects.get(pk=x.pk).stock for x in (a, b, c)] == [8, 10, 7]


def test_instances_are_the_rows_written():
    orders = [place(ListingFactory()) for _ in range(2)]
    columns = {"order_id": [o.pk for o in orders], "at": now(), "kind": "placed", "actor": "system:x"}
    ids = bulksql.insert(OrderEvent, columns, returning=True)
    made = bulksql.instances(OrderEvent, ids, columns)
    read = list(OrderEvent.objects.filter(pk__in=ids).order_by("pk"))
    assert [(e.pk, e.order_id, e.kind, e.actor, e.params) for e in made] == [
        (e.pk, e.order_id, e.kind, e.actor, e.params) for e in read]
    assert not made[0]._state.adding
    assert list(made) == read and made[0]._state.db == "default" and made[0] is made[0]
    # The columns not given are deferred: loaded from the row on first access, not defaulted.
    # Every column as written, the defaulted ones included (nothing left to load).
    attnames = [f.attname for f in OrderEvent._meta.concrete_fields]
    assert [[getattr(e, a) for a in attnames] for e in made] == [[getattr(e, a) for a in attnames] for e in read]
    assert made[0].get_deferred_fields() == set()
    assert made[1].order.number == orders[1].number
    made[0].note = "見直し済み"
    made[0].save(update_fields=["note"])
    assert OrderEvent.objects.get(pk=made[0].pk).note == "見直し済み"


def test_anyof_in_a_streamed_queryset():
    """``iterator()`` reads through a named cursor on PostgreSQL (client-side binding): the ids'
    array still binds, and so do text values."""
    orders = [place(ListingFactory()) for _ in range(3)]
    picked = sorted(o.pk for o in orders[:2])
    assert sorted(o.pk for o in Order.objects.filter(pk__anyof=picked).iterator(chunk_size=1)) == picked
    assert sorted(o.pk for o in Order.objects.filter(number__anyof=[o.number for o in orders[1:]]).iterator(
        chunk_size=1)) == sorted(o.pk for o in orders[1:])


def test_instances_behave_as_the_list_they_stand_for():
    """``instances`` builds lazily, but answers as a list would: equal to the rows read, indexed
    from the end, an IndexError past it, pickled (a task's or a cache's copy) as the list itself;
    each instance has its own copy of a shared mutable default (``params``)."""
    orders = [place(ListingFactory()) for _ in range(3)]
    columns = {"order_id": [o.pk for o in orders], "at": now(), "kind": "placed", "actor": "system:x"}
    ids = bulksql.insert(OrderEvent, columns, returning=True)
    made = bulksql.instances(OrderEvent, ids, columns)
    read = list(OrderEvent.objects.filter(pk__in=ids).order_by("pk"))
    assert made == read and read == made and made != read[:2] and made != "not a list"
    assert made[-1].pk == ids[-1] and made[-3] is made[0] and made[1:] == read[1:]
    with pytest.raises(IndexError):
        made[3]
    copy = pickle.loads(pickle.dumps(made))
    assert isinstance(copy, list) and copy == read
    made[0].params["seen"] = True
    assert made[1].params == {} and made[2].params == {}


def test_instances_of_a_model_with_init_signals_are_built_through_from_db():
    """A post_init receiver sees each instance as it is reached, with the values written."""
    seen = []

    def receiver(sender, instance, **kwargs):
        seen.append((instance.kind, instance.actor))

    orders = [place(ListingFactory()) for _ in range(2)]
    columns = {"order_id": [o.pk for o in orders], "at": now(), "kind": "placed", "actor": ["system:a", "system:b"]}
    ids = bulksql.insert(OrderEvent, columns, returning=True)
    signals.post_init.connect(receiver, sender=OrderEvent)
    try:
        made = bulksql.instances(OrderEvent, ids, columns)
        assert seen == []  # nothing built yet
        assert (made[1].actor, made[1].order_id, made[1].params, made[1]._state.adding) == (
            "system:b", orders[1].pk, {}, False)
        assert seen == [("placed", "system:b")]
        made[0].params["x"] = 1
        assert made == list(OrderEvent.objects.filter(pk__in=ids).order_by("pk")) and made[1].params == {}
    finally:
        signals.post_init.disconnect(receiver, sender=OrderEvent)


@pytest.fixture
def client_side_binding(db):
    """PostgreSQL with ``DB_SERVER_SIDE_BINDING=false`` (behind a transaction-pooling proxy): a new
    connection with client-side cursors, the features read again; put back afterwards."""
    options = connection.settings_dict["OPTIONS"]
    before = options.get("server_side_binding")

    def reconnect(value):
        connection.close()
        options["server_side_binding"] = value
        connection.features.__dict__.pop("uses_server_side_binding", None)

    reconnect(False)
    try:
        yield
    finally:
        reconnect(before)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_the_bulk_statements_under_client_side_binding(client_side_binding):
    """The arrays go as text where the cursor cannot bind a binary parameter: same rows written."""
    assert not connection.features.uses_server_side_binding and bulksql._array_param() == "%s"
    orders = [place(ListingFactory()) for _ in range(2)]
    columns = {"order_id": [o.pk for o in orders], "at": now(), "kind": "placed", "actor": "system:x",
               "note": ['引用符 "と" \\ 空白', ""], "params": [{"a": [1, None]}, {}]}
    ids = bulksql.insert(OrderEvent, columns, returning=True)
    read = list(OrderEvent.objects.filter(pk__anyof=ids).order_by("pk"))
    assert [(e.order_id, e.note, e.params) for e in read] == [
        (orders[0].pk, '引用符 "と" \\ 空白', {"a": [1, None]}), (orders[1].pk, "", {})]
    assert list(bulksql.instances(OrderEvent, ids, columns)) == read
    listing = ListingFactory(stock=4)
    assert bulksql.add(Listing, "stock", {listing.pk: 3}) == 1
    assert Listing.objects.get(pk=listing.pk).stock == 7
