"""After the commit: who hears about each event, and what it reads (``webhooks.emit`` wrote the
events and one outbox row for this task).

For a batch of events: the active endpoints subscribed to their types (created before the
event), each partner's scope (``payloads.in_scope``, one query per partner and kind), the body as
that partner reads the resource (``payloads.Renderer``, each order loaded once), then one
``Delivery`` per endpoint and one outbox row per delivery — all in one transaction that also
marks the events fanned out, so a repeated task (the outbox publishes at least once) does nothing.
"""

from __future__ import annotations

from collections import defaultdict

from django.conf import settings
from django.db import transaction
from django.utils import translation

from backoffice import outbox
from backoffice.timeutil import now
from webhooks import payloads
from webhooks.models import Delivery, Endpoint, Event

DELIVER_TASK = "webhooks.deliver"


def fan_out(event_ids: list[int]) -> int:
    """Create the deliveries of these events; returns how many."""
    with transaction.atomic(), translation.override(settings.LANGUAGE_CODE):
        events = list(Event.objects.select_for_update(skip_locked=True)
                      .filter(pk__anyof=list(event_ids), fanned_out_at__isnull=True).order_by("pk"))
        if not events:
            return 0
        at = now()
        by_type: dict[str, list[Endpoint]] = defaultdict(list)
        for endpoint in Endpoint.objects.filter(active=True).select_related("partner").order_by("pk"):
            for type_ in endpoint.events:
                by_type[type_].append(endpoint)
        renderer = payloads.Renderer(events)
        deliveries: list[Delivery] = []
        groups: dict[str, list[Event]] = defaultdict(list)
        for event in events:
            groups[event.type].append(event)
        for type_, group in groups.items():
            partners: dict[int, list[Endpoint]] = defaultdict(list)
            for endpoint in by_type.get(type_, []):
                partners[endpoint.partner_id].append(endpoint)
            for endpoints in partners.values():
                partner = endpoints[0].partner
                visible = payloads.in_scope(partner, group)
                renderer.preload([e for e in group if e.pk in visible], partner)
                for event in group:
                    if event.pk not in visible:
                        continue
                    receivers = [e for e in endpoints if e.created_at <= event.created_at]
                    body = renderer.body(event, partner) if receivers else None
                    if body is None:
                        continue
                    deliveries += [new_delivery(event, endpoint, body, at) for endpoint in receivers]
        created = Delivery.objects.bulk_create(deliveries)
        outbox.enqueue_many(DELIVER_TASK, ([d.pk] for d in created))
        Event.objects.filter(pk__anyof=[e.pk for e in events]).update(fanned_out_at=at)
    return len(created)


def new_delivery(event: Event, endpoint: Endpoint, body: str, at) -> Delivery:
    return Delivery(event=event, endpoint=endpoint, body=body, created_at=at, window_started_at=at, next_attempt_at=at)
