"""PUT /stores/{store_code}: a pickup chain maintains its own store master (API.md "Konbini chain")."""

from __future__ import annotations

import pytest

from backoffice.models import Partner
from pickup.models import Store

pytestmark = pytest.mark.django_db

BODY = {"name": "ローソン 大手町一丁目店", "prefecture": "東京都", "address": "千代田区大手町1-1", "active": True}


def test_a_lawson_partner_creates_then_updates_its_store(lawson):
    r = lawson.json("put", "/api/v1/stores/LS1234", BODY)
    assert r.status_code == 201, r.json()
    assert r.json() | {} == {"store_code": "LS1234", "chain": "lawson", "terminal": "Loppi", **BODY}
    r = lawson.json("put", "/api/v1/stores/LS1234", {**BODY, "name": "ローソン 大手町店", "active": False})
    assert r.status_code == 200
    store = Store.objects.get(code="LS1234")
    assert (store.name, store.active, store.chain) == ("ローソン 大手町店", False, "lawson")


def test_familymart_stores_use_famiport(familymart):
    r = familymart.json("put", "/api/v1/stores/ＦＭ０００９", {**BODY, "name": "ファミリーマート 丸の内店"})
    assert r.status_code == 201
    assert r.json()["store_code"] == "FM0009" and r.json()["terminal"] == "Famiポート"


def test_a_chain_cannot_touch_another_chains_store(lawson, familymart):
    assert familymart.json("put", "/api/v1/stores/FM0001", BODY).status_code == 201
    r = lawson.json("put", "/api/v1/stores/FM0001", {**BODY, "name": "乗っ取り"})
    assert r.status_code == 403 and r.json()["code"] == "forbidden"
    assert Store.objects.get(code="FM0001").chain == "familymart"


@pytest.mark.parametrize("chain", ["seven_eleven", "seicomart"])
def test_chains_without_konbini_pickup_are_refused(make_client, chain):
    client = make_client(Partner.Kind.KONBINI_CHAIN, chain, chain=chain)
    r = client.json("put", "/api/v1/stores/X1", BODY)
    assert r.status_code == 403
    assert not Store.objects.exists()


def test_other_partner_kinds_are_refused(storefront, carrier):
    assert storefront.json("put", "/api/v1/stores/LS1", BODY).status_code == 403
    assert carrier.json("put", "/api/v1/stores/LS1", BODY).status_code == 403


@pytest.mark.parametrize("body, field", [
    ({**BODY, "name": "x" * 101}, "name"),
    ({**BODY, "active": "yes"}, "active"),
    ({k: v for k, v in BODY.items() if k != "address"}, "address"),
    ({**BODY, "prefecture": 13}, "prefecture"),
])
def test_bad_store_input_is_a_400_and_writes_nothing(lawson, body, field):
    r = lawson.json("put", "/api/v1/stores/LS1", body)
    assert r.status_code == 400 and r.json()["field"] == field
    assert not Store.objects.exists()


def test_a_store_code_with_symbols_is_refused(lawson):
    r = lawson.json("put", "/api/v1/stores/LS%201%3B", BODY)
    assert r.status_code == 400 and r.json()["code"] == "invalid_store_code"
