"""Order placement, the state machine and cancellation (SPEC §2). Services own the writes."""

from __future__ import annotations

import secrets
from collections import Counter
from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.db.models import Case, F, Sum, Value, When

from backoffice.errors import Conflict, DomainError, InvalidInput, NotFound
from backoffice.timeutil import now
from fraud.services import screening
from payments import giftcards, refunds
from payments.gateway import get_gateway
from payments.konbini.chains import payment_deadline
from payments.models import GiftCardAccount, Payment
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
from shop.services import customers, eligibility, messages

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
    from backoffice.normalize import digits

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

def transition(order: Order, to_status: str, *, actor: str, note: str = "", reason: str = "") -> Order:
    """Apply one allowed transition with a conditional update and record it on the timeline.

    The update only matches while the order is still in the status we read, so two racing
    callers cannot both move it; the loser gets ``invalid_transition``.
    """
    from_status = order.status
    if not states.allowed(from_status, to_status, digital=order.is_digital):
        raise Conflict(
            f"注文の状態を「{S(from_status).label}」から「{S(to_status).label}」に変更できません。",
            code="invalid_transition",
        )
    updates = {"status": to_status, "updated_at": now()}
    if to_status == S.CANCELLED:
        updates["cancellation_reason"] = reason
    if not Order.objects.filter(pk=order.pk, status=from_status).update(**updates):
        raise Conflict("注文の状態が他の操作で変更されました。", code="invalid_transition")
    for name, value in updates.items():
        setattr(order, name, value)
    events.status_changed(order=order, from_status=from_status, to_status=to_status, actor=actor,
                          note=note or (CancellationReason(reason).label if reason else ""))
    return order


# --- placement ------------------------------------------------------------------------------

def _load_listings(items: list[dict]) -> list[tuple[Listing, int]]:
    if not items:
        raise InvalidInput("商品を1点以上指定してください。", code="required", field="items")
    quantities: Counter[str] = Counter()
    for item in items:
        quantities[item["sku"]] += item["quantity"]
    listings = {listing.sku: listing for listing in Listing.objects.select_related("seller").filter(sku__in=quantities)}
    for sku in quantities:
        if sku not in listings:
            raise InvalidInput(f"商品 {sku} が見つかりません。", code="listing_not_found", field="items.sku")
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
    from backoffice.normalize import digits, phone_e164

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


@transaction.atomic  # a refused order leaves nothing behind, not even the customer upsert
def place(
    *, customer_data: dict, items: list[dict], shipping_speed: str, destination: Destination,
    payment_method: str, card_token: str | None = None, actor: str = "storefront",
) -> Order:
    """Place an order: check, reserve stock, take or arrange payment, all in one transaction."""
    customer = customers.upsert(**customer_data)
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
    if payment_method == PaymentMethod.CARD and not card_token:
        raise InvalidInput("カードトークンを指定してください。", code="required", field="card_token")

    with transaction.atomic():
        risk = screening.assess(customer=customer, total=total, payment_method=payment_method, address=address,
                                digital=any(listing.digital for listing, _ in lines))
        fields.update(screening.order_fields(risk))
        order = _create_order(customer, seller, lines, fields, total, shipping_speed, payment_method,
                              held=risk.hold)
        _reserve_stock(lines)
        _take_payment(order, customer, payment_method, card_token, take_money=not risk.reject)
        events.placed(order=order, actor=actor, note=f"{order.get_payment_method_display()} {total:,}円")
        screening.settle(order, risk, actor=actor)  # ≥ 70 held for review; ≥ 90 cancelled here
        if order.status == S.CANCELLED:
            return order
        if order.status == S.PROCESSING:
            paid = order.payment.status == Payment.Status.PAID
            if states.released_status(method=payment_method, digital=order.is_digital, paid=paid) == S.DELIVERED:
                transition(order, S.DELIVERED, actor="system", note="デジタル商品の提供開始")
        messages.notify(customer=customer, kind="order_confirmed", order=order)
        if payment_method == PaymentMethod.KONBINI and order.status == S.PENDING_PAYMENT:
            messages.notify(customer=customer, kind="payment_instructions", order=order,
                            context={"deadline": order.payment.deadline})
    return order


def _create_order(customer, seller, lines, fields, total, speed, method, held: bool = False) -> Order:
    status = states.released_status(method=method, digital=False, paid=False)  # nothing is paid yet
    if held:  # fraud review; approval moves it to `status` (fraud.services.review)
        status = S.ON_HOLD
    for _ in range(5):
        try:
            with transaction.atomic():
                order = Order.objects.create(
                    number=new_order_number(), customer=customer, fulfilling_seller=seller, status=status,
                    total=total, shipping_speed=speed, payment_method=method,
                    is_digital=any(listing.digital for listing, _ in lines), placed_at=now(), **fields,
                )
                break
        except IntegrityError:  # an order number collision: draw again
            continue
    else:  # pragma: no cover - 10^17 numbers
        raise Conflict("注文番号を発行できませんでした。", code="order_number_unavailable")
    OrderLine.objects.bulk_create(
        OrderLine(order=order, listing=listing, sku=listing.sku, title=listing.title, quantity=qty,
                  unit_price=listing.price, digital=listing.digital, tax_rate=listing.tax_rate)
        for listing, qty in lines
    )
    return order


