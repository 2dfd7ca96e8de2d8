"""Fraud endpoints of the partner API: reports from the storefront and sellers, login events,
the customer resource (session epoch), password reset, suspension."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine

from backoffice.models import Partner
from backoffice.timeutil import now
from fraud.models import LoginEvent, Report, ReportType
from fraud.services import accounts
from shop.models import Listing, Message
from tests.factories import ListingFactory, order_payload, place

pytestmark = pytest.mark.django_db

REPORTS = "/api/v1/fraud/reports"


def _login_body(device="iphone-1", **over):
    return {"occurred_at": now().isoformat(), "ip": "203.0.113.7", "user_agent": "Mozilla/5.0 (iPhone)",
            "device_id": device, **over}


# --- login events ---------------------------------------------------------------------------

def test_first_login_from_a_device_is_new_and_messaged_then_not_again(storefront):
    place(ListingFactory())
    r = storefront.json("post", "/api/v1/customers/cust-1/login-events", _login_body())
    assert r.status_code == 201 and r.json()["new_device"] is True
    r = storefront.json("post", "/api/v1/customers/cust-1/login-events", _login_body())
    assert r.status_code == 201 and r.json()["new_device"] is False
    messages = Message.objects.filter(kind="new_device_login")
    assert messages.count() == 1
    assert "203.0.113.7" in messages.get().body and "iPhone" in messages.get().body
    event = LoginEvent.objects.filter(new_device=True).get()
    assert event.ip == "203.0.113.7" and event.device_id == "iphone-1"


def test_a_device_known_for_another_customer_is_still_new_for_this_one(storefront):
    place(ListingFactory(), external_id="a")
    place(ListingFactory(), external_id="b")
    storefront.json("post", "/api/v1/customers/a/login-events", _login_body("shared"))
    r = storefront.json("post", "/api/v1/customers/b/login-events", _login_body("shared"))
    assert r.json()["new_device"] is True


@pytest.mark.parametrize("bad", [
    {"ip": "999.1.1.1"}, {"occurred_at": "yesterday"}, {"device_id": 12}, {"user_agent": "x" * 501},
    {"occurred_at": "in an hour"},  # filled in below, on the clock the test runs with
])
def test_bad_login_event_is_400_and_nothing_is_written(storefront, bad):
    if bad.get("occurred_at") == "in an hour":
        bad = {"occurred_at": (now() + timedelta(hours=1)).isoformat()}
    place(ListingFactory())
    r = storefront.json("post", "/api/v1/customers/cust-1/login-events", _login_body(**bad))
    assert r.status_code == 400 and r.json()["code"] and r.json()["field"]
    assert not LoginEvent.objects.exists()


@pytest.mark.parametrize(("ahead", "status"), [
    (timedelta(minutes=9, seconds=59), 201),
    (timedelta(minutes=10, seconds=1), 400),
])
def test_a_login_ahead_of_our_clock_is_accepted_up_to_the_allowed_skew(storefront, ahead, status):
    place(ListingFactory())
    t0 = now().replace(microsecond=0)
    with time_machine.travel(t0, tick=False):
        r = storefront.json("post", "/api/v1/customers/cust-1/login-events",
                            _login_body(occurred_at=(t0 + ahead).isoformat()))
    assert r.status_code == status, r.json()
    if status == 400:
        assert r.json()["code"] == "invalid" and r.json()["field"] == "occurred_at"
    assert LoginEvent.objects.exists() is (status == 201)


def test_login_event_of_an_unknown_customer_is_404(storefront):
    r = storefront.json("post", "/api/v1/customers/nobody/login-events", _login_body())
    assert r.status_code == 404 and r.json()["code"] == "customer_not_found"


@pytest.mark.parametrize("kind", ["seller", "carrier", "warehouse"])
def test_other_partners_can_neither_write_nor_read_login_events(make_client, storefront, kind):
    place(ListingFactory())
    storefront.json("post", "/api/v1/customers/cust-1/login-events", _login_body())
    other = make_client(kind)
    assert other.json("post", "/api/v1/customers/cust-1/login-events", _login_body()).status_code == 403
    assert other.get("/api/v1/customers/cust-1/login-events").status_code == 403
    assert other.get("/api/v1/customers/cust-1").status_code == 403


def test_even_the_storefront_cannot_read_login_events_back(storefront):
    place(ListingFactory())
    storefront.json("post", "/api/v1/customers/cust-1/login-events", _login_body())
    r = storefront.get("/api/v1/customers/cust-1/login-events")
    assert r.status_code == 405
    assert "203.0.113.7" not in r.content.decode()
    body = storefront.get("/api/v1/customers/cust-1").content.decode()
    assert "203.0.113.7" not in body and "iphone-1" not in body


# --- customer resource --------------------------------------------------------------------

def test_customer_resource_exposes_the_session_epoch(storefront):
    order = place(ListingFactory())
    r = storefront.get("/api/v1/customers/cust-1")
    assert r.status_code == 200
    assert r.json() == {"external_id": "cust-1", "session_epoch": 0, "suspended": False,
                        "password_reset_required": False}
    accounts.revoke_sessions(order.customer, actor="staff:test", cause="suspension")
    assert storefront.get("/api/v1/customers/cust-1").json()["session_epoch"] == 1


# --- storefront report ------------------------------------------------------------------

def test_storefront_reports_an_unauthorized_order_and_secures_the_account(storefront, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        video = place(ListingFactory(digital=True, price=400))
    with django_capture_on_commit_callbacks(execute=True):
        r = storefront.json("post", REPORTS, {"type": "unauthorized_order", "customer_external_id": "cust-1",
                                              "order_numbers": [video.number.replace("-", "")], "secure_account": True})
    assert r.status_code == 201, r.json()
    body = r.json()
    assert body["type"] == "unauthorized_order" and body["status"] == "open" and body["secured"] is True
    assert body["order_numbers"] == [video.number]
    order = storefront.get(f"/api/v1/orders/{video.number}").json()
    assert order["status"] == "cancelled" and order["cancellation_reason"] == "unauthorized_order"
    assert order["refunds"][0]["amount"] == 400
    customer = storefront.get("/api/v1/customers/cust-1").json()
    assert customer["session_epoch"] == 1 and customer["password_reset_required"] is True
    assert storefront.get("/api/v1/customers/cust-1/gift-card").json()["frozen"] is True


def test_storefront_report_without_secure_account_only_files_it(storefront):
    order = place(ListingFactory())
    r = storefront.json("post", REPORTS, {"type": "unauthorized_order", "customer_external_id": "cust-1",
                                          "order_numbers": [order.number]})
    assert r.status_code == 201 and r.json()["secured"] is False
    order.refresh_from_db()
    assert order.status == "processing"


def test_storefront_cannot_report_another_customers_order(storefront):
    other = place(ListingFactory(), external_id="someone-else")
    place(ListingFactory())
    r = storefront.json("post", REPORTS, {"type": "unauthorized_order", "customer_external_id": "cust-1",
                                          "order_numbers": [other.number], "secure_account": True})
    assert r.status_code == 404 and r.json()["code"] == "order_not_found"
    other.refresh_from_db()
    assert other.status == "processing" and not Report.objects.exists()


@pytest.mark.parametrize("body", [
    {"type": "cod_harassment", "customer_external_id": "cust-1", "order_numbers": ["x"]},
    {"type": "unauthorized_order", "customer_external_id": "cust-1", "order_numbers": []},
    {"type": "unauthorized_order", "customer_external_id": "cust-1", "order_numbers": "123"},
    {"type": "unauthorized_order", "customer_external_id": "cust-1", "order_numbers": ["12"]},
    {"type": "unauthorized_order", "customer_external_id": "cust-1", "order_numbers": ["111-2222222-3333333"],
     "secure_account": "yes"},
])
def test_bad_storefront_report_is_400_and_nothing_is_written(storefront, body):
    place(ListingFactory())
    r = storefront.json("post", REPORTS, body)
    assert r.status_code in (400, 404) and r.json()["code"]
    assert not Report.objects.exists()


# --- seller report (seed 004) -------------------------------------------------------------

def _seller_order(seller_client):
    listing = ListingFactory(seller=seller_client.partner.seller, fulfilled_by=Listing.FulfilledBy.SELLER)
    seller_client.partner.seller.accept_cod_self_fulfilled = True
    seller_client.partner.seller.save()
    return place(listing, method="cod")


def test_seller_reports_cod_harassment_about_its_own_order(seller_client):
    order = _seller_order(seller_client)
    r = seller_client.json("post", REPORTS, {"type": "cod_harassment", "order_number": order.number,
                                             "description": "架空の住所への代引き注文が続いています"})
    assert r.status_code == 201, r.json()
    report = Report.objects.get()
    assert report.type == ReportType.COD_HARASSMENT and report.seller == seller_client.partner.seller
    assert report.address_key == order.address_key and list(report.orders.all()) == [order]


def test_seller_cannot_report_another_sellers_order(seller_client, make_client):
    rival = make_client(Partner.Kind.SELLER, "出品者B")
    order = _seller_order(rival)
    r = seller_client.json("post", REPORTS, {"type": "cod_harassment", "order_number": order.number,
                                             "description": "嫌がらせ"})
    assert r.status_code == 404 and r.json()["code"] == "order_not_found"
    assert not Report.objects.exists()


def test_seller_cannot_report_a_platform_order(seller_client):
    order = place(ListingFactory())
    r = seller_client.json("post", REPORTS, {"type": "cod_harassment", "order_number": order.number,
                                             "description": "嫌がらせ"})
    assert r.status_code == 404


def test_seller_may_report_without_an_order_and_persistent_reports_raise_priority(seller_client):
    for n in range(3):
        r = seller_client.json("post", REPORTS, {"type": "cod_harassment", "description": f"{n + 1}回目の通報"})
        assert r.status_code == 201
    assert r.json()["priority"] == "high"


def test_seller_cannot_file_an_unauthorized_order_report(seller_client):
    r = seller_client.json("post", REPORTS, {"type": "unauthorized_order", "customer_external_id": "cust-1",
                                             "order_numbers": ["111-2222222-3333333"]})
    assert r.status_code == 400


@pytest.mark.parametrize("kind", ["carrier", "warehouse"])
def test_other_partners_cannot_file_reports(make_client, kind):
    r = make_client(kind).json("post", REPORTS, {"type": "cod_harassment", "description": "x"})
    assert r.status_code == 403


# --- password reset and suspension ----------------------------------------------------------

def test_storefront_redeems_the_reset_link_once(storefront):
    order = place(ListingFactory())
    accounts.require_password_reset(order.customer)
    token = Message.objects.get(kind="password_reset_required").body.split("token=")[1].split()[0]
    r = storefront.json("post", "/api/v1/customers/cust-1/password-reset", {"token": token})
    assert r.status_code == 200 and r.json()["password_reset_required"] is False
    r = storefront.json("post", "/api/v1/customers/cust-1/password-reset", {"token": token})
    assert r.status_code == 404 and r.json()["code"] == "reset_token_invalid"


def test_suspended_customer_cannot_order_and_reinstated_one_can(storefront):
    order = place(ListingFactory())
    accounts.suspend(order.customer, reason="不正注文の繰り返し", actor="staff:sato")
    listing = ListingFactory()
    r = storefront.json("post", "/api/v1/orders", order_payload(listing))
    assert r.status_code == 403 and r.json()["code"] == "customer_suspended"
    assert storefront.get("/api/v1/customers/cust-1").json()["suspended"] is True
    accounts.reinstate(order.customer, reason="本人確認が取れた", actor="staff:sato")
    assert storefront.json("post", "/api/v1/orders", order_payload(listing)).status_code == 201
    actions = list(order.customer.account_actions.order_by("at", "id").values_list("kind", "reason", "actor"))
    assert actions == [("suspend", "不正注文の繰り返し", "staff:sato"), ("reinstate", "本人確認が取れた", "staff:sato")]


def test_suspension_needs_a_reason_and_revokes_sessions():
    order = place(ListingFactory())
    from backoffice.errors import Conflict, InvalidInput

    with pytest.raises(InvalidInput):
        accounts.suspend(order.customer, reason="", actor="staff:a")
    accounts.suspend(order.customer, reason="調査中", actor="staff:a")
    order.customer.refresh_from_db()
    assert order.customer.session_epoch == 1 and order.customer.suspended_reason == "調査中"
    with pytest.raises(Conflict):
        accounts.suspend(order.customer, reason="再度", actor="staff:a")


def test_a_replayed_report_with_the_same_idempotency_key_is_filed_once(storefront):
    order = place(ListingFactory())
    body = {"type": "unauthorized_order", "customer_external_id": "cust-1",
            "order_numbers": [order.number], "secure_account": True}
    first = storefront.json("post", REPORTS, body, HTTP_IDEMPOTENCY_KEY="rep-1")
    again = storefront.json("post", REPORTS, body, HTTP_IDEMPOTENCY_KEY="rep-1")
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json() and again["Idempotent-Replayed"] == "true"
    assert Report.objects.filter(type="unauthorized_order").count() == 1


def test_full_width_order_numbers_are_accepted(storefront):
    order = place(ListingFactory())
    wide = order.number.translate(str.maketrans("0123456789-", "０１２３４５６７８９－"))
    r = storefront.json("post", REPORTS, {"type": "unauthorized_order", "customer_external_id": "cust-1",
                                          "order_numbers": [wide]})
    assert r.status_code == 201 and r.json()["order_numbers"] == [order.number]


@pytest.mark.parametrize("body", [
    {"type": "cod_harassment"},
    {"type": "cod_harassment", "description": ""},
    {"type": "cod_harassment", "description": "x" * 2001},
    {"type": "cod_harassment", "description": "x", "order_number": "12-34"},
    {"type": "other", "description": "x"},
])
def test_bad_seller_report_is_400_and_nothing_is_written(seller_client, body):
    r = seller_client.json("post", REPORTS, body)
    assert r.status_code == 400 and r.json()["code"] and r.json()["message"]
    assert not Report.objects.exists()
