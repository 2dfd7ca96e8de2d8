"""Order placement, the state machine and cancellation (SPEC §2). Services own the writes."""

from __future__ import annotations

import secrets
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from django.db import connection, transaction

from backoffice import rawsql
from backoffice.errors import Conflict, DomainError, InvalidInput, NotFound
from backoffice.normalize import digits, phone_e164
from backoffice.statements import Select
from backoffice.timeutil import now
from fraud.services import screening
from payments.gateway import (
    PAYMENT_RETRY_AFTER_SECONDS,
    CardDeclined,
    GatewayError,
    PaymentGatewayUnavailable,
    get_gateway,
)
from payments.konbini.chains import payment_deadline
from payments.models import GiftCardAccount, Payment
from payments.services import giftcards
from pickup.models import Store
from shop import events, states
from shop.models import (
    CancellationReason,
    Customer,
    DestinationType,
    Listing,
    Order,
    OrderLine,
    OrderStatus,
    PaymentMethod,
)
from shop.services import cancellation, card_capture, customers, eligibility, messages, placement_sql, stock
from webhooks import types as webhook_types
from webhooks.emit import emit, emit_many

S = OrderStatus


@dataclass
class Destination:
    type: str
    postal_code: str = ""
    prefecture: str = ""
    city: str = ""
    address_line: str = ""
    recipient_name: str = ""
    phone: str = ""
    store_code: str = ""


# seed 001: the order number is 3-7-7 digits (111-2222222-3456789); the one place its shape lives.
ORDER_NUMBER_GROUPS = (3, 7, 7)
ORDER_NUMBER_DIGITS = sum(ORDER_NUMBER_GROUPS)


def hyphenate_order_number(digits: str) -> str:
    """17 digits → NNN-NNNNNNN-NNNNNNN, the stored form."""
    a, b, _ = ORDER_NUMBER_GROUPS
    return f"{digits[:a]}-{digits[a:a + b]}-{digits[a + b:]}"


def new_order_number() -> str:
    """NNN-NNNNNNN-NNNNNNN, random and never sequential (seed 001)."""
    return hyphenate_order_number(f"{secrets.randbelow(10**ORDER_NUMBER_DIGITS):0{ORDER_NUMBER_DIGITS}d}")


def format_order_number(raw: str) -> str:
    """What a person typed (full-width, hyphens optional) → the stored form, or 400."""
    d = digits(raw, field="order_number", length=ORDER_NUMBER_DIGITS, code="invalid_order_number",
               message="注文番号は3-7-7桁の数字で入力してください。")
    return hyphenate_order_number(d)


def get_order(number: str, *, lock: bool = False) -> Order:
    qs = Order.objects.select_for_update() if lock else Order.objects
    order = qs.filter(number=format_order_number(number)).first()
    if order is None:
        raise NotFound("注文が見つかりません。", code="order_not_found")
    return order


def get_customer_order(number: str, customer: Customer, *, field: str) -> Order:
    """The customer's own order; another customer's is not found (its existence must not leak)."""
    order = Order.objects.filter(number=format_order_number(number), customer=customer).first()
    if order is None:
        raise NotFound("注文が見つかりません。", code="order_not_found", field=field)
    return order


# --- the state machine -----------------------------------------------------------------------

def transition(order: Order, to_status: str, *, actor, note: str = "", cause: str = "", **details) -> Order:
    """Apply one allowed transition with a conditional update and record it on the timeline
    (``cause`` and ``details`` describe why, ``note`` is what a person typed).

    The update only matches while the order is still in the status we read, so two racing
    callers cannot both move it; the loser gets ``invalid_transition``. Cancelling is not a
    bare transition: it goes through ``cancel`` (stock, payment, refund, message).
    """
    from_status = order.status
    if to_status == S.CANCELLED or not states.allowed(from_status, to_status, digital=order.is_digital):
        raise Conflict(
            "注文の状態を「%(from)s」から「%(to)s」に変更できません。",
            params={"from": S(from_status).label, "to": S(to_status).label},
            code="invalid_transition",
        )
    updates = {"status": to_status, "updated_at": now()}
    if not Order.objects.filter(pk=order.pk, status__still=from_status).update(**updates):
        raise Conflict("注文の状態が他の操作で変更されました。", code="invalid_transition")
    for name, value in updates.items():
        setattr(order, name, value)
    events.status_changed(order=order, from_status=from_status, to_status=to_status, actor=actor, note=note,
                          cause=cause, **details)
    if to_status in webhook_types.ARRIVAL:
        emit(webhook_types.ARRIVAL[to_status], [order.pk])
    return order


