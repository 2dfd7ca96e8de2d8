"""Issuing receipts (receipts.services): the original then 再発行, every issue recorded, the
per-rate totals and tax, refunds as returned amounts per rate, and the refusals."""

from __future__ import annotations

import pytest
import time_machine

from backoffice.errors import Conflict, InvalidInput
from payments.services import refunds
from receipts import services
from receipts.models import Receipt, ReceiptIssue
from receipts.services import Channel
from shop.models import CancellationReason, OrderLine
from shop.services import catalog, orders
from tests.factories import ListingFactory
from tests.receipts.helpers import delivered, groceries_and_a_book, place

pytestmark = pytest.mark.django_db


def issue(order, **kw):
    kw.setdefault("channel", Channel.STOREFRONT)
    kw.setdefault("actor", "storefront:test")
    return services.issue(order=order, **kw)


def test_the_seed_limits_of_a_receipt():
    assert services.ADDRESSEE_MAX_LENGTH == 40
    from receipts.document import ADDRESSEE_HONORIFIC, DEFAULT_PURPOSE
    assert (ADDRESSEE_HONORIFIC, DEFAULT_PURPOSE) == ("様", "お品代として")


def test_the_listing_rate_is_copied_onto_the_line_and_a_later_change_does_not_rewrite_it():
    onigiri = ListingFactory(price=108, tax_rate=8)
    order = place([(onigiri, 3)])
    catalog.update_listing(seller=onigiri.seller, sku=onigiri.sku, changes={"tax_rate": 10})

    assert OrderLine.objects.get(order=order).tax_rate == 8
    assert issue(order).content["totals"] == [{"tax_rate": 8, "amount_incl_tax": 324, "tax": 24}]


def test_a_receipt_states_each_line_with_its_rate_and_per_rate_totals_rounded_once():
    onigiri, tea, book = groceries_and_a_book()
    order = place([(onigiri, 3), (tea, 2), (book, 1)])
    with time_machine.travel("2026-12-01 10:00 +09:00", tick=False):
        issued = issue(order)
    c = issued.content

    assert c["receipt_number"] == issued.receipt.number and c["receipt_number"].startswith("R")
    assert c["issued_at"] == "2026-12-01T10:00:00+09:00"
    assert c["reissue"] is False
    assert c["issuer"] == {"name": "株式会社コンビニバックオフィス", "registration_number": "T9000000000000"}
    assert c["addressee"] == "山田太郎 様"
    assert c["purpose"] == "お品代として"
    assert c["order_number"] == order.number
    assert [(li["title"], li["quantity"], li["unit_price"], li["tax_rate"]) for li in c["lines"]] == [
        ("おにぎり 鮭", 3, 108, 8), ("緑茶 500ml", 2, 150, 8), ("文庫本", 1, 1980, 10)]
    # 8%: 324 + 300 = 624 → 624 × 8/108 = 46.2 → 46 (per line it would be 24 + 22 = 46: same here);
    # 10%: 1,980 × 10/110 = 180.
    assert c["totals"] == [{"tax_rate": 10, "amount_incl_tax": 1980, "tax": 180},
                           {"tax_rate": 8, "amount_incl_tax": 624, "tax": 46}]
    assert c["total"] == order.total == 2604
    assert c["payment_method"] == "card" and c["paid_at"] is not None
    assert c["refunds"] == []


def test_rounding_is_once_per_rate_per_document_not_per_line():
    a, b, c = (ListingFactory(price=100, tax_rate=8) for _ in range(3))
    order = place([(a, 1), (b, 1), (c, 1)])  # three lines of 100円: 7 + 7 + 7 per line, 22 once
    assert issue(order).content["totals"] == [{"tax_rate": 8, "amount_incl_tax": 300, "tax": 22}]


def test_the_first_issue_is_the_original_and_every_later_one_is_a_reissue_of_the_same_number():
    order = place([(ListingFactory(price=500), 1)])
    first = issue(order)
    second = issue(order, channel=Channel.STAFF, actor="staff:agent", addressee="株式会社サンプル 御中")
    third = issue(order)

    assert [i.sequence for i in (first, second, third)] == [1, 2, 3]
    assert [i.content["reissue"] for i in (first, second, third)] == [False, True, True]
    assert {i.content["receipt_number"] for i in (first, second, third)} == {first.receipt.number}
    assert Receipt.objects.get(order=order).issue_count == 3
    recorded = list(ReceiptIssue.objects.filter(receipt__order=order).order_by("sequence")
                    .values_list("channel", "actor", "addressee"))
    assert recorded == [("storefront", "storefront:test", "山田太郎 様"),
                        ("staff", "staff:agent", "株式会社サンプル 御中"),
                        ("storefront", "storefront:test", "山田太郎 様")]


def test_receipts_of_two_orders_have_different_numbers():
    listing = ListingFactory(price=500)
    a, b = issue(place([(listing, 1)])), issue(place([(listing, 1)], external_id="cust-2"))
    assert a.receipt.number != b.receipt.number


def test_an_unpaid_konbini_order_has_no_receipt_and_nothing_is_written():
    order = place([(ListingFactory(price=500), 1)], method="konbini")
    with pytest.raises(Conflict) as exc:
        issue(order)
    assert (exc.value.status, exc.value.code) == (409, "not_paid")
    assert not Receipt.objects.exists()


def test_an_order_cancelled_before_payment_is_not_issuable():
    order = place([(ListingFactory(price=500), 1)], method="konbini")
    orders.cancel(order, reason=CancellationReason.CUSTOMER_REQUEST, actor="storefront:test")
    with pytest.raises(Conflict) as exc:
        issue(order)
    assert (exc.value.status, exc.value.code) == (409, "not_issuable")
    assert not Receipt.objects.exists()


