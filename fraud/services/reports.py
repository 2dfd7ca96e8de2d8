"""Fraud reports: filing, linking, the per-type checklist and the status machine (SPEC §5).

Lock order everywhere in fraud/: orders → customer → seller → address reputation → report
(shop's services lock an order, then its customer).
Customer, seller, report and reputation rows are locked ``FOR NO KEY UPDATE``: it still
serialises us, but does not block other transactions inserting rows that merely reference
them (a message for the customer, written while that transaction holds an order lock we want).
"""

from __future__ import annotations

from collections.abc import Iterable

from django.db import IntegrityError, transaction
from django.db.models import Q

from backoffice.actors import Actor
from backoffice.errors import Conflict, InvalidInput, join_lazy
from backoffice.timeutil import local, now
from fraud import rules
from fraud.models import OPEN_REPORT_STATUSES, Report, ReportCheck, ReportEvent, ReportPriority, ReportStatus, ReportType
from fraud.services.reputations import reputation
from payments.services import giftcards
from shop.models import Customer, Order, Seller

R = ReportStatus

# The status machine as data: (from, to) → what it means. Anything else is refused.
TRANSITIONS: dict[tuple[str, str], str] = {
    (R.OPEN, R.IN_PROGRESS): "対応開始",
    (R.IN_PROGRESS, R.RESOLVED): "解決",
    (R.IN_PROGRESS, R.DISMISSED): "対応不要として終了",
}


def actor_name(actor) -> str:
    """The actor's label (``backoffice.actors``): ``staff:<username>``, ``system``, ``storefront:…``."""
    return Actor.of(actor).label


def record(report: Report, kind: str, actor, note: str = "", order: Order | None = None) -> ReportEvent:
    """One timeline entry (every action on a report goes through here)."""
    return ReportEvent.objects.create(report=report, at=now(), kind=kind, actor=actor_name(actor)[:100],
                                      note=note[:1000], order=order)


def checklist(report_type: str) -> list[tuple[str, str]]:
    return rules.CHECKLISTS[report_type]


def checklist_state(report: Report) -> list[dict]:
    """Each item of the report's checklist with who completed it, in the fixed order."""
    done = {c.code: c for c in report.checks.all()}
    return [{"code": code, "label": label, "done": code in done,
             "done_by": done[code].done_by if code in done else None,
             "done_at": done[code].done_at if code in done else None}
            for code, label in checklist(report.type)]


# --- filing ---------------------------------------------------------------------------------

def open_report(
    *, type: str, customer: Customer | None = None, orders: Iterable[Order] = (), seller: Seller | None = None,
    description: str = "", actor="system", address_key: str | None = None,
) -> Report:
    """File a report and link it to earlier reports about the same customer, address or seller.

    The subjects (customer, seller, address) are locked first, so that two reports filed at
    the same moment still see each other and the 3rd linked report always raises priority.
    """
    if type not in ReportType.values:
        raise InvalidInput("報告の種別が正しくありません。", code="invalid", field="type")
    orders = list(orders)
    if customer is None and orders:
        customer = orders[0].customer
    if address_key is None:
        address_key = next((o.address_key for o in orders if o.address_key), "")
    with transaction.atomic():
        _lock_subjects(customer, seller, address_key)
        report = Report.objects.create(
            type=type, customer=customer, seller=seller, address_key=address_key, description=description[:5000],
            priority=rules.PRIORITY_BY_TYPE.get(type, ReportPriority.NORMAL),
            filed_by=actor_name(actor)[:100], created_at=now(),
        )
        if orders:
            report.orders.add(*orders)
        numbers = "、".join(o.number for o in orders)
        record(report, "filed", actor, f"{report.get_type_display()}として受付" + (f"（注文 {numbers}）" if numbers else ""))
        _link(report, actor)
    return report


def _lock_subjects(customer: Customer | None, seller: Seller | None, address_key: str) -> None:
    if customer is not None:
        list(Customer.objects.select_for_update(no_key=True).filter(pk=customer.pk).values_list("pk"))
    if seller is not None:
        list(Seller.objects.select_for_update(no_key=True).filter(pk=seller.pk).values_list("pk"))
    if address_key:
        reputation(address_key, lock=True)


