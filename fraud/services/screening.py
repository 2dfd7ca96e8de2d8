"""Screening at order placement (SPEC §5): the address check and the risk score. Called by
``shop.services.orders.place``, which owns the orchestration: screening returns a verdict (the
``Assessment``: score, fired rules, hold, reject) and placement acts on it — it cancels a
rejected order itself, so this module never calls back into the order services.

    screen_address()    before anything is written: address key, Japan Post check, COD refusals
    assess()            inside placement's transaction, before the order row exists: the verdict
    settle()            right after the order is created: timeline, the review report when held
    record_rejection()  after placement cancelled a rejected order: the report's timeline
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field

from django.db import connection
from django.db.models import Count

from backoffice.timeutil import now
from fraud import rules
from fraud.models import OPEN_REPORT_STATUSES, CodRefusal, LoginEvent, Report, ReportType, RiskRule
from fraud.services import addresses, reports
from fraud.services.addresses import AddressScreen
from shop import events
from shop.models import Customer, Order, PaymentMethod

screen_address = addresses.screen


@dataclass
class Assessment:
    score: int = 0
    fired: list[dict] = field(default_factory=list)  # [{code, description, weight}] as shown to staff
    hold_rules: list[str] = field(default_factory=list)  # rules that hold the order whatever the score

    @property
    def reject(self) -> bool:
        return self.score >= rules.RISK_REJECT_AT

    @property
    def hold(self) -> bool:
        return self.reject or self.score >= rules.RISK_HOLD_AT or bool(self.hold_rules)

    def in_words(self) -> str:
        return "、".join(f"{f['description']}（+{f['weight']}）" for f in self.fired) or "該当なし"


def assess(*, customer: Customer, total: int, payment_method: str, address: AddressScreen, digital: bool) -> Assessment:
    """Score a new order 0–100 from the enabled rules and their staff-edited weights.

    Runs inside the placement transaction, whose caller has already locked the customer row
    (``customers.upsert(lock=True)``: a customer's orders are scored one at a time, so velocity
    counts are exact); a COD order also locks its address's reputation row, so the
    address-velocity hold cannot be raced past. Lock first, then read: in PostgreSQL a statement
    that waited for a row lock still reads with the snapshot it started with, so the counts come
    from this later statement, never from the locking one.
    """
    at = now()
    facts = _facts(customer, address.key, at)
    conditions = {
        "new_device_24h": facts["new_device"],
        "new_address": bool(address.key) and not digital and not facts["known_address"],  # digital: nothing shipped
        "cod": payment_method == PaymentMethod.COD,
        "high_value": total > rules.HIGH_VALUE_TOTAL,
        "address_unverified": bool(address.key) and not address.verified,
        "address_cod_refusals": bool(address.key) and facts["cod_refusals"],
        "order_velocity": (facts["recent_orders"] or 0) >= rules.ORDER_VELOCITY_COUNT,
        "open_report": facts["open_report"],
        "digital_new_device": digital and facts["new_device"],
    }
    result = Assessment()
    met = [code for code, holds in conditions.items() if holds]
    if met:  # the weights are read only when some condition holds (most orders: none)
        for rule in RiskRule.objects.filter(enabled=True, code__in=met).order_by("code"):
            result.fired.append({"code": rule.code, "description": rule.description, "weight": rule.weight})
        result.fired.sort(key=lambda f: met.index(f["code"]))
    result.score = min(rules.RISK_MAX, sum(f["weight"] for f in result.fired))
    if payment_method == PaymentMethod.COD and address.key and _cod_address_busy(address.key):
        code, description = rules.COD_ADDRESS_VELOCITY_RULE
        result.hold_rules.append(code)
        result.fired.append({"code": code, "description": description, "weight": 0})
    return result


_FACTS_SQL = """
SELECT
    EXISTS (SELECT 1 FROM {login} WHERE customer_id = %(customer)s AND new_device
            AND occurred_at > %(device_since)s AND occurred_at <= %(at)s),
    EXISTS (SELECT 1 FROM {order} WHERE customer_id = %(customer)s AND address_key = %(key)s),
    EXISTS (SELECT 1 FROM {refusal} WHERE address_key = %(key)s
            AND refused_at > %(refusal_since)s AND refused_at <= %(at)s),
    (SELECT COUNT(*) FROM {order} WHERE customer_id = %(customer)s
            AND placed_at > %(velocity_since)s AND placed_at <= %(at)s),
    EXISTS (SELECT 1 FROM {report} WHERE customer_id = %(customer)s AND status IN (%(open)s, %(in_progress)s)
            AND type <> %(risk_review)s)
