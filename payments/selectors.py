"""Reads of payments/ that pages show.

「返金済み」 means money that reached the customer: SUCCEEDED refunds only. A refund that is
requested or processing (返金処理中) or that failed and waits for staff (返金失敗) holds its
amount in ``Payment.refunded_amount`` — the money reserved so that it can never be refunded twice
— but has not been refunded, so every page shows the three figures apart (issue 11).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from django.db.models import Q, QuerySet, Sum, Value
from django.db.models.functions import Coalesce

from payments.models import Refund

S = Refund.Status
IN_PROGRESS = (S.REQUESTED, S.PROCESSING)


@dataclass(frozen=True)
class RefundTotals:
    succeeded: int = 0  # 返金済み
    in_progress: int = 0  # 返金処理中 (requested or processing)
    failed: int = 0  # 返金失敗 (in the failed-refunds queue)


def refund_totals(refunds: Iterable[Refund]) -> RefundTotals:
    """The three figures of an order's refunds (already loaded, e.g. prefetched: no query)."""
    totals = {S.SUCCEEDED: 0, S.REQUESTED: 0, S.PROCESSING: 0, S.FAILED: 0}
    for refund in refunds:
        totals[refund.status] += refund.amount
    return RefundTotals(succeeded=totals[S.SUCCEEDED], in_progress=totals[S.REQUESTED] + totals[S.PROCESSING],
                        failed=totals[S.FAILED])


def with_refund_totals(payments: QuerySet) -> QuerySet:
    """Payments annotated with ``refund_succeeded``, ``refund_in_progress``, ``refund_failed``."""
    def total(condition: Q):
        return Coalesce(Sum("refunds__amount", filter=condition), Value(0))

    return payments.annotate(
        refund_succeeded=total(Q(refunds__status=S.SUCCEEDED)),
        refund_in_progress=total(Q(refunds__status__in=IN_PROGRESS)),
        refund_failed=total(Q(refunds__status=S.FAILED)),
    )