def _link(report: Report, actor) -> None:
    subjects = Q()
    if report.customer_id:
        subjects |= Q(customer_id=report.customer_id)
    if report.seller_id:
        subjects |= Q(seller_id=report.seller_id)
    if report.address_key:
        subjects |= Q(address_key=report.address_key)
    if not subjects:
        return
    others = list(Report.objects.filter(subjects).exclude(pk=report.pk).order_by("id"))
    if not others:
        return
    report.linked.add(*others)
    record(report, "linked", "system", "関連する報告: " + "、".join(f"#{o.pk}" for o in others))
    if len(others) + 1 < rules.LINKED_REPORTS_FOR_HIGH_PRIORITY:
        return
    raise_to = [r for r in [report, *others] if r.is_open and r.priority < ReportPriority.HIGH]
    for r in raise_to:
        Report.objects.filter(pk=r.pk).update(priority=ReportPriority.HIGH)
        r.priority = ReportPriority.HIGH
        record(r, "priority_raised", "system",
               f"関連する報告が{len(others) + 1}件になったため優先度を「高」に変更")
    report.refresh_from_db(fields=["priority"])


# --- working on a report --------------------------------------------------------------------

def _locked(report: Report) -> Report:
    return Report.objects.select_for_update(no_key=True).get(pk=report.pk)


def _move(report: Report, to_status: str, actor, note: str = "") -> None:
    if (report.status, to_status) not in TRANSITIONS:
        raise Conflict(
            "報告の状態を「%(from)s」から「%(to)s」に変更できません。",
            params={"from": R(report.status).label, "to": R(to_status).label},
            code="invalid_transition",
        )
    from_label = R(report.status).label
    report.status = to_status
    fields = ["status"]
    if to_status in (R.RESOLVED, R.DISMISSED):
        report.closed_at = now()
        report.resolution = note[:500]
        fields += ["closed_at", "resolution"]
    report.save(update_fields=fields)
    record(report, "status_changed", actor, f"{from_label} → {R(to_status).label}" + (f"：{note}" if note else ""))


def start(report: Report, *, actor, assignee=None) -> Report:
    """open → in progress; the starting staff member becomes the assignee unless one is set."""
    with transaction.atomic():
        report = _locked(report)
        _move(report, R.IN_PROGRESS, actor)
        user = assignee if assignee is not None else (None if isinstance(actor, str) else actor)
        if report.assignee_id is None and user is not None:
            _assign(report, user, actor)
    return report


def assign(report: Report, *, assignee, actor) -> Report:
    with transaction.atomic():
        report = _locked(report)
        if not report.is_open:
            raise Conflict("完了した報告の担当者は変更できません。", code="report_closed")
        _assign(report, assignee, actor)
    return report


def _assign(report: Report, user, actor) -> None:
    report.assignee = user
    report.save(update_fields=["assignee"])
    record(report, "assigned", actor, f"担当者: {user.get_username()}")


def add_note(report: Report, *, note: str, actor) -> ReportEvent:
    if not note or not note.strip():
        raise InvalidInput("メモを入力してください。", code="required", field="note")
    return record(report, "note", actor, note.strip())


def _check_label(report: Report, code: str) -> str:
    """The label of one item of the report's checklist; an item not on it is refused."""
    label = dict(checklist(report.type)).get(code)
    if label is None:
        raise InvalidInput("この報告のチェックリストにない項目です。", code="unknown_check_item", field="code")
    return label


def _locked_open_checklist(report: Report) -> Report:
    """The report locked, refused once it is closed: its checklist no longer changes."""
    report = _locked(report)
    if not report.is_open:
        raise Conflict("完了した報告のチェックリストは変更できません。", code="report_closed")
    return report


