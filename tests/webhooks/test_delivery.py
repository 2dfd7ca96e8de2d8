"""Retries, backoff and the circuit breaker against real local receivers (issue 13)."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.core import mail

from backoffice import outbox
from backoffice.models import Partner
from backoffice.timeutil import now
from tests.support import relay_through_backoff
from tests.webhooks.receiver import Receiver
from tests.webhooks.support import place_api, run_for, subscribe
from tests.webhooks.verify import signature_ok
from webhooks import delivery, services
from webhooks.models import Delivery, Endpoint

pytestmark = pytest.mark.django_db


def test_500_three_times_then_200_is_delivered_once_on_the_fourth_attempt_with_the_backoff(
        storefront, make_receiver):
    receiver = make_receiver(statuses=[500, 500, 500])
    hook = subscribe(storefront, receiver.url, ["order.placed"])
    place_api(storefront)
    relay_through_backoff()
    assert len(receiver.requests) == 4
    assert len({r.headers["Konbini-Event-Id"] for r in receiver.requests}) == 1  # one id, four attempts
    assert [r.headers["Konbini-Delivery-Attempt"] for r in receiver.requests] == ["1", "2", "3", "4"]
    assert all(signature_ok(r.headers["Konbini-Signature"], r.body, hook["secret"]) for r in receiver.requests)
    stamps = [int(r.headers["Konbini-Signature"].split(",")[0][2:]) for r in receiver.requests]
    waits = [b - a for a, b in zip(stamps, stamps[1:], strict=False)]
    # 1, 2, 4 minutes, each lengthened by up to 20% of jitter (+1 s: the relay runs just after due)
    for wait, base in zip(waits, (60, 120, 240), strict=True):
        assert base <= wait <= base * 1.2 + 2, waits
    d = Delivery.objects.get()
    assert (d.status, d.attempts, d.last_response_status, d.next_attempt_at) == ("delivered", 4, 200, None)
    relay_through_backoff()
    assert len(receiver.requests) == 4  # delivered is final
    listed = storefront.get(f"/api/v1/webhook-endpoints/{hook['id']}/deliveries").json()
    assert [(x["type"], x["status"], x["attempts"], x["last_response_status"]) for x in listed] == [
        ("order.placed", "delivered", 4, 200)]


def test_a_delivery_that_keeps_failing_is_retried_for_72_hours_then_failed(storefront, make_receiver):
    receiver = make_receiver(default=503)
    subscribe(storefront, receiver.url, ["order.placed"])
    place_api(storefront)
    start = now()
    relay_through_backoff(max_rounds=200)
    d = Delivery.objects.get()
    assert d.status == "failed" and d.next_attempt_at is None
    assert d.last_attempt_at - start >= delivery.RETRY_FOR
    assert d.attempts == len(receiver.requests) < 40


def test_a_receiver_that_is_down_trips_the_breaker_and_other_endpoints_are_unaffected(
        storefront, make_client, make_receiver):
    down = make_receiver()
    port = down.server.server_address[1]
    down.stop()  # nothing listens: every send is a refused connection
    healthy = make_receiver()
    broken = subscribe(storefront, down.url, ["order.placed", "order.paid"], contact_email="ops@partner.example.jp")
    other = make_client(Partner.Kind.STOREFRONT, "もう一つのストア")
    subscribe(other, healthy.url, ["order.placed", "order.paid"])
    for i in range(6):
        place_api(storefront, external_id=f"cust-{i}")  # 12 events
    outbox.drain()
    assert len(healthy.requests) == 12  # the healthy endpoint got everything at once
    sent = Delivery.objects.filter(endpoint_id=broken["id"])
    assert sum(d.attempts for d in sent) == delivery.BREAKER_THRESHOLD  # then the breaker opened
    endpoint = Endpoint.objects.get(pk=broken["id"])
    assert endpoint.failures_in_a_row == delivery.BREAKER_THRESHOLD and endpoint.paused_until > now()

    # An hour later: only the probes went (one per pause), not 12 deliveries' retry schedules.
    run_for(timedelta(hours=1), step=timedelta(minutes=2))
    attempts_after_an_hour = sum(d.attempts for d in sent.all())
    assert attempts_after_an_hour <= delivery.BREAKER_THRESHOLD + 8
    assert len(healthy.requests) == 12

    # Three days of failures: disabled, the partner's contact told, deliveries parked.
    place_api(other, external_id="cust-other")  # 2 more events (both storefronts read every order)
    run_for(timedelta(days=3, hours=2), step=timedelta(hours=1))
    endpoint.refresh_from_db()
    assert not endpoint.active and endpoint.disabled_at is not None
    assert sum(d.attempts for d in sent.all()) < 12 * 5  # far fewer than one schedule per delivery
    assert [m.to for m in mail.outbox if "Webhook" in m.subject] == [["ops@partner.example.jp"]]
    assert len(healthy.requests) == 14
    # A delivery the last pause postponed wakes up to a tenth of that pause later (its jitter) and
    # parks then: run the relay on past every wake-up before looking.
    wake_ups = sent.exclude(next_attempt_at=None).values_list("next_attempt_at", flat=True)
    if wake_ups:
        with time_machine.travel(max(wake_ups) + timedelta(seconds=1), tick=False):
            outbox.drain()
    # The delivery whose attempt found the 72 hours over failed; the others are parked.
    assert set(sent.values_list("next_attempt_at", flat=True)) == {None}
    failed = list(sent.filter(status="failed").values_list("pk", flat=True))
    parked = sent.filter(status="pending").count()
    assert parked + len(failed) == 14 and parked > 0

    # The receiver is back and staff re-enable the endpoint: everything parked goes out, once.
    with time_machine.travel(now() + timedelta(days=3, hours=3), tick=False):
        back = Receiver.__new__(Receiver)
        restarted = _listen_again(back, port)
        try:
            assert services.reenable(endpoint) == parked
            outbox.drain()
            assert len(restarted.requests) == parked
            services.redeliver(Delivery.objects.filter(pk__in=failed))  # staff: one click each
            outbox.drain()
            assert len(restarted.requests) == 14
            assert set(sent.values_list("status", flat=True)) == {"delivered"}
            endpoint.refresh_from_db()
            assert endpoint.active and endpoint.failures_in_a_row == 0
        finally:
            restarted.stop()


def _listen_again(_, port: int) -> Receiver:
    """A receiver on the port the endpoint's URL names (the partner's server came back)."""
    import http.server

    original = http.server.ThreadingHTTPServer.__init__

    def bind_port(self, address, handler, *args, **kwargs):
        original(self, (address[0], port), handler, *args, **kwargs)

    http.server.ThreadingHTTPServer.__init__ = bind_port
    try:
        return Receiver()
    finally:
        http.server.ThreadingHTTPServer.__init__ = original
