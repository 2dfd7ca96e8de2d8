"""Receipts issued at once on real PostgreSQL: one original, the rest 再発行, one number."""

from __future__ import annotations

import pytest

from receipts import services
from receipts.models import Receipt, ReceiptIssue
from tests.factories import ListingFactory
from tests.receipts.helpers import place
from tests.support import run_concurrently

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_eight_receipts_of_one_order_issued_at_once_are_one_original_and_seven_reissues():
    order = place([(ListingFactory(price=500), 1)])

    def issue(i):
        return services.issue(order=order, channel=services.Channel.STOREFRONT, actor=f"storefront:{i}").sequence

    sequences = run_concurrently(8, issue)
    assert sorted(sequences) == list(range(1, 9))
    assert Receipt.objects.filter(order=order).count() == 1
    issues = ReceiptIssue.objects.filter(receipt__order=order)
    assert [i.content["reissue"] for i in issues.order_by("sequence")] == [False] + [True] * 7
    assert len({i.content["receipt_number"] for i in issues}) == 1
