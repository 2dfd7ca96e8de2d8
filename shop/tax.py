"""Consumption tax (消費税) of tax-inclusive prices, by rate: the one place its arithmetic lives.

Prices in this shop are tax-inclusive yen (API.md "Receipts and qualified invoices"). Since the
invoice system (インボイス制度, October 2023) a qualified invoice states, per rate, the total and
the consumption tax, and the tax is rounded **once per rate per document** — never per line and
then added up (seed 003 tells customers to print their receipts: this is what is printed).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from django.db import models

# 標準税率 10%; 軽減税率 8% for food and drink (not alcohol): the only two rates a listing takes.
STANDARD_RATE = 10
REDUCED_RATE = 8
# The order rates are listed in on a document: the standard rate first, as tax offices' examples do.
RATES = (STANDARD_RATE, REDUCED_RATE)


class TaxRate(models.IntegerChoices):
    STANDARD = STANDARD_RATE, "10%（標準税率）"
    REDUCED = REDUCED_RATE, "8%（軽減税率）"


def tax_included(amount_incl_tax: int, rate: int) -> int:
    """The consumption tax inside a tax-inclusive ``amount``: amount × rate / (100 + rate),
    rounded down (切り捨て) in integer arithmetic, so no float ever touches the yen."""
    if rate not in RATES:
        raise ValueError(f"unknown tax rate {rate!r}")
    return amount_incl_tax * rate // (100 + rate)


@dataclass(frozen=True)
class RateTotal:
    """One rate's line of a document: the tax-inclusive total and the tax in it."""

    tax_rate: int
    amount_incl_tax: int
    tax: int


def totals_by_rate(amounts: Iterable[tuple[int, int]]) -> list[RateTotal]:
    """``(tax_rate, tax-inclusive amount)`` pairs of one document → one total per rate present,
    its tax rounded down once on the rate's sum (the invoice rule), in ``RATES`` order."""
    sums: dict[int, int] = {}
    for rate, amount in amounts:
        if rate not in RATES:
            raise ValueError(f"unknown tax rate {rate!r}")
        sums[rate] = sums.get(rate, 0) + amount
    return [RateTotal(rate, sums[rate], tax_included(sums[rate], rate)) for rate in RATES if rate in sums]


def allocate(amount: int, by_rate: dict[int, int]) -> dict[int, int]:
    """Split ``amount`` (a refund that names no lines) across rates in proportion to ``by_rate``
    (what is left to refund at each rate), rounding down, the odd yen to the rate with the most
    left (the standard rate on a tie). Never gives a rate more than it has left."""
    left = {rate: value for rate, value in by_rate.items() if value > 0}
    whole = sum(left.values())
    if amount <= 0 or whole <= 0:
        return {}
    amount = min(amount, whole)
    parts = {rate: amount * value // whole for rate, value in left.items()}
    spare = amount - sum(parts.values())
    for rate in sorted(left, key=lambda r: (-(left[r] - parts[r]), RATES.index(r))):
        if spare == 0:
            break
        step = min(spare, left[rate] - parts[rate])
        parts[rate] += step
        spare -= step
    return {rate: part for rate, part in parts.items() if part > 0}