# --- placement ------------------------------------------------------------------------------

_visible_listings = Select(lambda skus: Listing.objects.select_related("seller").filter(sku__in=skus, visible=True))


def _load_listings(items: list[dict]) -> list[tuple[Listing, int]]:
    if not items:
        raise InvalidInput("商品を1点以上指定してください。", code="required", field="items")
    quantities: Counter[str] = Counter()
    for item in items:
        quantities[item["sku"]] += item["quantity"]
    listings = {listing.sku: listing for listing in _visible_listings.all(list(quantities))}
    for sku in quantities:
        if sku not in listings:
            raise InvalidInput("商品 %(sku)s が見つかりません。", params={"sku": sku}, code="listing_not_found",
                               field="items.sku")
    return [(listings[sku], qty) for sku, qty in quantities.items()]


def _fulfiller(lines: list[tuple[Listing, int]]):
    """All lines come from one fulfiller: the platform, or one seller's self-fulfilled listings."""
    keys = {None if listing.fulfilled_by == Listing.FulfilledBy.PLATFORM else listing.seller_id for listing, _ in lines}
    if len(keys) > 1:
        raise InvalidInput("発送元の異なる商品は別々にご注文ください。", code="mixed_fulfillment", field="items")
    key = keys.pop()
    return None if key is None else lines[0][0].seller


def _destination_fields(dest: Destination, lines) -> dict:
    if dest.type == DestinationType.PICKUP_STORE:
        store = Store.objects.filter(code=dest.store_code, active=True).first()
        if store is None:
            raise InvalidInput("受取店舗が見つかりません。", code="store_not_found", field="destination.store_code")
        if any(listing.digital for listing, _ in lines):
            raise InvalidInput("デジタル商品はコンビニ受取にできません。", code="digital_item", field="destination")
        return {"destination_type": dest.type, "pickup_store": store}
    postal = digits(dest.postal_code, field="destination.postal_code", length=7, code="invalid_postal_code",
                    message="郵便番号は7桁の数字で入力してください。")
    return {
        "destination_type": dest.type,
        "postal_code": f"{postal[:3]}-{postal[3:]}",
        "prefecture": dest.prefecture,
        "city": dest.city,
        "address_line": dest.address_line,
        "recipient_name": dest.recipient_name,
        "recipient_phone": phone_e164(dest.phone, field="destination.phone"),
    }


def place(
    *, customer_data: dict, items: list[dict], shipping_speed: str, destination: Destination,
    payment_method: str, card_token: str | None = None, actor: str = "storefront",
    on_opened: Callable[[Order], None] | None = None,
) -> Order:
    """Place an order in Saleor's order: reserve, commit, pay, then a second short transaction.

    Transaction 1 checks everything, creates the order, reserves its stock and commits (a
    refused order leaves nothing behind, not even the customer upsert). A card is then
    captured with no transaction open and no row locked, under an idempotency key derived from
    the order; transaction 2 records the capture and moves the order on. A decline or a gateway
    failure cancels the order (stock back, nothing charged); a capture whose order is gone by
    then is voided at the gateway. Gift cards, konbini and COD are settled in transaction 1.

    ``on_opened(order)`` runs inside transaction 1 (the API's Idempotency-Key claim records the
    order's number there, so a retry after a lost answer finds this order instead of placing
    another: ``backoffice.api.idempotency``).
    """
    with transaction.atomic():
        order, lines = _open_order(
            customer_data=customer_data, items=items, shipping_speed=shipping_speed, destination=destination,
            payment_method=payment_method, card_token=card_token, actor=actor,
        )
        if on_opened is not None:
            on_opened(order)
    if payment_method == PaymentMethod.CARD and order.status != S.CANCELLED:
        return _pay_by_card(order, card_token, lines)
    return order