"""
_FACT_NAMES = ("new_device", "known_address", "cod_refusals", "recent_orders", "open_report")


@functools.cache
def _facts_sql() -> str:
    return _FACTS_SQL.format(login=LoginEvent._meta.db_table, order=Order._meta.db_table,
                             refusal=CodRefusal._meta.db_table, report=Report._meta.db_table)


def _facts(customer: Customer, key: str, at) -> dict:
    """Everything the rules ask about the customer, in one query (the caller holds its lock).
    Written out: the ORM took longer to compile this query than the database to run it."""
    when = Order._meta.get_field("placed_at")

    def moment(value):
        return when.get_db_prep_value(value, connection)

    open_, in_progress = OPEN_REPORT_STATUSES
    params = {
        "customer": customer.pk, "key": key, "at": moment(at),
        "device_since": moment(at - rules.NEW_DEVICE_WINDOW), "refusal_since": moment(at - rules.COD_REFUSAL_WINDOW),
        "velocity_since": moment(at - rules.ORDER_VELOCITY_WINDOW),
        "open": open_, "in_progress": in_progress, "risk_review": ReportType.RISK_REVIEW,
    }
    with connection.cursor() as cursor:
        cursor.execute(_facts_sql(), params)
        row = cursor.fetchone()
    facts = dict(zip(_FACT_NAMES, row, strict=True))
    return {name: bool(value) if name != "recent_orders" else value for name, value in facts.items()}


def _cod_address_busy(key: str) -> bool:
    """SPEC §5: 3 COD orders to one address from 2+ customers within 24 h hold further ones.
    The address's reputation row lock serialises COD placements to one address."""
    addresses.reputation(key, lock=True)
    at = now()
    seen = Order.objects.filter(
        address_key=key, payment_method=PaymentMethod.COD,
        placed_at__gt=at - rules.COD_ADDRESS_VELOCITY_WINDOW, placed_at__lte=at,
    ).aggregate(orders=Count("id"), customers=Count("customer", distinct=True))
    return (seen["orders"] >= rules.COD_ADDRESS_VELOCITY_ORDERS
            and seen["customers"] >= rules.COD_ADDRESS_VELOCITY_CUSTOMERS)


def order_fields(assessment: Assessment) -> dict:
    return {"risk_score": assessment.score, "risk_rules": assessment.fired}


def settle(order: Order, assessment: Assessment, *, actor: str) -> Report | None:
    """After the order row exists (status ``on_hold`` when held): put the score on the timeline
    and open the ``risk_review`` report. Returns the report (None when nothing holds the order).
    A rejected order (≥ 90) is cancelled by the caller, then ``record_rejection`` is called."""
    if assessment.fired:
        events.risk_assessed(order=order, score=assessment.score, fired=assessment.fired)
    if not assessment.hold:
        return None
    verdict = "自動却下" if assessment.reject else "審査のため保留"
    return reports.open_report(
        type=ReportType.RISK_REVIEW, customer=order.customer, orders=[order], actor="system",
        description=f"注文 {order.number}：リスクスコア {assessment.score}（{verdict}）\n{assessment.in_words()}",
    )


def record_rejection(report: Report, order: Order, assessment: Assessment) -> None:
    """The rejected order is cancelled: say so on its review report and decide the report's check."""
    reports.record(report, "order_rejected", "system",
                   f"リスクスコア {assessment.score} のため注文 {order.number} を自動キャンセル", order=order)
    reports.complete_check(report, code="decided_order", actor="system")


def install_default_rules() -> int:
    """Add any rule of ``rules.DEFAULT_RISK_RULES`` missing from the table (weights staff
    edited are kept). The data migration does the same at install time. Returns how many."""
    added = 0
    for code, (description, weight) in rules.DEFAULT_RISK_RULES.items():
        _, created = RiskRule.objects.get_or_create(code=code, defaults={"description": description, "weight": weight})
        added += created
    return added
