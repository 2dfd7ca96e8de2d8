"""The webhook endpoints of the partner API (API.md "Webhooks")."""

from __future__ import annotations

import socket
from datetime import timedelta

import pytest
import time_machine

from backoffice import outbox
from backoffice.models import Partner
from backoffice.timeutil import now
from tests.webhooks.support import bodies, place_api, subscribe
from tests.webhooks.verify import signature_ok
from webhooks import targets
from webhooks.models import Delivery, Endpoint

pytestmark = pytest.mark.django_db


def test_the_secret_is_shown_once_and_the_list_is_the_partners_own(storefront, make_client):
    created = subscribe(storefront, "https://hooks.example.jp/a", ["order.paid", "order.placed"])
    assert created["secret"].startswith("whsec_") and created["active"] is True
    assert created["events"] == ["order.paid", "order.placed"]
    listed = storefront.get("/api/v1/webhook-endpoints").json()
    assert [e["id"] for e in listed] == [created["id"]] and "secret" not in listed[0]
    other = make_client(Partner.Kind.STOREFRONT, "他のストア")
    assert other.get("/api/v1/webhook-endpoints").json() == []
    for method, path in [("delete", f"/api/v1/webhook-endpoints/{created['id']}"),
                         ("post", f"/api/v1/webhook-endpoints/{created['id']}/test"),
                         ("get", f"/api/v1/webhook-endpoints/{created['id']}/deliveries")]:
        r = getattr(other, method)(path)
        assert r.status_code == 404 and r.json()["code"] == "webhook_endpoint_not_found"
    deleted = storefront.delete(f"/api/v1/webhook-endpoints/{created['id']}")
    assert deleted.status_code == 200 and deleted.json()["active"] is False
    assert storefront.get("/api/v1/webhook-endpoints").json() == []
    assert storefront.delete(f"/api/v1/webhook-endpoints/{created['id']}").status_code == 404


@pytest.mark.parametrize("body, code", [
    ({"url": "https://hooks.example.jp/a", "events": ["order.exploded"]}, "invalid_event_type"),
    ({"url": "https://hooks.example.jp/a", "events": ["ping"]}, "invalid_event_type"),
    ({"url": "https://hooks.example.jp/a", "events": []}, "invalid_event_type"),
    ({"url": "https://hooks.example.jp/a", "events": [7]}, None),
    ({"url": "ftp://hooks.example.jp/a", "events": ["order.paid"]}, "invalid_url"),
    ({"url": "https://user:pw@hooks.example.jp/a", "events": ["order.paid"]}, "invalid_url"),
    ({"url": "https://[::1", "events": ["order.paid"]}, "invalid_url"),
    ({"url": "https://hooks.example.jp:99999/a", "events": ["order.paid"]}, "invalid_url"),
    ({"url": 12, "events": ["order.paid"]}, None),
])
def test_bad_input_is_a_coded_400_and_writes_nothing(storefront, body, code):
    r = storefront.json("post", "/api/v1/webhook-endpoints", body)
    assert r.status_code == 400, r.json()
    if code:
        assert r.json()["code"] == code
    assert not Endpoint.objects.exists()


@pytest.mark.parametrize("url", ["http://hooks.example.jp/a", "https://127.0.0.1/a", "https://10.1.2.3/a",
                                 "https://169.254.169.254/latest", "https://localhost/a", "https://[::1]/a",
                                 "https://[::ffff:192.168.0.1]/a", "https://0.0.0.0/a"])
def test_private_and_plain_http_targets_are_refused_unless_allowed(storefront, settings, url):
    settings.WEBHOOK_ALLOW_PRIVATE_TARGETS = False
    r = storefront.json("post", "/api/v1/webhook-endpoints", {"url": url, "events": ["order.paid"]})
    assert r.status_code == 400 and r.json()["code"] == "invalid_url", r.json()
    settings.WEBHOOK_ALLOW_PRIVATE_TARGETS = True
    assert storefront.json("post", "/api/v1/webhook-endpoints", {"url": url, "events": ["order.paid"]}).status_code == 201


def test_a_host_that_resolves_to_a_private_address_at_send_time_is_not_called(storefront, settings, receiver):
    subscribe(storefront, receiver.url.replace("127.0.0.1", "localhost"), ["order.placed"])
    settings.WEBHOOK_ALLOW_PRIVATE_TARGETS = False  # e.g. DNS now answers with an internal address
    place_api(storefront)
    outbox.drain()
    assert receiver.requests == []
    d = Delivery.objects.get()
    assert d.status == "pending" and d.attempts == 1 and "https://" in d.last_error


