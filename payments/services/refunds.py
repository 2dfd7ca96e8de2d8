"""Refunds that run exactly once (SPEC §3).

``request`` reserves the amount on the payment with a conditional update (never more than
captured − refunded, under any concurrency) and creates the refund once per cause (a unique
constraint on (order, cause)); ``process`` runs in Celery after commit, holds the refund's row
lock while it moves the money, and does nothing for a refund that is already final, so a
redelivered or concurrent duplicate task is harmless. Card refunds also carry an idempotency
key to the gateway.

Status: ``requested → processing → succeeded | failed``; every step is on the order timeline.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import timedelta

from django.db import IntegrityError, transaction
from django.db.models import Case, F, Q, Sum, Value, When

from backoffice import bulksql, outbox
from backoffice.errors import Conflict, InvalidInput, NotFound
from backoffice.timeutil import now
from payments import gateway_errors
from payments.gateway import GatewayError, get_gateway
from payments.models import GiftCardEntry, Payment, Refund, Return, ReturnLine
from payments.services import giftcards
from shop import events
from shop.models import Customer, Order, OrderStatus, PaymentMethod
from shop.services import messages
from webhooks.emit import emit

# Transient gateway failures are retried with exponential backoff: 1, 2, 4, 8 minutes, then the
# refund is failed into the staff queue (SPEC §3; seed 002: the refund mail came about 2 h after
# the call, so a quarter of an hour of retries stays well inside what customers expect).
MAX_ATTEMPTS = 5
RETRY_BASE_SECONDS = 60
# The sweep re-enqueues refunds whose task was lost: requested for longer than STUCK_REQUESTED,
# or processing (card/gift card) longer than STUCK_PROCESSING (longer than the whole backoff).
STUCK_REQUESTED = timedelta(minutes=10)
STUCK_PROCESSING = timedelta(minutes=30)
# The cause of the refund of a cancelled order (one per order, see ``request``).
CANCEL_CAUSE = "cancel"

S = Refund.Status
M = Refund.Method
FINAL = (S.SUCCEEDED, S.FAILED)

# The refund state machine: status → the statuses it may move to, and the timeline event kind
# of arriving there. ``failed → requested`` is the staff retry from the failed-refunds queue.
TRANSITIONS: dict[str, frozenset[str]] = {
    S.REQUESTED: frozenset({S.PROCESSING}),
    S.PROCESSING: frozenset({S.SUCCEEDED, S.FAILED}),
    S.FAILED: frozenset({S.REQUESTED}),
    S.SUCCEEDED: frozenset(),
}
_ARRIVAL_EVENT = {S.PROCESSING: "refund_processing", S.SUCCEEDED: "refund_succeeded", S.FAILED: "refund_failed",
                  S.REQUESTED: "refund_retried"}


def transition(refund: Refund, to: str, *, actor, **details) -> None:
    """Apply one status change to a locked refund (the caller saves it) and put it on the order
    timeline with ``details``; anything the table does not allow is refused."""
    if to not in TRANSITIONS[refund.status]:
        raise Conflict("返金の状態を「%(status)s」から変更できません。", params={"status": Refund.Status(refund.status).label},
                       code="refund_invalid_transition")
    refund.status, refund.updated_at = to, now()
    events.refund(order=refund.order_id, kind=_ARRIVAL_EVENT[to], actor=actor, refund_id=refund.pk, **details)
    if to in FINAL:
        emit(f"refund.{to}", [refund.pk])


# --- requesting -------------------------------------------------------------------------------

def method_for(payment: Payment) -> str:
    """Card → the card; gift card → the balance; konbini cash and COD → the customer's choice:
    bank transfer if they registered an account for refunds, else the gift-card balance (default)."""
    return methods_for([payment])[payment.pk]


_CUSTOMERS_CHOICE = (PaymentMethod.KONBINI, PaymentMethod.COD)


def methods_for(payments: Iterable[Payment]) -> dict[int, str]:
    """``method_for`` of many payments, by payment id: one query for all the konbini / COD ones
    (the customers who chose bank transfer), none otherwise; the orders are not loaded."""
    payments = list(payments)
    asking = [p.order_id for p in payments if p.method in _CUSTOMERS_CHOICE]
    to_bank = set(
        Order.objects.filter(pk__in=asking, customer__bank_account__use_for_refunds=True).values_list("pk", flat=True)
    ) if asking else set()
    return {
        p.pk: M.CARD if p.method == PaymentMethod.CARD
        else M.BANK_TRANSFER if p.method in _CUSTOMERS_CHOICE and p.order_id in to_bank
        else M.GIFT_CARD
        for p in payments
    }


def _refuse_gift_card_of_closed_account(order: Order) -> None:
    """Seed 003: a closed account's gift-card balance is forfeited and cannot be used again, so a
    refund must not land there (it would be money the customer can never reach)."""
    # Under the customer row lock the closure takes too: a closure committing meanwhile is seen.
    if Customer.objects.select_for_update(no_key=True).filter(pk=order.customer_id, closed_at__isnull=False).exists():
        raise Conflict("退会済みのお客様のギフト券残高には返金できません。カードへの返金か、個別のご対応が必要です。",
                       code="refund_to_closed_account")


def request(*, order: Order, amount: int, cause: str, reason: str, actor: str) -> Refund:
    """Create the refund for ``cause`` once; a repeated request returns the first refund.

    Refused with ``refund_exceeds_captured`` (nothing written) when ``amount`` is more than what
    is still refundable, whatever runs concurrently."""
    if not isinstance(amount, int) or isinstance(amount, bool) or amount < 1:
        raise InvalidInput("返金額は1円以上の整数で指定してください。", code="invalid_amount", field="amount")
    with transaction.atomic():
        existing = Refund.objects.filter(order=order, cause=cause).first()
        if existing is not None:
            return existing
        payment = Payment.objects.select_related("order").get(order=order)
        method = method_for(payment)
        if method == M.GIFT_CARD:
            _refuse_gift_card_of_closed_account(order)
        try:
            with transaction.atomic():
                [refund] = request_many([RefundRequest(order.pk, payment.pk, amount, method)], cause=cause,
                                        reason=reason, actor=actor)
        except IntegrityError:  # the same cause, requested concurrently: the first one stands
            return Refund.objects.get(order=order, cause=cause)
    return refund


@dataclass(frozen=True)
class RefundRequest:
    """One refund to create: whose order, which payment, how much, by which method."""

    order_id: int
    payment_id: int
    amount: int
    method: str


def request_many(items: list[RefundRequest], *, cause: str, reason: str, actor, at=None,
                 whole: bool = False) -> Sequence[Refund]:
    """The one write of requesting refunds, for one order (``request``) or a cancellation batch:
    the refunds created (one per order and cause, by the unique constraint), their amounts reserved
    on the payments with a conditional UPDATE (never more than captured − refunded; refused whole
    with ``refund_exceeds_captured``), the ``refund_requested`` events, the processing queued
    through the outbox. In the caller's transaction.

    ``whole``: each item refunds all that is still refundable on its payment, which the caller has
    locked (the cancellation core) — reserved by one plain UPDATE instead of a per-row amount."""
    if not items:
        return []
    at = at or now()
    columns = {
        "order_id": [i.order_id for i in items], "payment_id": [i.payment_id for i in items],
        "amount": [i.amount for i in items], "method": [i.method for i in items], "reason": reason, "cause": cause,
        "created_at": now(), "updated_at": at}
    ids = bulksql.insert(Refund, columns, returning=True)
    payments = Payment.objects.filter(pk__anyof=[i.payment_id for i in items])
    if whole:
        reserved = payments.filter(captured_amount__gte=F("refunded_amount")).update(
            refunded_amount=F("captured_amount"))
    else:
        amount = Case(*(When(pk=i.payment_id, then=Value(i.amount)) for i in items))
        reserved = payments.filter(captured_amount__gte=F("refunded_amount") + amount).update(
            refunded_amount=F("refunded_amount") + amount)
    if reserved != len(items):
        raise Conflict("返金額が返金可能額を超えています。", code="refund_exceeds_captured", field="amount")
    events.insert_many("refund_requested", [i.order_id for i in items], actor=actor, at=at, params=[
        {"refund": pk, "amount": i.amount, "method": i.method} for pk, i in zip(ids, items, strict=True)])
    enqueue_many(ids)
    return bulksql.instances(Refund, ids, columns)


def refund_return(
    *, order: Order, lines: list[tuple[str, int]] | None = None, amount: int | None = None, actor: str,
    reference: str = "",
) -> Refund:
    """A return of delivered goods (返品): partial by ``lines`` [(sku, quantity)] or by ``amount``.

    One return is one refund cause. A quantity can be returned at most once in total per order
    line; the amount never exceeds captured − already refunded. With a ``reference`` (e.g. an RMA
    number) a repeated call returns the first return's refund."""
    if (lines is None) == (amount is None):
        raise InvalidInput("返品する商品と数量、または返金額のどちらかを指定してください。", code="invalid_return",
                           field="lines")
    with transaction.atomic():
        order = Order.objects.select_for_update().get(pk=order.pk)  # serialises returns of one order
        if reference:
            existing = Return.objects.filter(order=order, reference=reference).select_related("refund").first()
            if existing is not None:
                return existing.refund
        if order.status != OrderStatus.DELIVERED:
            raise Conflict("配達完了前のご注文は返品できません。", code="not_returnable")
        picked = _return_lines(order, lines) if lines is not None else []
        total = sum(line.unit_price * qty for line, qty in picked) if lines is not None else amount
        if not isinstance(total, int) or isinstance(total, bool) or total < 1:
            raise InvalidInput("返金額は1円以上の整数で指定してください。", code="invalid_amount", field="amount")
        ret = Return.objects.create(order=order, reference=reference, amount=total, actor=actor)
        ReturnLine.objects.bulk_create(
            [ReturnLine(return_request=ret, order_line=line, quantity=qty) for line, qty in picked])
        refund = request(order=order, amount=total, cause=f"return:{ret.pk}", reason="customer_return", actor=actor)
        ret.refund = refund
        ret.save(update_fields=["refund"])
    return refund


