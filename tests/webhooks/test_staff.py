"""The staff console's webhook pages (issue 13 item 5): endpoints failing first, deliveries failed
first with the excerpts, redelivery and re-enabling through the confirm page's one-time token."""

from __future__ import annotations

import pytest

from backoffice import outbox
from backoffice.models import Partner
from backoffice.timeutil import now
from tests.staff.conftest import agent, finance, make_staff  # noqa: F401 - fixtures
from tests.staff.submit import submit
from tests.webhooks.support import place_api, subscribe
from webhooks import delivery as webhook_delivery
from webhooks.models import Delivery, Endpoint

pytestmark = pytest.mark.django_db


def _tiles(html: str) -> dict[str, int]:
    import re

    return {key: int(n) for key, n in re.findall(r'data-tile="([a-z_]+)">\s*<div class="count">(\d+)', html)}


def test_failing_endpoints_come_first_with_a_dashboard_tile(agent, storefront, make_client, make_receiver):  # noqa: F811
    good, bad = make_receiver(), make_receiver(default=500)
    healthy = subscribe(storefront, good.url, ["order.placed"])
    other = make_client(Partner.Kind.STOREFRONT, "壊れたストア")
    failing = subscribe(other, bad.url, ["order.placed"])
    assert _tiles(agent.get("/staff/").content.decode())["webhooks_failing"] == 0
    place_api(storefront)
    outbox.drain()
    assert _tiles(agent.get("/staff/").content.decode())["webhooks_failing"] == 1
    html = agent.get("/staff/webhooks/").content.decode()
    assert html.index(f'data-endpoint="{failing["id"]}"') < html.index(f'data-endpoint="{healthy["id"]}"')
    page = agent.get(f"/staff/webhooks/{failing['id']}/").content.decode()
    assert "receiver error" in page and "Konbini-Signature" in page  # response and request excerpts
    assert "失敗あり" in html


def test_deliveries_failed_first_and_one_click_redelivery_runs_once(agent, storefront, make_receiver):  # noqa: F811
    receiver = make_receiver()
    hook = subscribe(storefront, receiver.url, ["order.placed"])
    place_api(storefront, external_id="c-1")
    place_api(storefront, external_id="c-2")
    outbox.drain()
    first, second = Delivery.objects.order_by("pk")
    Delivery.objects.filter(pk=first.pk).update(status="failed")  # e.g. after 72 h of errors
    page = agent.get(f"/staff/webhooks/{hook['id']}/").content.decode()
    assert page.index(f'data-delivery="{first.pk}"') < page.index(f'data-delivery="{second.pk}"')
    url = f"/staff/webhooks/deliveries/{first.pk}/actions/redeliver/"
    confirm = agent.get(url).content.decode()
    assert "もう一度送信します" in confirm
    r = submit(agent, url)
    assert r.status_code == 302
    outbox.drain()
    assert len(receiver.requests) == 3  # two first deliveries, one redelivery
    first.refresh_from_db()
    assert first.status == "delivered" and first.attempts == 2


def test_a_double_submit_redelivers_once(agent, storefront, make_receiver):  # noqa: F811
    import re

    receiver = make_receiver()
    subscribe(storefront, receiver.url, ["order.placed"])
    place_api(storefront)
    outbox.drain()
    d = Delivery.objects.get()
    url = f"/staff/webhooks/deliveries/{d.pk}/actions/redeliver/"
    token = re.search(r'name="form_token" value="([^"]*)"', agent.get(url).content.decode()).group(1)
    assert agent.post(url, {"form_token": token}).status_code == 302
    again = agent.post(url, {"form_token": token})
    assert again.status_code == 409 and "既に実行されました" in again.content.decode()
    outbox.drain()
    assert len(receiver.requests) == 2


def test_staff_reenable_a_disabled_endpoint(agent, finance, storefront, make_receiver):  # noqa: F811
    receiver = make_receiver()
    hook = subscribe(storefront, receiver.url, ["order.placed"])
    endpoint = Endpoint.objects.get(pk=hook["id"])
    webhook_delivery.disable(endpoint, now())
    place_api(storefront)
    outbox.drain()
    assert receiver.requests == []  # disabled: no event for it
    url = f"/staff/webhooks/{hook['id']}/actions/reenable/"
    assert finance.get(url).status_code == 403
    assert submit(agent, url).status_code == 302
    endpoint.refresh_from_db()
    assert endpoint.active and endpoint.disabled_at is None
    place_api(storefront, external_id="c-2")
    outbox.drain()
    assert len(receiver.requests) == 1
    assert "現在の状態ではこの操作を行えません" in agent.get(url).content.decode()  # not disabled any more