def test_the_address_is_checked_when_sending_and_the_checked_one_is_called(monkeypatch, settings):
    settings.WEBHOOK_ALLOW_PRIVATE_TARGETS = False
    answers = {"hooks.example.jp": ["93.184.215.14"], "rebound.example.jp": ["93.184.215.15", "10.0.0.5"]}

    def getaddrinfo(host, port, *args, **kwargs):  # DNS as it answers at send time
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (ip, port)) for ip in answers[host]]

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    target = targets.resolve("https://hooks.example.jp/in?x=1")
    assert (target.pinned_url, target.host_header) == ("https://93.184.215.14:443/in?x=1", "hooks.example.jp")
    with pytest.raises(targets.TargetRefused, match="10.0.0.5"):
        targets.resolve("https://rebound.example.jp/in")  # one private answer is enough to refuse


def test_redirects_are_not_followed(storefront, make_receiver):
    target = make_receiver()
    redirecting = make_receiver(default=302)
    subscribe(storefront, redirecting.url, ["order.placed"])
    place_api(storefront)
    outbox.drain()
    assert len(redirecting.requests) == 1 and target.requests == []
    d = Delivery.objects.get()
    assert d.status == "pending" and d.last_response_status == 302


def test_ping_deliveries_log_and_redelivery_with_the_same_event_id(storefront, receiver):
    hook = subscribe(storefront, receiver.url, ["order.placed"])
    r = storefront.post(f"/api/v1/webhook-endpoints/{hook['id']}/test")
    assert r.status_code == 202 and r.json()["type"] == "ping" and r.json()["status"] == "pending"
    place_api(storefront)
    outbox.drain()
    log = storefront.get(f"/api/v1/webhook-endpoints/{hook['id']}/deliveries").json()
    assert [(d["type"], d["status"], d["attempts"]) for d in log] == [("order.placed", "delivered", 1),
                                                                       ("ping", "delivered", 1)]
    assert set(log[0]) >= {"event_id", "type", "status", "attempts", "last_response_status", "next_attempt_at"}
    event_id = log[0]["event_id"]
    r = storefront.post(f"/api/v1/webhook-deliveries/{event_id}/redeliver")
    assert r.status_code == 202
    outbox.drain()
    sent = [b for b in bodies(receiver) if b["id"] == event_id]
    assert len(sent) == 2 and sent[0] == sent[1]  # the same event, the same body, the same id
    assert storefront.post("/api/v1/webhook-deliveries/evt_unknown/redeliver").status_code == 404


def test_another_partners_event_cannot_be_redelivered(storefront, make_client, receiver):
    subscribe(storefront, receiver.url, ["order.placed"])
    place_api(storefront)
    outbox.drain()
    event_id = bodies(receiver)[0]["id"]
    other = make_client(Partner.Kind.STOREFRONT, "他のストア")
    r = other.post(f"/api/v1/webhook-deliveries/{event_id}/redeliver")
    assert r.status_code == 404 and r.json()["code"] == "webhook_event_not_found"


def test_during_a_rotation_both_secrets_sign_then_only_the_new_one(storefront, receiver):
    hook = subscribe(storefront, receiver.url, ["order.placed"])
    r = storefront.json("post", f"/api/v1/webhook-endpoints/{hook['id']}/rotate-secret", {"grace_period_hours": 1})
    assert r.status_code == 200
    new_secret = r.json()["secret"]
    assert new_secret != hook["secret"]
    place_api(storefront, external_id="c-1")
    outbox.drain()
    first = receiver.requests[-1]
    assert signature_ok(first.headers["Konbini-Signature"], first.body, hook["secret"])
    assert signature_ok(first.headers["Konbini-Signature"], first.body, new_secret)
    with time_machine.travel(now() + timedelta(hours=1, minutes=1), tick=False):
        place_api(storefront, external_id="c-2")
        outbox.drain()
    later = receiver.requests[-1]
    assert signature_ok(later.headers["Konbini-Signature"], later.body, new_secret)
    assert not signature_ok(later.headers["Konbini-Signature"], later.body, hook["secret"])
    r = storefront.json("post", f"/api/v1/webhook-endpoints/{hook['id']}/rotate-secret", {"grace_period_hours": 999})
    assert r.status_code == 400


def test_erasing_a_closed_customer_blanks_what_partners_were_sent(storefront, receiver):
    from shop.models import Customer, CustomerClosure
    from shop.services import erasure

    subscribe(storefront, receiver.url, ["order.placed"])
    place_api(storefront, external_id="cust-erase")
    outbox.drain()
    d = Delivery.objects.get()
    assert "cust-erase" in d.body and "山田太郎" in d.request_excerpt
    customer = Customer.objects.get(external_id="cust-erase")
    CustomerClosure.objects.create(customer=customer, closed_at=now(), actor="test",
                                   books_retained_until=now().date())
    assert erasure.erase_due() == 1
    d.refresh_from_db()
    assert (d.body, d.request_excerpt, d.response_excerpt) == ("", "", "")
    assert CustomerClosure.objects.get(customer=customer).erased_rows["webhook_deliveries"] == 1
    storefront.post(f"/api/v1/webhook-deliveries/{d.event.public_id}/redeliver")
    outbox.drain()
    d.refresh_from_db()
    assert d.status == "failed" and len(receiver.requests) == 1  # nothing left to send