def _return_lines(order: Order, lines: list[tuple[str, int]]):
    if not lines:
        raise InvalidInput("返品する商品を指定してください。", code="invalid_return", field="lines")
    by_sku = {line.sku: line for line in order.lines.all()}
    returned = dict(
        ReturnLine.objects.filter(order_line__order=order).values("order_line").annotate(q=Sum("quantity"))
        .values_list("order_line", "q")
    )
    wanted: dict[str, int] = {}
    for index, (sku, qty) in enumerate(lines):
        if sku not in by_sku:
            raise InvalidInput("この注文に商品「%(sku)s」はありません。", params={"sku": sku}, code="line_not_found",
                               field=f"lines[{index}].sku")
        if not isinstance(qty, int) or isinstance(qty, bool) or qty < 1:
            raise InvalidInput("数量は1以上の整数で指定してください。", code="invalid_quantity",
                               field=f"lines[{index}].quantity")
        wanted[sku] = wanted.get(sku, 0) + qty
    picked = []
    for sku, qty in wanted.items():
        line = by_sku[sku]
        if qty > line.quantity - returned.get(line.pk, 0):
            raise Conflict("「%(title)s」の返品数量がご注文数量を超えています。", params={"title": line.title},
                           code="return_quantity_exceeded",
                           field="lines")
        picked.append((line, qty))
    return picked