def complete_check(report: Report, *, code: str, actor) -> ReportCheck:
    """Tick one item of the report's checklist (once; a second tick keeps the first)."""
    label = _check_label(report, code)
    with transaction.atomic():
        report = _locked_open_checklist(report)
        existing = ReportCheck.objects.filter(report=report, code=code).first()
        if existing is not None:
            return existing
        try:
            with transaction.atomic():
                check = ReportCheck.objects.create(report=report, code=code, done_by=actor_name(actor)[:100],
                                                   done_at=now())
        except IntegrityError:
            return ReportCheck.objects.get(report=report, code=code)
        record(report, "check_completed", actor, f"チェック完了: {label}")
    return check


def undo_check(report: Report, *, code: str, actor, reason: str) -> None:
    """Un-tick one completed item of an open report's checklist (a tick made by mistake). The
    timeline keeps both: who ticked it when, and who undid it, when and why."""
    label = _check_label(report, code)
    if not isinstance(reason, str) or not reason.strip():
        raise InvalidInput("理由を入力してください。", code="required", field="note")
    with transaction.atomic():
        report = _locked_open_checklist(report)
        check = ReportCheck.objects.filter(report=report, code=code).first()
        if check is None:
            raise Conflict("この項目はまだ完了していないため、取り消せません。", code="check_not_done", field="code")
        check.delete()
        record(report, "check_undone", actor,
               f"チェック取り消し: {label}（{check.done_by} が {local(check.done_at):%Y-%m-%d %H:%M} に完了）"
               f"：{reason.strip()}")


def missing_checks(report: Report) -> list[str]:
    done = set(ReportCheck.objects.filter(report=report).values_list("code", flat=True))
    return [code for code, _ in checklist(report.type) if code not in done]


def resolve(report: Report, *, actor, note: str = "") -> Report:
    """in progress → resolved, only once every checklist item of its type is complete."""
    return _close(report, R.RESOLVED, actor=actor, note=note)


def dismiss(report: Report, *, actor, note: str) -> Report:
    """in progress → dismissed (not fraud, duplicate...). The reason is required."""
    if not note or not note.strip():
        raise InvalidInput("対応不要とする理由を入力してください。", code="required", field="note")
    return _close(report, R.DISMISSED, actor=actor, note=note.strip())


def _close(report: Report, to_status: str, *, actor, note: str) -> Report:
    with transaction.atomic():
        if report.customer_id:
            list(Customer.objects.select_for_update(no_key=True).filter(pk=report.customer_id).values_list("pk"))
        report = _locked(report)
        if to_status == R.RESOLVED and report.status == R.IN_PROGRESS:
            missing = missing_checks(report)
            if missing:
                labels = dict(checklist(report.type))
                raise Conflict(
                    "チェックリストが完了していません: %(items)s",
                    params={"items": join_lazy([labels[c] for c in missing], "、")},
                    code="checklist_incomplete", reasons=missing,
                )
        _move(report, to_status, actor, note)
        if report.gift_card_frozen:
            _release_gift_card(report, actor=actor)
    return report


def _release_gift_card(report: Report, *, actor) -> None:
    """The report closed: unfreeze the balance the playbook froze (``playbook.secure_account``)
    unless another open report still holds it. Runs inside ``_close`` with customer and report locked."""
    Report.objects.filter(pk=report.pk).update(gift_card_frozen=False)
    report.gift_card_frozen = False
    still_held = open_reports_of(report.customer).filter(gift_card_frozen=True).exclude(pk=report.pk)
    if still_held.exists():
        record(report, "gift_card_still_frozen", actor, "他の未完了の報告があるためギフト券残高の凍結を継続")
        return
    giftcards.set_frozen(customer=report.customer, frozen=False)
    record(report, "gift_card_unfrozen", actor, "報告の完了によりギフト券残高の凍結を解除")


def open_reports_of(customer: Customer):
    return Report.objects.filter(customer=customer, status__in=OPEN_REPORT_STATUSES)


def for_order(order: Order, *, type: str | None = None):
    qs = Report.objects.filter(orders=order)
    return qs.filter(type=type) if type else qs