def _reserve_stock(lines) -> None:
    """Conditional decrement: never below zero, whatever runs concurrently (no oversell)."""
    for listing, qty in sorted(lines, key=lambda pair: pair[0].pk):  # one lock order: no deadlock
        if not Listing.objects.filter(pk=listing.pk, stock__gte=qty).update(stock=F("stock") - qty):
            raise Conflict(f"「{listing.title}」の在庫が不足しています。", code="out_of_stock", field="items")


def release_stock(order_ids: list[int]) -> None:
    """Give back the units reserved by these orders (one, or an expiry job's batch): one read,
    the listings locked in primary-key order — the order placement locks them in, so no
    deadlock — and one UPDATE."""
    per_listing = dict(
        OrderLine.objects.filter(order_id__in=order_ids).order_by().values("listing_id")
        .annotate(units=Sum("quantity")).values_list("listing_id", "units")
    )
    if not per_listing:
        return
    list(Listing.objects.select_for_update().filter(pk__in=per_listing).order_by("pk").values_list("pk", flat=True))
    Listing.objects.filter(pk__in=per_listing).update(
        stock=F("stock") + Case(*(When(pk=pk, then=Value(units)) for pk, units in per_listing.items()),
                                default=Value(0)))


def _take_payment(order: Order, customer: Customer, method: str, card_token: str | None, *,
                  take_money: bool = True) -> Payment:
    """Capture the card or spend the balance now; konbini and COD wait for the cash.

    An order the risk score rejects outright (≥ 90) is never charged: its payment is recorded
    voided instead of being captured and refunded a moment later.
    """
    payment = Payment(order=order, method=method, amount=order.total, status=Payment.Status.PENDING)
    if not take_money:
        payment.status = Payment.Status.VOIDED
    elif method == PaymentMethod.CARD:
        payment.gateway_reference = get_gateway().capture(token=card_token, amount=order.total, reference=order.number)
        payment.status, payment.captured_amount, payment.paid_at = Payment.Status.PAID, order.total, now()
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


# --- payment and cancellation ---------------------------------------------------------------

def mark_paid(order: Order, *, amount: int, actor: str, note: str = "") -> Order:
    """Money arrived for a pending payment (konbini cash, COD collected). Caller holds the lock."""
    updated = Payment.objects.filter(order=order, status=Payment.Status.PENDING).update(
        status=Payment.Status.PAID, captured_amount=amount, paid_at=now()
    )
    if not updated:
        raise Conflict("この注文は既にお支払い済みです。", code="already_paid")
    return order


def cancel(order: Order, *, reason: str, actor: str, note: str = "") -> Order:
    """Cancel an order: release stock, void an unpaid payment, refund a paid one, tell the customer.

    The caller passes an order it locked (``get_order(..., lock=True)``) inside a transaction,
    or this function locks it itself.
    """
    with transaction.atomic():
        order = Order.objects.select_for_update().get(pk=order.pk)
        if order.status == S.CANCELLED:
            raise Conflict("この注文は既にキャンセルされています。", code="not_cancellable")
        if reason == CancellationReason.CUSTOMER_REQUEST and order.status not in states.NOT_YET_SHIPPED:
            raise Conflict("発送済みのご注文はキャンセルできません。", code="not_cancellable")
        if reason in (CancellationReason.SUPPORT, CancellationReason.UNAUTHORIZED_ORDER,
                      CancellationReason.SELLER_CANCELLED) and not states.cancellable_by_support(
                order.status, digital=order.is_digital):
            raise Conflict("発送済みのご注文はキャンセルできません。", code="not_cancellable")
        was_shipped = order.status not in states.NOT_YET_SHIPPED
        transition(order, S.CANCELLED, actor=actor, note=note, reason=reason)
        if not was_shipped or reason in (CancellationReason.COD_REFUSED, CancellationReason.RETURNED,
                                         CancellationReason.PICKUP_EXPIRED):
            release_stock([order.pk])
        Payment.objects.filter(order=order, status=Payment.Status.PENDING).update(status=Payment.Status.VOIDED)
        refund = refunds.request_for_cancellation(order=order, actor=actor)
        messages.notify(customer=order.customer, kind="cancelled", order=order, context={"refund": refund})
    return order


def customer_order_history(customer: Customer):
    """Seed 003: an order cancelled because payment expired disappears from the history."""
    return (
        Order.objects.filter(customer=customer)
        .exclude(status=S.CANCELLED, cancellation_reason=CancellationReason.PAYMENT_EXPIRED)
        .order_by("-placed_at", "-id")
    )