def _open_order(*, customer_data: dict, items: list[dict], shipping_speed: str, destination: Destination,
                payment_method: str, card_token: str | None, actor: str) -> tuple[Order, list[OrderLine]]:
    """Transaction 1: check, create, reserve stock, screen; settle any payment but a card's."""
    # Locked by the upsert itself, as lock_open locks it: a closing account takes no order.
    customer = customers.upsert(**customer_data, lock=True)
    customers.ensure_can_order(customer)
    lines = _load_listings(items)
    seller = _fulfiller(lines)
    fields = _destination_fields(destination, lines)
    total = sum(listing.price * qty for listing, qty in lines)
    address = screening.screen_address(fields, payment_method)  # SPEC §5: key, postal check, COD block
    fields["address_key"] = address.key
    checkout = eligibility.Checkout(
        total=total, shipping_speed=shipping_speed, destination_type=destination.type,
        listings=[listing for listing, _ in lines], fulfilling_seller=seller,
        # Read only when it decides anything: one query fewer for every other order.
        gift_card=(GiftCardAccount.objects.filter(customer=customer).first()
                   if payment_method == PaymentMethod.GIFT_CARD else None),
        address_reasons=list(address.cod_reasons),
    )
    reasons = eligibility.unavailable_reasons(payment_method, checkout)
    if reasons:
        raise DomainError(eligibility.UNAVAILABLE_MESSAGE, code="payment_method_unavailable",
                          field="payment_method", reasons=reasons)
    if payment_method == PaymentMethod.CARD:
        if not card_token:
            raise InvalidInput("カードトークンを指定してください。", code="required", field="card_token")
        get_gateway().check_token(card_token)

    risk = screening.assess(customer=customer, total=total, payment_method=payment_method, address=address,
                            digital=any(listing.digital for listing, _ in lines))
    fields.update(screening.order_fields(risk))
    order, order_lines = _create_order(customer, seller, lines, fields, total, shipping_speed, payment_method,
                                       held=risk.hold)
    events.placed(order=order, actor=actor)
    # Late in the transaction: a listing's stock row, the one lock concurrent orders for a
    # popular listing share, is held for as short a time as possible (before the payment, whose
    # gift-card spend must not come first).
    stock.reserve(lines)
    _take_payment(order, customer, payment_method, take_money=not risk.reject)
    paid = order.payment.status == Payment.Status.PAID  # a gift card pays at once
    emit_many({"order.placed": [order.pk], "order.paid": [order.pk] if paid else []})
    report = screening.settle(order, risk, actor=actor)  # the score on the timeline; ≥ 70 a review report
    if risk.reject:  # ≥ 90: never charged, cancelled here
        cancel(order, reason=CancellationReason.RISK_REJECTED, actor="system", score=risk.score)
        order.refresh_from_db()
        screening.record_rejection(report, order, risk)
        return order, order_lines
    if payment_method != PaymentMethod.CARD:
        _confirm(order, order_lines)
    return order, order_lines


def _confirm(order: Order, lines: list[OrderLine]) -> None:
    """The order is placed and its payment settled (or arranged): release a paid digital order
    and tell the customer."""
    if order.status == S.PROCESSING:
        paid = order.payment.status == Payment.Status.PAID
        if states.released_status(method=order.payment_method, digital=order.is_digital, paid=paid) == S.DELIVERED:
            transition(order, S.DELIVERED, actor="system", cause="digital_delivery")
    messages.notify(customer=order.customer, kind="order_confirmed", order=order, context={"lines": lines})
    if order.payment_method == PaymentMethod.KONBINI and order.status == S.PENDING_PAYMENT:
        messages.notify(customer=order.customer, kind="payment_instructions", order=order,
                        context={"deadline": order.payment.deadline})


# --- card capture, outside the stock-locking transaction ------------------------------------

class _OrderGone(Exception):
    """The order was cancelled (or its payment settled otherwise) while the card was captured."""


def _pay_by_card(order: Order, card_token: str, lines: list[OrderLine]) -> Order:
    """Capture with no transaction open, then transaction 2; no money is kept for an order that
    does not go on (declined, failed or cancelled in the meantime)."""
    try:
        reference = card_capture.capture(order, card_token)
    except CardDeclined:
        _abandon(order, failure="declined")
        raise
    except DomainError:  # any other refusal by the gateway: nothing was charged either
        _abandon(order, failure="failed")
        raise
    except GatewayError as exc:
        card_capture.void(order)  # the capture may have happened with its answer lost
        _abandon(order, failure="no_answer", gateway_code=exc.code)
        raise PaymentGatewayUnavailable(headers={"Retry-After": str(PAYMENT_RETRY_AFTER_SECONDS)}) from exc
    try:
        return _record_capture(order, reference, lines)
    except _OrderGone:
        card_capture.void(order)
        order.refresh_from_db()
        return order
    except Exception:
        card_capture.void(order)
        _abandon(order, failure="not_recorded")
        raise