PROCESS_TASK = "payments.process_refund"


def enqueue(refund_id: int, *, at=None) -> None:
    """Process the refund after the caller's transaction commits (through the outbox: the
    request never talks to the broker; a rollback leaves nothing to process)."""
    outbox.enqueue(PROCESS_TASK, refund_id, at=at)


def enqueue_many(refund_ids: list[int]) -> int:
    return outbox.enqueue_many(PROCESS_TASK, ([pk] for pk in refund_ids))


# --- processing -------------------------------------------------------------------------------

@dataclass(frozen=True)
class Outcome:
    refund: Refund
    retry_in: int | None = None  # seconds until the task should run again (transient failure)


def process(refund_id: int) -> Outcome:
    """Move the money for one refund, once. Safe to call twice or concurrently: the row lock
    serialises duplicates and a final refund is left alone.

    A card refund calls the gateway while holding the lock, so a duplicate delivery waits
    instead of calling it too; if the worker dies after the gateway refunded but before this
    transaction commits, the redelivered task sends the same idempotency key and the gateway
    answers with its first refund."""
    with transaction.atomic():
        refund = (Refund.objects.select_for_update(of=("self",))
                  .select_related("order__customer", "payment").filter(pk=refund_id).first())
        if refund is None:
            raise NotFound("返金が見つかりません。", code="refund_not_found")
        if refund.status in FINAL or (refund.method == M.BANK_TRANSFER and refund.status == S.PROCESSING):
            return Outcome(refund)  # done, or waiting for its transfer batch
        if refund.status == S.REQUESTED:
            transition(refund, S.PROCESSING, actor="system", method=refund.method)
        refund.attempts += 1
        refund.updated_at = now()
        if refund.method == M.GIFT_CARD:
            giftcards.credit(customer=refund.order.customer, amount=refund.amount, kind=GiftCardEntry.Kind.REFUND,
                             reference=f"refund:{refund.pk}", order=refund.order)
            complete(refund, actor="system")
        elif refund.method == M.BANK_TRANSFER:
            refund.save(update_fields=["status", "attempts", "updated_at"])
            events.refund(order=refund.order_id, kind="refund_awaiting_transfer", actor="system", refund_id=refund.pk)
        else:
            try:
                refund.gateway_reference = get_gateway().refund(
                    charge_reference=refund.payment.gateway_reference, amount=refund.amount,
                    idempotency_key=f"refund:{refund.pk}",
                )
            except GatewayError as exc:
                return Outcome(refund, _gateway_failed(refund, exc))
            complete(refund, actor="system")
    return Outcome(refund)


