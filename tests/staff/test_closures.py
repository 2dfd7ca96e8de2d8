"""Closures in the staff console: the customer page shows points and a closure confirm page with
the check; the seller closure queue and the seller page with its live blockers and checklist."""

from __future__ import annotations

import pytest
from django.test import Client

from backoffice.models import Partner
from payments.services import bank, giftcards, points
from shop.jobs import erase_closed_customers
from shop.models import Customer, SellerClosureCheck, SellerClosureRequest
from shop.services import seller_closure
from tests import factories
from tests.shop.closure_support import deliver
from tests.staff.submit import open_form, submit

pytestmark = pytest.mark.django_db

PAYOUT = {"bank_code": "0001", "branch_code": "001", "account_type": "ordinary", "account_number": "7654321",
          "holder_kana": "ｼｭｯﾋﾟﾝｼｬ"}


@pytest.fixture
def delivered(listing):
    return deliver(factories.place(listing))


def test_the_customer_page_shows_the_points_balance_and_history(agent, delivered):
    points.charge(customer=delivered.customer, amount=10_000, reference="ch-1")
    page = agent.get(f"/staff/customers/{delivered.customer_id}/").content.decode()
    assert 'data-testid="points-balance">200<' in page
    assert "チャージ特典" in page and "通常会員 2%" in page


def test_the_closure_confirm_page_shows_the_check_blockers_forfeits_and_the_receipts_warning(agent, card_order):
    giftcards.redeem(customer=card_order.customer, amount=3_000, reference="gc")
    page = agent.get(f"/staff/customers/{card_order.customer_id}/actions/close/").content.decode()
    assert "退会できません：お届けが完了していないご注文があります。" in page and card_order.number in page
    assert "ギフト券残高 3,000円 と 0 ポイントが失効します" in page
    assert "退会後は領収書を発行・印刷できなくなります" in page
    response = submit(agent, f"/staff/customers/{card_order.customer_id}/actions/close/", {"confirm_forfeit": "on"})
    assert response.status_code == 409 and 'data-code="closure_blocked"' in response.content.decode()
    assert Customer.objects.get(pk=card_order.customer_id).closed_at is None


def test_the_agent_closes_an_account_once_the_forfeit_is_confirmed(agent, delivered):
    giftcards.redeem(customer=delivered.customer, amount=3_000, reference="gc")
    url = f"/staff/customers/{delivered.customer_id}/actions/close/"
    unconfirmed = submit(agent, url, {})
    assert unconfirmed.status_code == 400 and 'data-code="confirmation_required"' in unconfirmed.content.decode()
    response = submit(agent, url, {"confirm_forfeit": "on"})
    assert response.status_code == 302
    page = agent.get(response["Location"]).content.decode()
    assert 'data-testid="closed"' in page and 'data-testid="closure"' in page and "削除ジョブの実行待ち" in page
    assert 'data-action="close_customer"' not in page  # no second closure
    assert Customer.objects.get(pk=delivered.customer_id).closed_at is not None


def test_only_support_closes_a_customer_account(make_staff, delivered):
    for group in ("fraud_analyst", "finance"):
        client = Client()
        client.force_login(make_staff(group, f"{group}-x"))
        assert client.post(f"/staff/customers/{delivered.customer_id}/actions/close/", {}).status_code == 403
    assert Customer.objects.get(pk=delivered.customer_id).closed_at is None


def test_finance_adjusts_points_and_cannot_go_below_zero(finance, delivered):
    url = f"/staff/customers/{delivered.customer_id}/actions/adjust-points/"
    assert submit(finance, url, {"points": "５０", "note": "キャンペーン付与"}).status_code == 302  # full-width digits
    refused = submit(finance, url, {"points": "-51", "note": "訂正"})
    assert refused.status_code == 409 and 'data-code="points_insufficient"' in refused.content.decode()
    assert points.account_for(delivered.customer).balance == 50