def _record_capture(order: Order, reference: str, lines: list[OrderLine]) -> Order:
    """Transaction 2: the order row first (the lock order of ``cancel``), then the payment."""
    with transaction.atomic():
        one_statement = connection.vendor == "postgresql" and order.status != S.ON_HOLD
        if not one_statement:  # (the one statement checks for subscribers itself)
            emit("order.paid", [order.pk])  # before the move it causes (rolled back with it if the order is gone)
        if order.status == S.ON_HOLD:  # held for review: it stays held (or was just approved), paid
            locked = Order.objects.select_for_update().filter(pk=order.pk).values_list("status", flat=True)
            if locked.first() == S.CANCELLED:
                raise _OrderGone()
            _capture_recorded(order, reference, lines)
        elif one_statement:
            released, listened = placement_sql.release_paid(order, reference, lines)
            if not released:
                raise _OrderGone()  # cancelled meanwhile: the transaction rolls back what it wrote
            if listened:  # the statement checked for subscribers: emit asks again only when there are some
                emit("order.paid", [order.pk])
            # The statement moves the order as ``transition`` would: the same arrival event (a digital
            # order is delivered at once).
            target = states.released_status(method=order.payment_method, digital=order.is_digital, paid=True)
            if target in webhook_types.ARRIVAL:
                emit(webhook_types.ARRIVAL[target], [order.pk])
        else:
            _release_paid_with_services(order, reference, lines)
    return order


def _release_paid_with_services(order: Order, reference: str, lines: list[OrderLine]) -> None:
    """The order moved on (``transition``), then the capture recorded, one statement each
    (SQLite); ``placement_sql.release_paid`` writes exactly the same rows (a test compares
    them on PostgreSQL)."""
    target = states.released_status(method=order.payment_method, digital=order.is_digital, paid=True)
    try:
        transition(order, target, actor="system", cause="digital_delivery" if target == S.DELIVERED else "card_captured")
    except Conflict as exc:
        raise _OrderGone() from exc
    _capture_recorded(order, reference, lines)


def _capture_recorded(order: Order, reference: str, lines: list[OrderLine]) -> None:
    """The pending payment captured and the confirmation written; ``_OrderGone`` when the
    payment is no longer pending."""
    paid_at = now()
    if not Payment.objects.filter(order=order, status__still=Payment.Status.PENDING).update(
            status=Payment.Status.PAID, captured_amount=order.total, paid_at=paid_at, gateway_reference=reference):
        raise _OrderGone()
    _paid(order.payment, order.total, paid_at, reference)
    messages.notify(customer=order.customer, kind="order_confirmed", order=order, context={"lines": lines})


def _paid(payment: Payment, amount: int, at, reference: str) -> None:
    payment.status, payment.captured_amount, payment.paid_at = Payment.Status.PAID, amount, at
    payment.gateway_reference = reference


def _abandon(order: Order, *, failure: str, gateway_code: str = "") -> None:
    """The card was not charged (or its capture is voided): cancel the order, stock back. The
    gateway's error code, when it gave one, goes on the timeline (shown in words, issue 17)."""
    extra = {"gateway_code": gateway_code} if gateway_code else {}
    try:
        cancel(order, reason=CancellationReason.PAYMENT_FAILED, actor="system", payment_failure=failure, **extra)
    except Conflict:  # cancelled meanwhile by someone else: nothing left to do
        pass
    order.refresh_from_db()


def _create_order(customer, seller, lines, fields, total, speed, method,
                  held: bool = False) -> tuple[Order, list[OrderLine]]:
    status = states.released_status(method=method, digital=False, paid=False)  # nothing is paid yet
    if method == PaymentMethod.CARD:  # until the capture is recorded (transaction 2): nothing ships
        status = S.PENDING_PAYMENT
    if held:  # fraud review; approval moves it to `status` (fraud.services.review)
        status = S.ON_HOLD
    for _ in range(5):
        order = Order(number=new_order_number(), customer=customer, fulfilling_seller=seller, status=status,
                      total=total, shipping_speed=speed, payment_method=method,
                      is_digital=any(listing.digital for listing, _ in lines), placed_at=now(), **fields)
        if rawsql.insert_unless_conflict(order, unique="number"):  # else an order number collision: draw again
            break
    else:  # pragma: no cover - 10^17 numbers
        raise Conflict("注文番号を発行できませんでした。", code="order_number_unavailable")
    order_lines = OrderLine.objects.bulk_create(
        OrderLine(order=order, listing=listing, sku=listing.sku, title=listing.title, quantity=qty,
                  unit_price=listing.price, digital=listing.digital, tax_rate=listing.tax_rate)
        for listing, qty in lines
    )
    return order, order_lines