def _gateway_failed(refund: Refund, exc: GatewayError) -> int | None:
    refund.last_error, refund.last_error_code = str(exc)[:300], exc.code[:40]
    if exc.transient and refund.attempts < MAX_ATTEMPTS:
        retry_in = RETRY_BASE_SECONDS * 2 ** (refund.attempts - 1)
        refund.save(update_fields=["status", "attempts", "last_error", "last_error_code", "updated_at"])
        # The retry is an outbox row due after the backoff, written with this attempt's outcome:
        # the broker never holds a countdown task (a broker restart cannot lose or strand it).
        enqueue(refund.pk, at=refund.updated_at + timedelta(seconds=retry_in))
        events.refund(order=refund.order_id, kind="refund_retry_scheduled", actor="system", refund_id=refund.pk,
                      attempts=refund.attempts, retry_in=retry_in)
        return retry_in
    transition(refund, S.FAILED, actor="system", attempts=refund.attempts, error=refund.last_error,
               error_code=refund.last_error_code)
    refund.save(update_fields=["status", "attempts", "last_error", "last_error_code", "updated_at"])
    return None


def complete(refund: Refund, *, actor: str) -> None:
    """Mark a locked refund succeeded, put it on the timeline and send the refund-completed
    message once (its dedupe key is the refund)."""
    transition(refund, S.SUCCEEDED, actor=actor, amount=refund.amount, method=refund.method)
    refund.completed_at = refund.updated_at
    refund.save(update_fields=["status", "completed_at", "updated_at", "attempts", "gateway_reference"])
    messages.notify(customer=refund.order.customer, kind="refund_completed", order=refund.order,
                    context={"refund": refund}, dedupe_key=f"refund_completed:{refund.pk}")


# --- the failed-refunds queue -----------------------------------------------------------------

def retry(*, refund_id: int, actor: str, to_gift_card: bool = False) -> Refund:
    """Staff: send a failed refund round again (attempts start over). ``to_gift_card`` re-issues
    it to the customer's gift-card balance instead (e.g. the card was closed)."""
    with transaction.atomic():
        refund = Refund.objects.select_for_update(of=("self",)).select_related("order").filter(pk=refund_id).first()
        if refund is None:
            raise NotFound("返金が見つかりません。", code="refund_not_found")
        if refund.status != S.FAILED:
            raise Conflict("失敗した返金だけを再試行できます。", code="refund_not_failed")
        old_method = refund.method
        if not to_gift_card and refund.method == M.CARD and gateway_errors.is_permanent(refund.last_error_code):
            # Never retry a terminal failure: the gateway would refuse the same refund again.
            raise Conflict(gateway_errors.refusal_words(refund.last_error_code), code="refund_failed_permanently",
                           reasons=[refund.last_error_code])
        if to_gift_card:
            _refuse_gift_card_of_closed_account(refund.order)
            refund.method = M.GIFT_CARD
        moved = {"from_method": old_method, "method": refund.method} if to_gift_card else {}
        transition(refund, S.REQUESTED, actor=actor, **moved)
        refund.attempts, refund.last_error, refund.last_error_code = 0, "", ""
        refund.save(update_fields=["status", "method", "attempts", "last_error", "last_error_code", "updated_at"])
        enqueue(refund.pk)
    return refund


def sweep_stuck(*, batch_size: int = 500) -> int:
    """Re-enqueue refunds whose task was lost: requested for longer than ``STUCK_REQUESTED``, or
    processing (card, gift card) for longer than ``STUCK_PROCESSING``. Rows are claimed with
    ``skip_locked`` and their ``updated_at`` bumped, so concurrent sweeps enqueue each one once;
    bank transfers in processing are waiting for their batch, not stuck."""
    current = now()
    with transaction.atomic():
        ids = list(
            Refund.objects.select_for_update(skip_locked=True)
            .filter(Q(status=S.REQUESTED, updated_at__lt=current - STUCK_REQUESTED)
                    | Q(status=S.PROCESSING, updated_at__lt=current - STUCK_PROCESSING))
            .exclude(method=M.BANK_TRANSFER, status=S.PROCESSING)
            .order_by("updated_at").values_list("pk", flat=True)[:batch_size]
        )
        Refund.objects.filter(pk__in=ids).update(updated_at=current)
        enqueue_many(ids)
    return len(ids)


def failed_queue(queryset=None):
    """The failed-refunds queue staff work through (admin and staff console): the longest-failed
    first (``updated_at`` is when it failed; nothing updates a failed refund until it is retried)."""
    queryset = Refund.objects.all() if queryset is None else queryset
    return queryset.filter(status=Refund.Status.FAILED).order_by("updated_at", "id")
