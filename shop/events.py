"""Order timeline events: one builder per kind, a bulk form for batches, words at read time.

Saleor's ``order/events.py`` builds each kind in one function; Django's ``LogEntry`` keeps the
change as data and translates it when shown. Here every builder takes the actor
(``backoffice.actors.Actor``, or a label) and keyword details, stores the details as ``params``,
and ``describe`` turns them into the current language's words. ``build`` makes an unsaved row
(the cancellation core and the confirmation's single statement insert rows built by the same
code), ``bulk`` inserts many in one statement.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from backoffice import bulksql
from backoffice.actors import Actor
from backoffice.timeutil import local, now
from payments import gateway_errors
from payments.konbini.chains import CHAINS
from payments.konbini.models import SettlementCase
from payments.models import Refund
from shop.models import CancellationReason, Order, OrderEvent, OrderStatus, PaymentMethod

K = OrderEvent.Kind
STATUS_CHANGED = K.STATUS_CHANGED
NOTE_MAX_LENGTH = OrderEvent._meta.get_field("note").max_length


def build(*, order: Order | int, kind: str, actor, params: dict | None = None, note: str = "",
          from_status: str = "", to_status: str = "", at: datetime | None = None) -> OrderEvent:
    """The unsaved row of one event (``order`` an order or its id)."""
    order_id = order if isinstance(order, int) else order.pk
    return OrderEvent(order_id=order_id, at=at or now(), kind=K(kind), params=params or {},
                      note=(note or "")[:NOTE_MAX_LENGTH], from_status=from_status, to_status=to_status,
                      **Actor.of(actor).fields())


def bulk(rows: list[OrderEvent]) -> list[OrderEvent]:
    return OrderEvent.objects.bulk_create(rows) if rows else []


def _save(**fields) -> OrderEvent:
    event = build(**fields)
    event.save(force_insert=True)
    return event


# --- builders, one per kind -----------------------------------------------------------------------

def build_status_changed(*, order: Order | int, from_status: str, to_status: str, actor, cause: str = "",
                         note: str = "", at: datetime | None = None, **details) -> OrderEvent:
    """``cause`` says why (a key of ``_STATUS_CAUSES``; a cancellation's cause is its reason)."""
    return build(order=order, kind=K.STATUS_CHANGED, actor=actor, note=note, from_status=from_status,
                 to_status=to_status, at=at, params={"cause": cause, **details} if cause or details else {})


def insert_cancelled_many(orders: list[tuple[int, str]], *, reason: str, actor, note: str = "",
                          at: datetime | None = None, details: dict | None = None,
                          details_of: dict[int, dict] | None = None) -> int:
    """``status_changed`` to ``cancelled`` for a batch of (order id, from status), in one
    statement: the actor's columns and the shared details computed once (an expiry batch has a
    thousand); ``details_of`` adds an order's own details (a parcel's inquiry number)."""
    shared = {"cause": str(reason), **(details or {})}
    details_of = details_of or {}
    params = ([{**shared, **details_of.get(order_id, {})} for order_id, _ in orders] if details_of
              else bulksql.same(shared))
    return insert_many(K.STATUS_CHANGED, [order_id for order_id, _ in orders], actor=actor, at=at, note=note,
                       params=params, from_status=[status for _, status in orders], to_status=OrderStatus.CANCELLED)


def insert_many(kind: str, order_ids: list[int], *, actor, at: datetime | None = None, note: str = "",
                params=None, from_status="", to_status="") -> int:
    """Events of one kind for many orders in one statement (``backoffice.bulksql``): ``params``,
    ``from_status`` and ``to_status`` are one value for all or a list, one per order."""
    if not order_ids:
        return 0
    return bulksql.insert(OrderEvent, {
        "order_id": list(order_ids), "at": at or now(), "kind": K(kind), "note": (note or "")[:NOTE_MAX_LENGTH],
        "params": bulksql.same({}) if params is None else params, "from_status": from_status,
        "to_status": to_status, **Actor.of(actor).fields()})


def status_changed(**fields) -> OrderEvent:
    event = build_status_changed(**fields)
    event.save(force_insert=True)
    return event


def placed(*, order: Order, actor) -> OrderEvent:
    return _save(order=order, kind=K.PLACED, actor=actor, to_status=order.status,
                 params={"method": order.payment_method, "total": order.total})


def risk_assessed(*, order: Order, score: int, fired: list[dict]) -> OrderEvent:
    return _save(order=order, kind=K.RISK_ASSESSED, actor=Actor.system(), params={
        "score": score, "rules": [{"description": f["description"], "weight": f["weight"]} for f in fired]})


def konbini_code_issued(*, order: Order, actor, chain: str, number: str, replaced_chain: str = "") -> OrderEvent:
    return _save(order=order, kind=K.KONBINI_CODE_ISSUED, actor=actor,
                 params={"chain": chain, "number": number, "replaced_chain": replaced_chain})


def build_konbini_code_voided(*, order: Order | int, actor, chain: str, number: str,
                              at: datetime | None = None) -> OrderEvent:
    return build(order=order, kind=K.KONBINI_CODE_VOIDED, actor=actor, at=at, params={"chain": chain, "number": number})


def konbini_code_voided(**fields) -> OrderEvent:
    event = build_konbini_code_voided(**fields)
    event.save(force_insert=True)
    return event


def build_refund(*, order: Order | int, kind: str, actor, refund_id: int, at: datetime | None = None,
                 **details) -> OrderEvent:
    """Every ``refund_*`` kind: the refund's id plus what that step knows (amount, method, error...)."""
    if not kind.startswith("refund_"):
        raise ValueError(kind)
    return build(order=order, kind=kind, actor=actor, at=at, params={"refund": refund_id, **details})


def refund(**fields) -> OrderEvent:
    event = build_refund(**fields)
    event.save(force_insert=True)
    return event


def pickup(*, order: Order, kind: str, actor, **details) -> OrderEvent:
    """Every ``pickup_*`` kind and ``parcel_returned``."""
    if not (kind.startswith("pickup_") or kind == K.PARCEL_RETURNED):
        raise ValueError(kind)
    for key, value in details.items():
        if isinstance(value, datetime):
            details[key] = value.isoformat()
    return _save(order=order, kind=kind, actor=actor, params=details)


def build_konbini_settled(*, order: Order | int, actor, chain: str, receipt_number: str, settlement_date: str,
                          amount: int, at: datetime | None = None) -> OrderEvent:
    """The chain's final report (確報) settled the payment (issue 14)."""
    return build(order=order, kind=K.KONBINI_SETTLED, actor=actor, at=at, params={
        "chain": chain, "receipt_number": receipt_number, "settlement_date": settlement_date, "amount": amount})


def insert_konbini_settled_many(rows, *, actor, chain: str, settlement_date: str, at: datetime) -> int:
    """``build_konbini_settled`` for a report's (order id, receipt number, amount), in one statement
    (``insert_many``): the builder makes one event and only its order and params vary, so a day's
    hundred thousand settlements cost no model instance each."""
    template = build_konbini_settled(order=0, actor=actor, chain=chain, receipt_number="",
                                     settlement_date=settlement_date, amount=0, at=at)
    return insert_many(template.kind, [order_id for order_id, _, _ in rows], actor=actor, at=at, params=[
        {**template.params, "receipt_number": receipt_number, "amount": amount} for _, receipt_number, amount in rows])


def build_konbini_settlement_reversed(*, order: Order | int, actor, chain: str, receipt_number: str,
                                      settlement_date: str, at: datetime | None = None) -> OrderEvent:
    """A correction (訂正) of the final report no longer lists the payment: it is not settled any more."""
    return build(order=order, kind=K.KONBINI_SETTLEMENT_REVERSED, actor=actor, at=at, params={
        "chain": chain, "receipt_number": receipt_number, "settlement_date": settlement_date})


def konbini_preliminary_cancelled(*, order: Order | int, actor, chain: str, receipt_number: str, amount: int,
                                  shipped: bool, at: datetime | None = None) -> OrderEvent:
    """The register voided the sale (速報取消); ``shipped``: the goods had left (a finance case)."""
    event = build(order=order, kind=K.KONBINI_PRELIMINARY_CANCELLED, actor=actor, at=at, params={
        "chain": chain, "receipt_number": receipt_number, "amount": amount, "shipped": shipped})
    event.save(force_insert=True)
    return event


def build_settlement_case(*, order: Order | int, kind: str, actor, case_id: int, case_kind: str,
                          at: datetime | None = None, **details) -> OrderEvent:
    """A finance case about the order's konbini money was opened or resolved (``kind``)."""
    if kind not in (K.SETTLEMENT_CASE_OPENED, K.SETTLEMENT_CASE_RESOLVED):
        raise ValueError(kind)
    return build(order=order, kind=kind, actor=actor, at=at, params={"case": case_id, "case_kind": case_kind,
                                                                      **details})


# --- words, at read time ---------------------------------------------------------------------------

_STATUS_CAUSES = {
    "digital_delivery": gettext_lazy("デジタル商品の提供開始"),
    "review_approved": gettext_lazy("審査承認"),
    "card_captured": gettext_lazy("カード決済完了"),
    "shipped": gettext_lazy("伝票番号 %(tracking_number)s"),
    "delivered": gettext_lazy("配達完了（%(location)s）"),
    "arrived_at_store": gettext_lazy("%(store)sに到着（受取可能）"),
    "picked_up": gettext_lazy("%(store)sで受取（申し込み券 %(ticket)s）"),
    "konbini_paid": gettext_lazy("コンビニ入金 %(chain_name)s 店舗%(store_code)s レシート%(receipt_number)s"),
    "konbini_paid_late": gettext_lazy(
        "コンビニ入金 %(chain_name)s 店舗%(store_code)s レシート%(receipt_number)s（期限後の猶予内）"),
    "konbini_paid_by_settlement": gettext_lazy(
        "コンビニ入金 %(chain_name)s レシート%(receipt_number)s（速報なし、%(settlement_date)sの確報で記録）"),
    "konbini_preliminary_cancelled": gettext_lazy(
        "速報取消 %(chain_name)s レシート%(receipt_number)s：同じお支払い番号で再び支払い待ち"),
}
# Details a cancellation may carry, in the order they are shown.
_CANCEL_DETAILS = (
    ("location", gettext_lazy("場所：%(location)s")),
    ("inquiry_number", gettext_lazy("荷物 %(inquiry_number)s を返送、認証キー無効（手数料なし）")),
    ("report", gettext_lazy("不正報告 #%(report)s")),
    ("score", gettext_lazy("リスクスコア %(score)s")),
    ("payment_failure_text", "%(payment_failure_text)s"),
    ("gateway_code", "%(gateway_error_text)s（%(gateway_code)s）"),
)
# Why a card payment did not go through (a ``payment_failed`` cancellation's detail).
_PAYMENT_FAILURES = {
    "declined": gettext_lazy("カードが承認されませんでした"),
    "failed": gettext_lazy("カード決済ができませんでした"),
    "no_answer": gettext_lazy("決済サービスの応答がありませんでした"),
    "not_recorded": gettext_lazy("決済の記録に失敗しました"),
    "abandoned": gettext_lazy("カード決済が完了しないまま中断されました"),
}
_TEXTS = {
    K.PLACED: gettext_lazy("%(method_label)s %(total)s円"),
    K.KONBINI_CODE_VOIDED: gettext_lazy("%(chain_name)s %(number)s を無効化"),
    K.REFUND_REQUESTED: gettext_lazy("返金#%(refund)s 受付 %(amount)s円（%(method_label)s）"),
    K.REFUND_PROCESSING: gettext_lazy("返金#%(refund)s 処理開始（%(method_label)s）"),
    K.REFUND_AWAITING_TRANSFER: gettext_lazy("返金#%(refund)s 銀行振込待ち（次回の振込データに含まれます）"),
    K.REFUND_BATCHED: gettext_lazy("返金#%(refund)s 振込データ作成（%(batch)s、振込指定日 %(transfer_date)s）"),
    K.REFUND_UNBATCHED: gettext_lazy("返金#%(refund)s %(batch)sの取り消しにより振込待ちに戻りました"),
    K.REFUND_RETRY_SCHEDULED: gettext_lazy(
        "返金#%(refund)s 一時的なエラー（%(attempts)s回目）。%(retry_in)s秒後に再試行します。"),
    K.REFUND_SUCCEEDED: gettext_lazy("返金#%(refund)s 完了 %(amount)s円（%(method_label)s）"),
    K.REFUND_FAILED: gettext_lazy(
        "返金#%(refund)s 失敗（%(attempts)s回試行）: %(error_text)s（%(error_code)s）。返金失敗キューに入りました。"),
    K.PICKUP_NOTICE_SENT: gettext_lazy("受取可能のお知らせを送信（受取期限 %(deadline_local)s）"),
    K.PICKUP_NOTICE_RESENT: gettext_lazy("受取可能のお知らせを再送"),
    K.PICKUP_REMINDER_SENT: gettext_lazy("受取期限のリマインドを送信"),
    K.PICKUP_LOCKED: gettext_lazy("受取端末で%(failures)s回続けて認証に失敗したため荷物をロック"),
    K.PICKUP_UNLOCKED: gettext_lazy("受取端末のロックを解除"),
    K.PARCEL_RETURNED: gettext_lazy("返送完了（%(location)s）"),
    K.KONBINI_SETTLED: gettext_lazy(
        "%(chain_name)s %(settlement_date)sの確報で入金確定 %(amount)s円（レシート%(receipt_number)s）"),
    K.KONBINI_SETTLEMENT_REVERSED: gettext_lazy(
        "%(chain_name)s %(settlement_date)sの確報の訂正でレシート%(receipt_number)sが削除され、入金確定を取り消し"),
    K.SETTLEMENT_CASE_RESOLVED: gettext_lazy("入金照合の確認事項#%(case)s（%(case_kind_label)s）に対応済み"),
}


_CASE_KINDS = dict(SettlementCase.Kind.choices)
_METHOD_LABELS = {**dict(Refund.Method.choices), **dict(PaymentMethod.choices)}


def _method_label(code: str) -> str:
    return str(_METHOD_LABELS.get(code, code))


def _chain_name(code: str) -> str:
    chain = CHAINS.get(code)
    return chain.name if chain else code


def _values(params: dict) -> defaultdict:
    values = defaultdict(str, params)
    for key in ("total", "amount"):
        if isinstance(params.get(key), int):
            values[key] = f"{params[key]:,}"
    if "method" in params:
        values["method_label"] = _method_label(params["method"])
    if "chain" in params:
        values["chain_name"] = _chain_name(params["chain"])
    if params.get("payment_failure") in _PAYMENT_FAILURES:
        values["payment_failure_text"] = str(_PAYMENT_FAILURES[params["payment_failure"]])
    if "error" in params or "error_code" in params:  # a card gateway failure, in words (one table)
        values["error_text"] = str(gateway_errors.describe(params.get("error_code", "")).message)
        values["error_code"] = gateway_errors.quoted(params.get("error_code", ""), params.get("error", ""))
    if params.get("gateway_code"):  # a capture's failure (a payment_failed cancellation)
        values["gateway_error_text"] = str(gateway_errors.describe(params["gateway_code"]).message)
    if "case_kind" in params:
        values["case_kind_label"] = str(_CASE_KINDS.get(params["case_kind"], params["case_kind"]))
    if params.get("deadline"):
        values["deadline_local"] = f"{local(datetime.fromisoformat(params['deadline'])):%Y-%m-%d %H:%M}"
    return values


def describe(event: OrderEvent) -> str:
    """The event's details in the active language (the note a person typed is shown apart)."""
    params = event.params or {}
    values = _values(params)
    kind = event.kind
    if kind == K.STATUS_CHANGED:
        cause = params.get("cause", "")
        if event.to_status == OrderStatus.CANCELLED and cause in CancellationReason.values:
            parts = [_("理由：%(reason)s") % {"reason": CancellationReason(cause).label}]
            parts += [str(text) % values for key, text in _CANCEL_DETAILS if values.get(key) not in (None, "")]
            return _("、").join(parts)
        text = _STATUS_CAUSES.get(cause)
        return str(text) % values if text else ""
    if kind == K.RISK_ASSESSED:
        rules = "、".join(f"{r['description']}（+{r['weight']}）" for r in params.get("rules", [])) or _("該当なし")
        return _("リスクスコア %(score)s：%(rules)s") % {"score": params.get("score", 0), "rules": rules}
    if kind == K.KONBINI_CODE_ISSUED:
        text = _("%(chain_name)s のお支払い番号 %(number)s を発行") % values
        if params.get("replaced_chain"):
            text += _("（%(chain)sの番号は無効化）") % {"chain": _chain_name(params["replaced_chain"])}
        return text
    if kind == K.KONBINI_PRELIMINARY_CANCELLED:
        text = _("速報取消 %(chain_name)s レシート%(receipt_number)s %(amount)s円") % values
        if params.get("shipped"):
            text += _("（発送後のため経理の確認事項）")
        return text
    if kind == K.SETTLEMENT_CASE_OPENED:
        return _("入金照合の確認事項#%(case)s：%(case_kind_label)s") % values
    if kind == K.REFUND_RETRIED:
        text = _("返金#%(refund)s 再試行") % values
        if params.get("from_method"):
            text += f"（{_method_label(params['from_method'])} → {_method_label(params['method'])}）"
        return text
    if kind == K.PICKUP_ARRIVAL_IGNORED:
        if params.get("reported_store") is not None:
            return _("店舗到着の報告を記録（店舗コード「%(reported_store)s」が受取店舗 %(store)s と一致しないため変更なし）") % {
                "reported_store": params["reported_store"] or _("未指定"), "store": params.get("store", "")}
        return _("店舗到着の報告を記録（状態「%(status)s」のため変更なし）") % {
            "status": OrderStatus(params["status"]).label if params.get("status") in OrderStatus.values else ""}
    text = _TEXTS.get(kind)
    return str(text) % values if text else ""