def _take_payment(order: Order, customer: Customer, method: str, *, take_money: bool = True) -> Payment:
    """Spend the balance now; a card is captured after this transaction (``_pay_by_card``);
    konbini and COD wait for the cash.

    An order the risk score rejects outright (≥ 90) is never charged: its payment is recorded
    voided instead of being captured and refunded a moment later.
    """
    payment = Payment(order=order, method=method, amount=order.total, status=Payment.Status.PENDING)
    if not take_money:
        payment.status = Payment.Status.VOIDED
    elif method == PaymentMethod.GIFT_CARD:
        try:
            giftcards.spend(customer=customer, amount=order.total, order=order)
        except Conflict as exc:
            raise DomainError(eligibility.UNAVAILABLE_MESSAGE, code="payment_method_unavailable",
                              field="payment_method", reasons=[exc.code]) from exc
        payment.status, payment.captured_amount, payment.paid_at = Payment.Status.PAID, order.total, now()
    elif method == PaymentMethod.KONBINI:
        payment.deadline = payment_deadline(order.placed_at)
    payment.save()
    order.payment = payment
    return payment


# Decision (not in the seeds): no capture takes this long (gateway timeouts are seconds), so a
# card order still waiting for its capture after it was left by a placement that died between
# transaction 1 and transaction 2 (before the capture, or after it).
CARD_CAPTURE_ABANDONED_AFTER = timedelta(minutes=10)


def cancel_abandoned_card_orders(*, limit: int = 500) -> int:
    """The sweep for placements that died mid-way: void whatever the card's capture took (by its
    key, with no transaction open), then cancel the order (stock back). Returns how many."""
    stale = list(  # card payments still pending are few: the (method, status) index finds them
        Order.objects.filter(payment__method=PaymentMethod.CARD, payment__status=Payment.Status.PENDING,
                             placed_at__lt=now() - CARD_CAPTURE_ABANDONED_AFTER)
        .exclude(status=S.CANCELLED).order_by("placed_at", "id")[:limit]
    )
    for order in stale:
        card_capture.void(order)
        _abandon(order, failure="abandoned")
    return len(stale)


# --- payment and cancellation ---------------------------------------------------------------

def mark_paid(order: Order, *, amount: int, actor: str, note: str = "") -> Order:
    """Money arrived for a pending payment (konbini cash, COD collected). Caller holds the lock."""
    updated = Payment.objects.filter(order=order, status__still=Payment.Status.PENDING).update(
        status=Payment.Status.PAID, captured_amount=amount, paid_at=now()
    )
    if not updated:
        raise Conflict("この注文は既にお支払い済みです。", code="already_paid")
    emit("order.paid", [order.pk])
    return order


def cancel(order: Order, *, reason: str, actor, note: str = "", **details) -> Order:
    """Cancel one order (``shop.services.cancellation.cancel_orders`` with one id): its row locked
    here, the reason's rules checked, everything a cancellation means done in one transaction."""
    with transaction.atomic():
        order = Order.objects.select_for_update().get(pk=order.pk)
        cancellation.cancel_orders([order.pk], reason=reason, actor=actor, note=note, details=details)
        order.refresh_from_db()
    return order


# Seed 003: an order cancelled because payment expired disappears from the history; so does a card
# order whose payment never went through (the customer saw the decline, not an order).
HIDDEN_FROM_HISTORY = (CancellationReason.PAYMENT_EXPIRED, CancellationReason.PAYMENT_FAILED)


def customer_order_history(customer: Customer):
    """The customer's orders, without those ``HIDDEN_FROM_HISTORY``."""
    return (
        Order.objects.filter(customer=customer)
        .exclude(status=S.CANCELLED, cancellation_reason__in=HIDDEN_FROM_HISTORY)
        .order_by("-placed_at", "-id")
    )