def _seller_with_request(make_client):
    client = make_client(Partner.Kind.SELLER, "閉鎖する出品者")
    seller = client.partner.seller
    factories.ListingFactory(seller=seller, fulfilled_by="seller", stock=2)
    req = seller_closure.request_closure(seller=seller, phone="03-1234-5678", comment="事業終了のため",
                                         actor="seller:test")
    return seller, req


def test_the_queue_lists_open_requests_and_the_seller_page_shows_blockers_and_checklist(agent, make_client):
    seller, req = _seller_with_request(make_client)
    queue = agent.get("/staff/seller-closures/").content.decode()
    assert f'data-closure-request="{req.pk}"' in queue and "0 / 4" in queue
    page = agent.get(f"/staff/sellers/{seller.pk}/").content.decode()
    for code in ("active_listings", "payout_account_missing"):
        assert f'data-code="{code}"' in page
    assert "出品中の商品がすべて取り下げられている" in page and "事業終了のため" in page


def test_the_agent_works_the_checklist_and_closes_the_seller(agent, make_client):
    seller, req = _seller_with_request(make_client)
    check_url = f"/staff/seller-closures/{req.pk}/actions/check/"
    seller_page = f"/staff/sellers/{seller.pk}/"
    refused = submit(agent, check_url, {"code": "listings_withdrawn"}, page=f"{check_url}?code=listings_withdrawn")
    assert refused.status_code == 409 and not SellerClosureCheck.objects.exists()
    seller.listings.update(stock=0)
    bank.set_payout_account(seller=seller, **PAYOUT)
    for code, _label, _behind in seller_closure.CHECKLIST:
        assert submit(agent, check_url, {"code": code}, page=seller_page).status_code == 302
    confirm = agent.get(f"/staff/seller-closures/{req.pk}/actions/close/").content.decode()
    assert "出品者のAPIキーを無効にし" in confirm and "閉鎖できません" not in confirm
    assert submit(agent, f"/staff/seller-closures/{req.pk}/actions/close/").status_code == 302
    assert SellerClosureRequest.objects.get().status == "closed"
    assert not Partner.objects.get(seller=seller).active
    assert 'data-testid="seller-closed"' in agent.get(f"/staff/sellers/{seller.pk}/").content.decode()


def test_only_support_opens_the_seller_closure_queue(analyst, finance):
    assert analyst.get("/staff/seller-closures/").status_code == 403
    assert finance.get("/staff/seller-closures/").status_code == 403


def test_an_erased_customer_page_shows_the_books_and_the_erasure_log(agent, delivered):
    assert submit(agent, f"/staff/customers/{delivered.customer_id}/actions/close/",
                  {"confirm_forfeit": "on"}).status_code == 302
    erase_closed_customers()
    page = agent.get(f"/staff/customers/{delivered.customer_id}/").content.decode()
    assert "（個人情報は削除済み）" in page and "に削除済みです" in page and "まで保存します" in page
    assert delivered.number in page and "12,800円" in page  # the order stays, with its total


def test_the_closure_pages_are_in_english_through_the_language_switch(agent, make_client):
    seller, req = _seller_with_request(make_client)
    agent.post("/i18n/setlang/", {"language": "en", "next": "/staff/"})
    page = agent.get(f"/staff/sellers/{seller.pk}/").content.decode()
    assert "What blocks the closure (now)" in page and "Seller closures" in page


def test_a_points_adjustment_submitted_twice_adjusts_once(finance, delivered):
    url = f"/staff/customers/{delivered.customer_id}/actions/adjust-points/"
    token = open_form(finance, url)
    body = {"points": "50", "note": "キャンペーン付与", "form_token": token}
    assert finance.post(url, body).status_code == 302
    again = finance.post(url, body)  # a double click: the token is spent
    assert again.status_code == 409 and 'data-code="form_already_used"' in again.content.decode()
    assert points.account_for(delivered.customer).balance == 50
