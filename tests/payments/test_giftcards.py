"""The gift-card balance ledger (payments/services/giftcards.py): amounts are whole yen, nothing else."""

from __future__ import annotations

import pytest

from backoffice.errors import InvalidInput
from payments.models import GiftCardEntry
from payments.services import giftcards
from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("amount", [True, 0, -1, 1.5, "100"])
def test_a_credit_that_is_not_whole_positive_yen_is_refused_and_writes_nothing(amount):
    customer = CustomerFactory()
    with pytest.raises(InvalidInput) as refused:
        giftcards.credit(customer=customer, amount=amount, kind=GiftCardEntry.Kind.REFUND, reference="r-1")
    assert refused.value.code == "invalid_amount"
    assert not GiftCardEntry.objects.exists()


def test_a_credit_of_whole_yen_is_booked_once_per_reference():
    customer = CustomerFactory()
    first = giftcards.credit(customer=customer, amount=500, kind=GiftCardEntry.Kind.REFUND, reference="r-1")
    again = giftcards.credit(customer=customer, amount=500, kind=GiftCardEntry.Kind.REFUND, reference="r-1")
    assert again.pk == first.pk and giftcards.account_for(customer).balance == 500
