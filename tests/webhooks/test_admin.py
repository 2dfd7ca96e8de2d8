from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from django.test import Client

from backoffice import outbox
from tests.webhooks.support import place_api, subscribe
from webhooks.models import Delivery

pytestmark = pytest.mark.django_db


def test_the_admin_lists_endpoints_deliveries_and_events_without_the_secret(storefront, make_receiver):
    hook = subscribe(storefront, make_receiver(default=500).url, ["order.placed"])
    place_api(storefront)
    outbox.drain()
    admin = Client()
    admin.force_login(User.objects.create_superuser("root", password="x-very-long-password"))
    for path in ("/admin/webhooks/endpoint/", "/admin/webhooks/delivery/", "/admin/webhooks/event/",
                 f"/admin/webhooks/endpoint/{hook['id']}/change/",
                 f"/admin/webhooks/delivery/{Delivery.objects.get().pk}/change/"):
        r = admin.get(path)
        assert r.status_code == 200, path
        assert hook["secret"] not in r.content.decode()
    assert "receiver error" in admin.get(f"/admin/webhooks/delivery/{Delivery.objects.get().pk}/change/").content.decode()