def test_a_paid_konbini_order_is_issuable_with_the_cash_payment():
    order = place([(ListingFactory(price=500), 1)], method="konbini")
    orders.mark_paid(order, amount=order.total, actor="konbini:lawson")
    assert issue(order).content["payment_method"] == "konbini"


def test_a_partly_returned_order_shows_the_returned_amount_and_tax_per_rate(django_capture_on_commit_callbacks):
    onigiri, tea, book = groceries_and_a_book()
    order = delivered(place([(onigiri, 3), (tea, 2), (book, 1)]))
    with django_capture_on_commit_callbacks(execute=True):
        refunds.refund_return(order=order, lines=[(onigiri.sku, 2), (book.sku, 1)], actor="staff:support")
    c = issue(order).content

    # The sale stays as it was; the return is stated by rate: 216円 at 8% (tax 16), 1,980円 at 10% (tax 180).
    assert c["total"] == 2604
    assert [(r["tax_rate"], r["amount"], r["tax"]) for r in c["refunds"]] == [(10, 1980, 180), (8, 216, 16)]
    assert all(r["refunded_at"] for r in c["refunds"])


def test_a_cancelled_paid_order_shows_the_whole_refund_split_by_rate(django_capture_on_commit_callbacks):
    onigiri, _, book = groceries_and_a_book()
    order = place([(onigiri, 3), (book, 1)])
    with django_capture_on_commit_callbacks(execute=True):
        orders.cancel(order, reason=CancellationReason.CUSTOMER_REQUEST, actor="storefront:test")
    c = issue(order).content

    assert [(r["tax_rate"], r["amount"], r["tax"]) for r in c["refunds"]] == [(10, 1980, 180), (8, 324, 24)]


def test_a_return_by_amount_after_a_return_of_lines_splits_what_is_left(django_capture_on_commit_callbacks):
    onigiri, _, book = groceries_and_a_book()
    order = delivered(place([(onigiri, 3), (book, 1)]))  # 324 at 8%, 1,980 at 10%
    with django_capture_on_commit_callbacks(execute=True):
        refunds.refund_return(order=order, lines=[(book.sku, 1)], actor="staff:support")
        refunds.refund_return(order=order, amount=100, actor="staff:support")  # only 8% is left
    c = issue(order).content
    assert [(r["tax_rate"], r["amount"], r["tax"]) for r in c["refunds"]] == [(10, 1980, 180), (8, 100, 7)]


def test_a_refund_still_in_flight_is_not_on_the_receipt():
    order = delivered(place([(ListingFactory(price=1100), 2)]))
    refunds.refund_return(order=order, amount=1100, actor="staff:support")  # on_commit never ran
    assert issue(order).content["refunds"] == []


def test_the_addressee_and_purpose_are_what_the_customer_asked_within_40_characters():
    order = place([(ListingFactory(price=500), 1)])
    issued = issue(order, addressee="  株式会社サンプル 御中 ", purpose="書籍代として")
    assert (issued.addressee, issued.purpose) == ("株式会社サンプル 御中", "書籍代として")
    assert issue(order, addressee="あ" * 40).addressee == "あ" * 40


@pytest.mark.parametrize(("field", "value"), [("addressee", "あ" * 41), ("addressee", "山田\x00太郎"),
                                              ("purpose", "x" * 41), ("addressee", "山田\u202e太郎")])
def test_a_bad_addressee_or_purpose_is_a_400_and_writes_nothing(field, value):
    order = place([(ListingFactory(price=500), 1)])
    with pytest.raises(InvalidInput) as exc:
        issue(order, **{field: value})
    assert (exc.value.code, exc.value.field) == (f"invalid_{field}", field)
    assert not Receipt.objects.exists()


def test_plan_previews_the_next_issue_from_the_same_code():
    order = place([(ListingFactory(price=500), 1)])
    first = services.plan(order)
    assert (first.receipt_number, first.sequence, first.reissue, first.default_addressee) == (
        None, 1, False, "山田太郎 様")
    issued = issue(order)
    nxt = services.plan(order)
    assert (nxt.receipt_number, nxt.sequence, nxt.reissue) == (issued.receipt.number, 2, True)


def test_closure_warning_lists_the_orders_whose_receipts_would_be_lost():
    listing = ListingFactory(price=500)
    paid = place([(listing, 1)])
    place([(listing, 1)], method="konbini")  # unpaid: no receipt to lose
    customer = paid.customer

    warning = services.closure_warning(customer)
    assert warning.as_dict() == {
        "code": "receipts_unavailable_after_closure",
        "message": "アカウントを閉鎖すると、領収書を発行できなくなります。必要な領収書は閉鎖の前に印刷してください。",
        "order_numbers": [paid.number],
    }


def test_no_closure_warning_for_a_customer_without_paid_orders():
    order = place([(ListingFactory(price=500), 1)], method="konbini")
    assert services.closure_warning(order.customer) is None


def test_issuing_takes_the_same_few_queries_for_one_line_or_twenty(django_assert_max_num_queries,
                                                                   django_capture_on_commit_callbacks):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    small = delivered(place([(ListingFactory(price=500, tax_rate=8), 1)]))
    large = delivered(place([(ListingFactory(price=100 + i, tax_rate=8 if i % 2 else 10), 2) for i in range(20)],
                            external_id="cust-2"))
    for order in (small, large):
        with django_capture_on_commit_callbacks(execute=True):
            refunds.refund_return(order=order, amount=100, actor="staff:support")
    counts = []
    for order in (small, large):
        with CaptureQueriesContext(connection) as ctx:
            issue(order)
        counts.append(len(ctx.captured_queries))
    assert counts[0] == counts[1]
    with django_assert_max_num_queries(12):
        issue(large)
