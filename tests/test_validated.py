"""``backoffice.api.fields.validated``: one set of bound fields per serializer class, shared by
every request's instance — each validation still sees only its own data and errors."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest
from rest_framework.exceptions import ValidationError

from backoffice.api.fields import validated
from shop.api.serializers import OrderIn


def body(i: int, **changes) -> dict:
    data = {"customer": {"external_id": f"c-{i}", "email": f"c{i}@example.jp", "name": "山田"},
            "items": [{"sku": f"SKU-{i}", "quantity": 1 + i % 5}],
            "shipping_speed": "standard",
            "destination": {"type": "home", "postal_code": "1000001", "prefecture": "東京都", "city": "千代田区",
                            "address_line": "千代田1-1", "recipient_name": "山田", "phone": "0312345678"},
            "payment_method": "card", "card_token": "tok_visa"}
    data.update(changes)
    return data


def test_each_validation_returns_its_own_data():
    first, second = validated(OrderIn, body(1)), validated(OrderIn, body(2))
    assert first["customer"]["external_id"] == "c-1" and second["customer"]["external_id"] == "c-2"
    assert [dict(i) for i in first["items"]] == [{"sku": "SKU-1", "quantity": 2}]
    assert [dict(i) for i in second["items"]] == [{"sku": "SKU-2", "quantity": 3}]


def test_an_error_does_not_stay_for_the_next_body():
    with pytest.raises(ValidationError) as refused:
        validated(OrderIn, body(1, items=[{"sku": "SKU-1", "quantity": 0}], payment_method="bitcoin"))
    assert set(refused.value.detail) == {"items", "payment_method"}
    assert validated(OrderIn, body(3))["payment_method"] == "card"
    with pytest.raises(ValidationError) as again:
        validated(OrderIn, body(4, customer={"external_id": 5, "email": "x", "name": "a"}))
    assert set(again.value.detail) == {"customer"}
    assert set(again.value.detail["customer"]) == {"external_id", "email"}


def test_threads_validating_at_once_each_get_their_own_result():
    def check(i: int):
        if i % 3 == 0:
            try:
                validated(OrderIn, body(i, shipping_speed="warp"))
            except ValidationError as exc:
                return i, sorted(exc.detail)
            return i, "accepted a bad body"
        data = validated(OrderIn, body(i))
        return i, (data["customer"]["external_id"], data["items"][0]["sku"], data["items"][0]["quantity"])

    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(check, range(600)))
    for i, result in results:
        assert result == (["shipping_speed"] if i % 3 == 0 else (f"c-{i}", f"SKU-{i}", 1 + i % 5)), i
