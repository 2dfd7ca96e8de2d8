"""The storefront's receipt endpoints (API.md "Receipts and qualified invoices"): a real PDF whose
text carries every required item, the same content as JSON, and the coded refusals."""

from __future__ import annotations

import re

import pytest
import time_machine

from payments.services import refunds
from receipts.models import Receipt, ReceiptIssue
from shop.models import Listing
from tests.factories import ListingFactory
from tests.receipts.helpers import delivered, groceries_and_a_book, pdftotext, place

pytestmark = pytest.mark.django_db


def receipt_url(order, suffix: str = "") -> str:
    return f"/api/v1/orders/{order.number}/receipt{suffix}"


def test_the_pdf_states_every_item_the_contract_requires(storefront, tmp_path, django_capture_on_commit_callbacks):
    onigiri, tea, book = groceries_and_a_book()
    with time_machine.travel("2026-12-01 10:00 +09:00", tick=False):
        order = delivered(place([(onigiri, 3), (tea, 2), (book, 1)]))
        with django_capture_on_commit_callbacks(execute=True):
            refunds.refund_return(order=order, lines=[(onigiri.sku, 1)], actor="staff:support")
        response = storefront.get(receipt_url(order), {"addressee": "株式会社サンプル 御中"})

    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF-")
    text = pdftotext(response.content, tmp_path)
    number = Receipt.objects.get(order=order).number
    flat = re.sub(r"[ 　]+", " ", text)
    for item in [
        "領収書", "（適格請求書）",
        "株式会社コンビニバックオフィス", "登録番号 T9000000000000",  # issuer and registration number
        "発行日 2026年12月1日", f"領収書番号 {number}", f"注文番号 {order.number}",
        "株式会社サンプル 御中", "但し書き お品代として", "¥2,604",
        "※ おにぎり 鮭", "※ 緑茶 500ml", "文庫本", "8%※", "※ 軽減税率対象",
        "10%対象 1,980円（内消費税 180円）", "8%対象 624円（内消費税 46円）", "合計（税込） 2,604円",
        "返金（適格返還請求書）", "8%対象 108円 8円",  # the returned amount and its tax, per rate
        "クレジットカード",
    ]:
        assert item in flat, item
    assert "再発行" not in flat
    assert "※ 文庫本" not in flat  # the standard-rate line is not marked


def test_a_second_receipt_is_marked_reissue_in_the_pdf(storefront, tmp_path):
    order = place([(ListingFactory(price=500), 1)])
    first = storefront.get(receipt_url(order))
    second = storefront.get(receipt_url(order))

    assert "再発行" not in pdftotext(first.content, tmp_path)
    assert "再発行" in pdftotext(second.content, tmp_path)


def test_the_json_is_the_same_content_as_data(storefront):
    onigiri, _, book = groceries_and_a_book()
    order = place([(onigiri, 3), (book, 1)])
    response = storefront.get(receipt_url(order, ".json"))

    assert response.status_code == 200
    body = response.json()
    assert set(body) >= {"receipt_number", "issued_at", "reissue", "issuer", "addressee", "lines", "totals",
                         "total", "paid_at", "payment_method", "refunds"}
    assert body["lines"][0] == {"sku": onigiri.sku, "title": onigiri.title, "quantity": 3, "unit_price": 108,
                                "tax_rate": 8}
    assert body["totals"] == [{"tax_rate": 10, "amount_incl_tax": 1980, "tax": 180},
                              {"tax_rate": 8, "amount_incl_tax": 324, "tax": 24}]
    assert body["reissue"] is False
    assert storefront.get(receipt_url(order, ".json")).json()["reissue"] is True
    # The recorded issue holds exactly what was answered.
    assert ReceiptIssue.objects.get(receipt__order=order, sequence=1).content == body


def test_an_unpaid_order_is_409_not_paid(storefront):
    order = place([(ListingFactory(price=500), 1)], method="konbini")
    for suffix in ("", ".json"):
        response = storefront.get(receipt_url(order, suffix))
        assert response.status_code == 409
        assert response.json()["code"] == "not_paid"
        assert response.json()["message"]
    assert not ReceiptIssue.objects.exists()


def test_an_order_cancelled_before_payment_is_409_not_issuable(storefront):
    order = place([(ListingFactory(price=500), 1)], method="konbini")
    storefront.json("post", f"/api/v1/orders/{order.number}/cancel", {"reason": "customer_request"})
    response = storefront.get(receipt_url(order))
    assert (response.status_code, response.json()["code"]) == (409, "not_issuable")


def test_an_addressee_over_40_characters_is_a_400_naming_the_field(storefront):
    order = place([(ListingFactory(price=500), 1)])
    response = storefront.get(receipt_url(order), {"addressee": "あ" * 41})
    assert response.status_code == 400
    assert (response.json()["code"], response.json()["field"]) == ("invalid_addressee", "addressee")
    assert not ReceiptIssue.objects.exists()
    assert storefront.get(receipt_url(order), {"addressee": "あ" * 40}).status_code == 200


def test_the_order_number_is_accepted_as_people_type_it(storefront):
    order = place([(ListingFactory(price=500), 1)])
    typed = order.number.replace("-", "").translate(str.maketrans("0123456789", "０１２３４５６７８９"))
    assert storefront.get(f"/api/v1/orders/{typed}/receipt.json").status_code == 200


def test_an_unknown_order_is_404_and_other_partners_may_not_ask(storefront, seller_client, anon):
    order = place([(ListingFactory(price=500), 1)])
    assert storefront.get("/api/v1/orders/111-2222222-3333333/receipt").json()["code"] == "order_not_found"
    assert storefront.get("/api/v1/orders/12/receipt").status_code == 400
    assert seller_client.get(receipt_url(order)).status_code == 403
    assert anon.get(receipt_url(order)).status_code == 401
    assert not ReceiptIssue.objects.exists()


# --- listings take a rate ----------------------------------------------------------------------

def _listing(sku: str, **extra) -> dict:
    return {"sku": sku, "title": "おにぎり", "price": 108, "stock": 5, "fulfilled_by": "platform", "digital": False,
            **extra}


def test_a_listing_takes_tax_rate_10_by_default_or_8(seller_client):
    default = seller_client.json("post", "/api/v1/listings", _listing("R-1"))
    reduced = seller_client.json("post", "/api/v1/listings", _listing("R-2", tax_rate=8))
    assert (default.status_code, default.json()["tax_rate"]) == (201, 10)
    assert (reduced.status_code, reduced.json()["tax_rate"]) == (201, 8)
    changed = seller_client.json("patch", "/api/v1/listings/R-2", {"tax_rate": 10})
    assert (changed.status_code, changed.json()["tax_rate"]) == (200, 10)


@pytest.mark.parametrize("rate", [5, 0, "8", 8.0, None, True])
def test_any_other_tax_rate_is_a_400(seller_client, rate):
    response = seller_client.json("post", "/api/v1/listings", _listing("R-3", tax_rate=rate))
    assert response.status_code == 400
    assert response.json()["field"] == "tax_rate"
    assert not Listing.objects.filter(sku="R-3").exists()
