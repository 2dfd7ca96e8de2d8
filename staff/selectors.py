"""Reads for the console pages, each with a fixed number of queries whatever the data size.

List pages filter and sort on indexed columns only: ``Order(status, placed_at)``,
``Order(customer, -placed_at)``, ``CallbackRequest(status, created_at)``,
``Refund(status, created_at)``, ``Payment(method, status, deadline)``,
``GiftCardEntry.created_at`` (with the account's foreign-key index).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta

from django.core.paginator import Page, Paginator
from django.db.models import Count, Prefetch, Q, QuerySet
from django.utils.translation import gettext_lazy as _

from backoffice.errors import DomainError
from backoffice.normalize import nfkc, phone_e164
from backoffice.timeutil import JST, local, now
from payments.models import GiftCardAccount, GiftCardEntry, Payment, Refund
from shop.models import (
    CallbackRequest,
    CancellationReason,
    Customer,
    Order,
    OrderEvent,
    OrderStatus,
    PaymentMethod,
    ShipmentEvent,
)

PAGE_SIZE = 50
SEARCH_LIMIT = 50
_SEPARATORS = re.compile(r"[\s\-‐‑‒–—―−ーｰ－]")


def paginate(queryset: QuerySet, page_number, per_page: int = PAGE_SIZE) -> Page:
    """Two queries: COUNT and the page itself."""
    return Paginator(queryset, per_page).get_page(page_number)


# --- search ----------------------------------------------------------------------------------

@dataclass
class SearchResult:
    query: str
    kind: str = ""  # what the query looked like: order_number, tracking_number, email, phone...
    orders: list[Order] = field(default_factory=list)
    customers: list[Customer] = field(default_factory=list)

    @property
    def unique_order(self) -> Order | None:
        return self.orders[0] if len(self.orders) == 1 else None

    @property
    def unique_customer(self) -> Customer | None:
        """One customer, and every matched order is theirs: their page lists those orders."""
        if len(self.customers) != 1:
            return None
        customer = self.customers[0]
        return customer if all(order.customer_id == customer.pk for order in self.orders) else None


def _orders(q: Q) -> list[Order]:
    return list(Order.objects.filter(q).select_related("customer").order_by("-placed_at", "-id")[:SEARCH_LIMIT])


# Extra matchers other apps contribute: fn(digits) → Q on Order, or None (e.g. a konbini payment code).
NUMBER_MATCHERS: list = []


def search(query: str) -> SearchResult:
    """One box: order number (hyphens optional, full-width), tracking/inquiry number, payment
    code, e-mail, phone. Every branch is an indexed equality lookup."""
    text = nfkc(query or "")
    result = SearchResult(query=text)
    if not text:
        return result
    if "@" in text:
        result.kind = "email"
        result.customers = list(Customer.objects.filter(email__iexact=text)[:SEARCH_LIMIT])
        result.orders = _orders(Q(customer__in=[c.pk for c in result.customers])) if result.customers else []
        return result
    compact = _SEPARATORS.sub("", text)
    if compact.startswith("+81") and compact[3:].isdigit():
        compact = "0" + compact[3:]
    if not (compact.isascii() and compact.isdigit()):
        result.kind = "external_id"
        result.customers = list(Customer.objects.filter(external_id=text)[:1])
        result.orders = _orders(Q(customer__in=[c.pk for c in result.customers])) if result.customers else []
        return result
    n = len(compact)
    q = Q(pk__in=[])
    if n == 17:
        result.kind = "order_number"
        q |= Q(number=f"{compact[:3]}-{compact[3:10]}-{compact[10:]}")
    if n == 12:
        result.kind = "tracking_number"
        q |= Q(shipment__tracking_number=compact)
    for matcher in NUMBER_MATCHERS:
        extra = matcher(compact)
        if extra is not None:
            result.kind = result.kind or "payment_code"
            q |= extra
    if compact.startswith("0") and n in (10, 11):
        try:
            e164 = phone_e164(compact)
        except DomainError:
            e164 = None
        if e164:
            result.kind = result.kind or "phone"
            result.customers = list(Customer.objects.filter(phone=e164)[:SEARCH_LIMIT])
            q |= Q(recipient_phone=e164)
            if len(result.customers) == 1:
                q |= Q(customer=result.customers[0])
    result.orders = _orders(q)
    return result


# --- order page ------------------------------------------------------------------------------

def order_detail(number: str) -> Order | None:
    """The order with everything its page shows, in a fixed number of queries."""
    return (
        Order.objects.select_related("customer", "payment", "shipment", "pickup_store", "fulfilling_seller")
        .prefetch_related(
            "lines",
            Prefetch("shipment__events", queryset=ShipmentEvent.objects.order_by("occurred_at", "id")),
            Prefetch("events", queryset=OrderEvent.objects.order_by("at", "id")),
            Prefetch("refunds", queryset=Refund.objects.order_by("created_at", "id")),
        )
        .filter(number=number)
        .first()
    )


def lines_total(order: Order) -> int:
    return sum(line.subtotal for line in order.lines.all())


# --- customer page ---------------------------------------------------------------------------

def customer_orders(customer: Customer) -> QuerySet[Order]:
    """Staff see everything, payment-expired cancellations included (SPEC §2)."""
    return Order.objects.filter(customer=customer).order_by("-placed_at", "-id")


def customer_gift_card(customer: Customer) -> GiftCardAccount | None:
    return GiftCardAccount.objects.filter(customer=customer).first()


def gift_card_entries(account: GiftCardAccount) -> QuerySet[GiftCardEntry]:
    return account.entries.select_related("order").order_by("-created_at", "-id")


def customer_no_shows(customer: Customer) -> int:
    """Pickups not collected before the deadline (seed 001: repeated no-shows are not free)."""
    return Order.objects.filter(customer=customer, cancellation_reason=CancellationReason.PICKUP_EXPIRED).count()


def customer_stats(customer: Customer) -> dict:
    return Order.objects.filter(customer=customer).aggregate(
        orders=Count("id"),
        no_shows=Count("id", filter=Q(cancellation_reason=CancellationReason.PICKUP_EXPIRED)),
    )


# --- queues ----------------------------------------------------------------------------------

def waiting_callbacks() -> QuerySet[CallbackRequest]:
    """Oldest first (SPEC §2), on the ``callback_queue`` index."""
    return (CallbackRequest.objects.filter(status=CallbackRequest.Status.WAITING)
            .select_related("customer", "order").order_by("created_at", "id"))


def failed_refunds() -> QuerySet[Refund]:
    return (Refund.objects.filter(status=Refund.Status.FAILED)
            .select_related("order", "order__customer").order_by("created_at", "id"))


def orders_on_hold() -> QuerySet[Order]:
    return (Order.objects.filter(status=OrderStatus.ON_HOLD).select_related("customer")
            .order_by("placed_at", "id"))


# --- dashboard -------------------------------------------------------------------------------

def today_bounds(at: datetime | None = None) -> tuple[datetime, datetime]:
    day = local(at or now()).date()
    start = datetime.combine(day, time.min, tzinfo=JST)
    return start, start + timedelta(days=1)


def konbini_due_today() -> QuerySet[Payment]:
    start, end = today_bounds()
    return Payment.objects.filter(method=PaymentMethod.KONBINI, status=Payment.Status.PENDING,
                                  deadline__gte=start, deadline__lt=end)


@dataclass
class Tile:
    key: str
    label: str
    count: int
    url: str = ""
    tone: str = ""  # "warn" when something is waiting
    rows: list = field(default_factory=list)


# Extra tiles other apps contribute: fn() → list[Tile].
DASHBOARD_PROVIDERS: list = []


def risk_rules_in_words(order: Order) -> list[dict]:
    """The rules that fired at placement, as staff read them: words and weight."""
    out = []
    for item in order.risk_rules or []:
        if isinstance(item, dict):
            code = str(item.get("code") or item.get("rule") or "")
            words = item.get("description") or item.get("label") or RULE_WORDS.get(code, code)
            out.append({"code": code, "words": words, "weight": item.get("weight")})
        else:
            out.append({"code": str(item), "words": RULE_WORDS.get(str(item), str(item)), "weight": None})
    return out


RULE_WORDS: dict[str, str] = {}


def dashboard(user) -> dict:
    """Counts of what needs a person now; each is one indexed COUNT, plus the oldest call-backs."""
    from django.urls import reverse

    from staff.permissions import can_view

    def url(page: str, name: str) -> str:
        return reverse(name) if can_view(user, page) else ""

    callbacks = waiting_callbacks()
    tiles = [
        Tile("konbini_due_today", _("本日が支払期限のコンビニ払い"), konbini_due_today().count()),
        Tile("on_hold", _("審査待ちの注文（保留）"), orders_on_hold().count(), url("review_queue", "staff:review_queue")),
        Tile("failed_refunds", _("失敗した返金"), failed_refunds().count(), url("failed_refunds", "staff:failed_refunds")),
        Tile("callbacks", _("折り返し電話の依頼"), callbacks.count(), url("callbacks", "staff:callbacks")),
    ]
    for tile in tiles:
        tile.tone = "warn" if tile.count else ""
    return {"tiles": tiles, "oldest_callbacks": list(callbacks[:10])}
