"""Staff in the Django admin: parcels with their attempts, unlock and resend actions."""

from __future__ import annotations

from datetime import datetime

import pytest
import time_machine
from django.contrib.auth.models import User

from backoffice.timeutil import JST
from pickup.models import Pickup, Store
from shop.models import Message
from tests.pickup.conftest import ticket_body

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client):
    user = User.objects.create_superuser("boss", "boss@example.jp", "pw-boss-123")
    client.force_login(user)
    return client


def test_pickup_pages_list_parcels_attempts_and_no_shows(admin_client, parcel, lawson):
    lawson.json("post", "/api/v1/pickup/tickets", ticket_body(parcel, auth_number="0000001"))
    for url in ("/admin/pickup/pickup/", f"/admin/pickup/pickup/{parcel.pk}/change/", "/admin/pickup/pickupattempt/",
                "/admin/pickup/pickupnoshow/", "/admin/pickup/store/", f"/admin/pickup/pickup/?q={parcel.inquiry_number}"):
        r = admin_client.get(url)
        assert r.status_code == 200, url
    page = admin_client.get(f"/admin/pickup/pickup/{parcel.pk}/change/").content.decode()
    assert "受取端末の操作履歴" in page and "認証番号誤り" in page


def test_staff_unlock_a_locked_parcel_from_the_admin(admin_client, parcel, lawson):
    wrong = ticket_body(parcel, auth_number="0000000" if parcel.auth_number != "0000000" else "1111111")
    for _ in range(5):
        lawson.json("post", "/api/v1/pickup/tickets", wrong)
    assert Pickup.objects.get(pk=parcel.pk).locked
    r = admin_client.post("/admin/pickup/pickup/", {"action": "unlock", "_selected_action": [parcel.pk]})
    assert r.status_code == 302
    assert not Pickup.objects.get(pk=parcel.pk).locked
    assert parcel.order.events.filter(kind="pickup_unlocked", actor="staff:boss").exists()


def test_staff_resend_the_notice_from_the_admin(admin_client, parcel):
    admin_client.post("/admin/pickup/pickup/", {"action": "resend_notice", "_selected_action": [parcel.pk]})
    assert Message.objects.filter(order=parcel.order, kind="pickup_ready").count() == 1


def test_staff_lift_a_store_throttle_and_the_next_wrong_key_is_a_404_again(admin_client, parcel, lawson):
    unknown = [f"{n:011d}{n % 7}" for n in range(10_000_000_000, 10_000_000_000 + 22)]
    with time_machine.travel(datetime(2026, 11, 24, 12, 0, tzinfo=JST), tick=False):
        for number in unknown[:21]:  # more than 20: the store is throttled
            lawson.json("post", "/api/v1/pickup/tickets", ticket_body(parcel, inquiry_number=number))
        assert lawson.json("post", "/api/v1/pickup/tickets", ticket_body(parcel)).status_code == 429
        r = admin_client.post("/admin/pickup/store/", {"action": "lift_throttle", "_selected_action": [parcel.store_id]})
        assert r.status_code == 302
        assert Store.objects.get(pk=parcel.store_id).throttled_until is None
        # The window's failure counters went with the throttle: one more wrong key is just wrong.
        r = lawson.json("post", "/api/v1/pickup/tickets", ticket_body(parcel, inquiry_number=unknown[-1]))
        assert r.status_code == 404 and r.json()["code"] == "pickup_not_found"
        assert lawson.json("post", "/api/v1/pickup/tickets", ticket_body(parcel)).status_code == 201
