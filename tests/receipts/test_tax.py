"""Consumption tax of tax-inclusive yen, by rate (shop.tax): the seed numbers pinned with literals,
and the invoice rule — rounded down once per rate per document, never per line."""

from __future__ import annotations

import pytest

from shop import tax
from shop.tax import RateTotal, allocate, tax_included, totals_by_rate


def test_the_two_rates_are_10_and_8_percent_standard_first():
    assert tax.STANDARD_RATE == 10
    assert tax.REDUCED_RATE == 8
    assert tax.RATES == (10, 8)


@pytest.mark.parametrize(("amount", "rate", "expected"), [
    (108, 8, 8), (107, 8, 7), (109, 8, 8), (1, 8, 0), (13, 8, 0), (14, 8, 1),
    (110, 10, 10), (109, 10, 9), (111, 10, 10), (1, 10, 0), (10, 10, 0), (11, 10, 1),
    (300_000, 10, 27_272), (300_000, 8, 22_222), (0, 10, 0),
])
def test_tax_inside_a_tax_inclusive_amount_is_rounded_down(amount, rate, expected):
    assert tax_included(amount, rate) == expected


def test_three_times_108_yen_at_8_percent_is_24_yen_of_tax():
    assert totals_by_rate([(8, 108)] * 3) == [RateTotal(tax_rate=8, amount_incl_tax=324, tax=24)]


def test_three_times_100_yen_at_8_percent_rounds_once_on_300_yen_not_per_line():
    # Per line: 100 × 8/108 = 7.4 → 7, three lines 21. Once on the total: 300 × 8/108 = 22.2 → 22.
    assert 3 * tax_included(100, 8) == 21
    assert totals_by_rate([(8, 100)] * 3) == [RateTotal(8, 300, 22)]


def test_three_times_105_yen_at_10_percent_rounds_once_on_315_yen():
    # Per line 105 × 10/110 = 9.5 → 9 (27 for three); once on 315 → 28.6 → 28.
    assert totals_by_rate([(10, 105), (10, 105), (10, 105)]) == [RateTotal(10, 315, 28)]


def test_a_document_with_both_rates_has_one_total_each_standard_rate_first():
    totals = totals_by_rate([(8, 108), (10, 1100), (8, 216), (10, 55)])
    assert totals == [RateTotal(10, 1155, 105), RateTotal(8, 324, 24)]


def test_a_rate_with_no_line_has_no_total():
    assert totals_by_rate([(10, 500)]) == [RateTotal(10, 500, 45)]
    assert totals_by_rate([]) == []


def test_an_unknown_rate_is_refused():
    with pytest.raises(ValueError):
        tax_included(100, 5)
    with pytest.raises(ValueError):
        totals_by_rate([(5, 100)])


def test_a_refund_naming_no_lines_is_split_in_proportion_the_odd_yen_to_the_larger_rest():
    assert allocate(1000, {10: 3000, 8: 1000}) == {10: 750, 8: 250}
    assert allocate(1001, {10: 1500, 8: 1500}) == {10: 501, 8: 500}  # a tie: the standard rate
    assert allocate(100, {10: 1, 8: 299}) == {8: 100}  # 0.33 → 0 at 10%, the rest at 8%
    assert allocate(4000, {10: 3000, 8: 1000}) == {10: 3000, 8: 1000}  # everything that is left


def test_an_allocation_never_gives_a_rate_more_than_it_has_left():
    for amount in range(1, 400):
        parts = allocate(amount, {10: 250, 8: 149})
        assert sum(parts.values()) == amount
        assert parts.get(10, 0) <= 250 and parts.get(8, 0) <= 149
    assert allocate(500, {10: 0, 8: 0}) == {}
    assert allocate(500, {10: 200}) == {10: 200}  # never more than what is left in all
