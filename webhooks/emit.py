"""The one place webhook events are written: ``emit(type, ids)`` / ``emit_many({type: ids})``.

Called in the transaction of the state change, where the typed order events are recorded (the
cancellation core, ``orders.transition``, placement, payment, refunds, konbini code voids), once
per batch. Set-based and cheap when nobody listens: **one query** (is any active endpoint
subscribed to these types?) and nothing else — ``ids`` may be a lazy queryset, evaluated only
when someone subscribes. Otherwise, still set-based: the resources' next sequence numbers (one
upsert), the events (one INSERT) and one outbox row that fans them out after the commit
(``webhooks.fanout``: who may see each event, its body as that partner reads the resource, one
delivery per endpoint). A rolled-back transaction leaves no event.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping

from django.db import connection

from backoffice import outbox
from backoffice.timeutil import now
from payments.models import Refund
from webhooks import types
from webhooks.models import Endpoint, Event, ResourceSequence

FAN_OUT_TASK = "webhooks.fan_out"
_SEQUENCE_CHUNK = 2000


def emit(type_: str, ids: Iterable[int]) -> int:
    """Record ``type_`` for these orders / refunds / payment codes (``types.resource_kind``)."""
    return emit_many({type_: ids})


def subscribed_types(wanted: Iterable[str]) -> set[str]:
    """Which of these types an active endpoint subscribes to: one query (its text the same for
    every call with as many types, so the server keeps it prepared)."""
    wanted = list(wanted)
    if not wanted:
        return set()
    table = connection.ops.quote_name(Endpoint._meta.db_table)
    match = " OR ".join(["event_types LIKE %s"] * len(wanted))
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT event_types FROM {table} WHERE active AND ({match})",
                       [Endpoint.subscribed_pattern(t) for t in wanted])
        found = {type_ for (text,) in cursor.fetchall() for type_ in text.split()}
    return found & set(wanted)


def subscribed_sql(type_: str) -> tuple[str, dict]:
    """``subscribed_types`` for one type as a scalar subquery (1 or NULL) a hand-written statement
    can carry (the konbini confirmation's single statement): the check without a round trip."""
    table = connection.ops.quote_name(Endpoint._meta.db_table)
    return (f"(SELECT 1 FROM {table} WHERE active AND event_types LIKE %(webhook_type)s LIMIT 1)",
            {"webhook_type": Endpoint.subscribed_pattern(type_)})


def emit_many(batch: Mapping[str, Iterable[int]]) -> int:
    """``emit`` for several types at once (a cancellation batch: orders cancelled, codes voided)."""
    listened = subscribed_types(batch)
    if not listened:
        return 0
    at = now()
    events: list[Event] = []
    for type_ in batch:  # in the caller's order: the sequence numbers follow it
        if type_ not in listened:
            continue
        ids = sorted(set(batch[type_]))
        kind = types.resource_kind(type_)
        if kind == "order":
            events += [Event(type=type_, resource=f"order:{pk}", order_id=pk, created_at=at) for pk in ids]
        elif kind == "refund":
            events += [Event(type=type_, resource=f"order:{order_id}", order_id=order_id, refund_id=pk, created_at=at)
                       for pk, order_id in Refund.objects.filter(pk__anyof=ids).order_by("pk").values_list("pk", "order_id")]
        else:
            events += [Event(type=type_, resource=f"payment_code:{pk}", payment_code_id=pk, created_at=at) for pk in ids]
    if not events:
        return 0
    _number(events)
    created = Event.objects.bulk_create(events)
    outbox.enqueue(FAN_OUT_TASK, [e.pk for e in created])  # one row for the batch, its ids as JSON
    return len(created)


def _number(events: list[Event]) -> None:
    """Give each event its resource's next sequence number: one upsert per chunk, resources in a
    fixed order (two batches touching the same orders cannot deadlock); an order's writers hold
    its row lock, so its numbers follow the order of its changes."""
    counts = Counter(e.resource for e in events)
    last: dict[str, int] = {}
    table = connection.ops.quote_name(ResourceSequence._meta.db_table)
    keys = sorted(counts)
    for start in range(0, len(keys), _SEQUENCE_CHUNK):
        chunk = keys[start:start + _SEQUENCE_CHUNK]
        values = ", ".join(["(%s, %s)"] * len(chunk))
        params = [p for key in chunk for p in (key, counts[key])]
        with connection.cursor() as cursor:
            cursor.execute(
                f"INSERT INTO {table} (resource, last) VALUES {values} "
                f"ON CONFLICT (resource) DO UPDATE SET last = {table}.last + excluded.last RETURNING resource, last",
                params)
            last.update(cursor.fetchall())
    next_of = {key: last[key] - counts[key] for key in counts}
    for event in events:
        next_of[event.resource] += 1
        event.sequence = next_of[event.resource]
