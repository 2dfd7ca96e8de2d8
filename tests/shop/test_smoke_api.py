from tests.factories import ListingFactory, order_payload


def test_card_order_placed_and_read_back(storefront, django_capture_on_commit_callbacks):
    listing = ListingFactory(price=1200, stock=3)
    with django_capture_on_commit_callbacks(execute=True):
        r = storefront.json("post", "/api/v1/orders", order_payload(listing, quantity=2))
    assert r.status_code == 201, r.json()
    body = r.json()
    assert body["status"] == "processing" and body["total"] == 2400
    listing.refresh_from_db()
    assert listing.stock == 1
    r = storefront.get(f"/api/v1/orders/{body['order_number']}")
    assert r.status_code == 200
    assert r.json()["timeline"][0]["to_status"] == "processing"
