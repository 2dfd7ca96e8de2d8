"""Finance's cases of the konbini settlement (入金照合の確認事項, issue 14).

A case is opened once per cause (``dedupe_key`` is unique: a job run twice, a report replayed or
a 速報取消 repeated opens nothing more) and put on the order's timeline; finance resolves it from
the reconciliation page (one action, through the confirm page and its one-time token).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from django.conf import settings
from django.db import transaction

from backoffice.actors import Actor
from backoffice.errors import Conflict, InvalidInput, NotFound
from backoffice.timeutil import local, now
from payments.konbini import business_days
from payments.konbini.models import PaymentReceipt, SettlementCase
from shop import events
from shop.models import OrderEvent

K = SettlementCase.Kind
JOB_ACTOR = Actor.system("konbini_unsettled")


def open_cases(cases: Iterable[SettlementCase], *, actor, at: datetime | None = None) -> list[SettlementCase]:
    """Create the cases not opened before (by ``dedupe_key``) and put each on its order's
    timeline, in the caller's transaction; returns the new ones."""
    at = at or now()
    by_key = {c.dedupe_key: c for c in cases}
    if not by_key:
        return []
    existing = set()
    keys = list(by_key)
    for start in range(0, len(keys), 5000):
        existing |= set(SettlementCase.objects.filter(dedupe_key__in=keys[start:start + 5000])
                        .values_list("dedupe_key", flat=True))
    new = [c for key, c in by_key.items() if key not in existing]
    for case in new:
        case.opened_at = at
    SettlementCase.objects.bulk_create(new, ignore_conflicts=True, batch_size=2000)
    created = {c.dedupe_key: c for c in SettlementCase.objects.filter(
        dedupe_key__in=[c.dedupe_key for c in new], opened_at=at)} if new else {}
    events.bulk([events.build_settlement_case(order=c.order_id, kind=OrderEvent.Kind.SETTLEMENT_CASE_OPENED,
                                              actor=actor, case_id=c.pk, case_kind=c.kind, at=at)
                 for c in created.values() if c.order_id])
    return list(created.values())


def resolve(*, case_id: int, note: str, actor) -> SettlementCase:
    """Finance marks an open case resolved, saying what was done (the note is required)."""
    note = (note or "").strip()
    if not note:
        raise InvalidInput("対応内容を入力してください。", code="required", field="note")
    at = now()
    actor = Actor.of(actor)
    with transaction.atomic():
        case = SettlementCase.objects.select_for_update().filter(pk=case_id).first()
        if case is None:
            raise NotFound("確認事項が見つかりません。", code="case_not_found")
        if case.status != SettlementCase.Status.OPEN:
            raise Conflict("この確認事項は既に対応済みです。", code="case_already_resolved")
        case.status, case.resolved_at, case.resolved_by, case.resolution = (
            SettlementCase.Status.RESOLVED, at, actor.label, note[:500])
        case.save(update_fields=["status", "resolved_at", "resolved_by", "resolution"])
        if case.order_id:
            events.build_settlement_case(order=case.order_id, kind=OrderEvent.Kind.SETTLEMENT_CASE_RESOLVED,
                                         actor=actor, case_id=case.pk, case_kind=case.kind, at=at).save()
    return case


def close_superseded(case_filter, *, resolution: str, actor, at: datetime) -> int:
    """Resolve open cases a later fact answered (a final report arrived, a correction replaced the
    line) — one UPDATE, by the system."""
    return case_filter.filter(status=SettlementCase.Status.OPEN).update(
        status=SettlementCase.Status.RESOLVED, resolved_at=at, resolved_by=Actor.of(actor).label,
        resolution=resolution)


def list_unsettled(*, at: datetime | None = None, days: int | None = None) -> dict:
    """The daily job: every preliminary report (速報) still without its final report after
    ``KONBINI_SETTLEMENT_DAYS`` business days becomes a finance case (once)."""
    at = at or now()
    days = settings.KONBINI_SETTLEMENT_DAYS if days is None else days
    last_day = business_days.latest_overdue_day(local(at).date(), days)
    cutoff = datetime.combine(last_day, datetime.max.time(), tzinfo=local(at).tzinfo)
    rows = list(PaymentReceipt.objects.filter(status=PaymentReceipt.Status.REPORTED, paid_at__lte=cutoff)
                .values_list("pk", "chain", "paid_at", "amount", "receipt_number", "code__number",
                             "payment__order_id", "payment__amount"))
    with transaction.atomic():
        new = open_cases([
            SettlementCase(kind=K.UNSETTLED, chain=chain, day=local(paid_at).date(), payment_number=number,
                           receipt_number=receipt_number, amount=amount, expected_amount=expected, order_id=order_id,
                           receipt_id=pk, dedupe_key=f"unsettled:{pk}")
            for pk, chain, paid_at, amount, receipt_number, number, order_id, expected in rows], actor=JOB_ACTOR, at=at)
    return {"unsettled": len(rows), "opened": len(new), "paid_on_or_before": last_day.isoformat()}
