"""Reads for the console pages, each with a fixed number of queries whatever the data size.

List pages filter and sort on indexed columns only: ``Order(status, placed_at)``,
``Order(customer, -placed_at)``, ``CallbackRequest(status, created_at)``,
``Refund(status, created_at)``, ``Payment(method, status, deadline)``,
``GiftCardEntry.created_at`` (with the account's foreign-key index).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta

import jaconv
from django.core.exceptions import ObjectDoesNotExist
from django.core.paginator import Page, Paginator
from django.db.models import Count, Min, Prefetch, Q, QuerySet, Subquery
from django.db.models.functions import Reverse, Substr
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from backoffice.errors import DomainError
from backoffice.normalize import SEPARATORS, nfkc, phone_e164
from backoffice.timeutil import JST, local, now
from fraud.models import (
    OPEN_REPORT_STATUSES,
    AddressReputation,
    CodRefusal,
    LoginEvent,
    PasswordResetToken,
    Report,
    ReportPriority,
    SessionRevocation,
)
from fraud.rules import DEFAULT_RISK_RULES
from fraud.services import logins as login_service
from fraud.services import review as review_service
from payments.konbini.chains import CHAINS
from payments.konbini.maintenance import next_maintenance_window
from payments.konbini.models import PaymentCode
from payments.konbini.selectors import order_konbini_code
from payments.models import GiftCardAccount, GiftCardEntry, Payment, PointsAccount, PointsEntry, Refund, TransferBatch
from payments.services import refunds
from pickup.models import Pickup, PickupAttempt, PickupNoShow
from shop.models import (
    CallbackRequest,
    Customer,
    Message,
    Order,
    OrderEvent,
    PaymentMethod,
    Seller,
    SellerClosureRequest,
    Shipment,
    ShipmentEvent,
)
from shop.services.orders import ORDER_NUMBER_DIGITS, ORDER_NUMBER_GROUPS, hyphenate_order_number
from shop.services.shipments import TRACKING_DIGITS
from staff import permissions, sla
from staff.models import Activity, Note, TargetKind
from staff.services import target_kind_of
from webhooks import selectors as webhook_selectors

PAGE_SIZE = 50
SEARCH_LIMIT = 50


class _Paginator(Paginator):
    """A page picks its rows' ids first, on the list's own table and index (a subquery of the same
    statement), then joins those 50 to their order and customer: an OFFSET skips index entries,
    and rows that tie on the sort key (every konbini payment due today has the same deadline) are
    sorted without their joins — not 2,000 joined rows sorted or skipped to show 50."""

    def _get_page(self, object_list, number, paginator):
        if isinstance(self.object_list, QuerySet) and isinstance(object_list, QuerySet):
            ids = object_list.values("pk")
            object_list = self.object_list.filter(pk__in=Subquery(ids))
        return super()._get_page(object_list, number, paginator)


def paginate(queryset: QuerySet | Matches, page_number, per_page: int = PAGE_SIZE) -> Page:
    """Two queries: COUNT and the page itself."""
    return _Paginator(queryset, per_page).get_page(page_number)


# --- search ----------------------------------------------------------------------------------

@dataclass
class SearchResult:
    query: str
    kind: str = ""  # what the query looked like: order_number, tracking_number, email, phone...
    orders: list[Order] = field(default_factory=list)
    customers: list[Customer] = field(default_factory=list)
    # A partial match (name, part of an order number, e-mail prefix): every match, for paging.
    order_matches: Matches | None = None
    customer_matches: Matches | None = None

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


def _orders(order_ids: set[int]) -> list[Order]:
    if not order_ids:
        return []
    return list(Order.objects.filter(pk__in=order_ids).select_related("customer")
                .order_by("-placed_at", "-id")[:SEARCH_LIMIT])


def _orders_of(customers: list[Customer]) -> set[int]:
    """On ``order_customer_recent``."""
    if not customers:
        return set()
    return set(Order.objects.filter(customer__in=[c.pk for c in customers])
               .order_by("-placed_at").values_list("pk", flat=True)[:SEARCH_LIMIT])


def _konbini_code_orders(digits: str) -> set[int]:
    """A konbini payment number, looked up per chain of that length on ``konbini_code_lookup``."""
    chains = [code for code, chain in CHAINS.items() if chain.digits == len(digits)]
    if not chains:
        return set()
    return set(PaymentCode.objects.filter(chain__in=chains, number=digits)
               .values_list("payment__order_id", flat=True)[:SEARCH_LIMIT])


PARTIAL_DIGITS_MIN = 4  # fewer digits than this match too many order numbers to be a search


def _placed(digits: str, offset: int) -> str:
    """A run of digits as it reads inside NNN-NNNNNNN-NNNNNNN from ``offset``, hyphens where they fall."""
    first, second, _last = ORDER_NUMBER_GROUPS
    cuts = {first, first + second}
    return "".join(("-" if i and offset + i in cuts else "") + ch for i, ch in enumerate(digits))


def name_variants(text: str) -> list[list[str]]:
    """The words of a name as typed, each in its typed, katakana and hiragana forms (jaconv):
    「やまだ」 finds 「ヤマダ タロウ」; every word must match (「山田 太郎」 finds 「山田太郎」 too)."""
    words = [w for w in re.split(r"\s+", nfkc(text)) if w]
    return [list(dict.fromkeys([w, jaconv.hira2kata(w), jaconv.kata2hira(w)])) for w in words]


EMAIL_START = re.compile(r"[A-Za-z0-9._%+-]{3,}")


def customers_by_name(text: str) -> Matches:
    """By name (every word, in any kana form), or, when it could be one, by the start of the
    e-mail address (「hanako.su」); on the trigram indexes ``customer_name_trgm`` and
    ``customer_email_trgm`` (PostgreSQL)."""
    by_name = Q()
    for forms in name_variants(text):
        word = Q()
        for form in forms:
            word |= Q(name__contains=form)
        by_name &= word
    match = by_name | Q(email__startswith=text.lower()) if EMAIL_START.fullmatch(text) else by_name
    return matches(Customer.objects.filter(match), "name", "id")


MATCHES_MAX = 1000  # a partial search with more matches than this asks for more of the name or number


class Matches(Sequence):
    """The matches of a partial search (at most ``MATCHES_MAX``) by id, in the list's order, for
    paging: each page reads only its own rows, by primary key. An ORDER BY … LIMIT over the
    matches would let the planner walk the sort column's index through the whole table whenever it
    expects many matches (「ベンチ」 in every name, or a LIKE it cannot estimate). ``truncated``:
    there were more than ``MATCHES_MAX``, of which these are some."""

    def __init__(self, queryset: QuerySet, ids: list[int], *, truncated: bool = False) -> None:
        self.base, self.ids, self.truncated = queryset, ids, truncated

    def __len__(self) -> int:
        return len(self.ids)

    def count(self) -> int:
        return len(self.ids)

    def __iter__(self):
        return iter(self[:])

    def __getitem__(self, index):
        if not isinstance(index, slice):
            return self[index:index + 1][0] if index >= 0 else self[len(self) + index]
        ids = self.ids[index]
        by_pk = self.base.in_bulk(ids)
        return [by_pk[pk] for pk in ids if pk in by_pk]

    def queryset(self) -> QuerySet:
        """All of them in one queryset, in the list's order (the CSV export)."""
        return self.base.filter(pk__in=self.ids)


def matches(queryset: QuerySet, *order: str) -> Matches:
    """One query for the sort keys and ids of the filter's matches (no ORDER BY, so the filter's
    own indexes serve it; it stops after ``MATCHES_MAX`` + 1), sorted here by ``order`` (fields all
    ascending or all descending, the last one unique)."""
    descending = order[0].startswith("-")
    if any(f.startswith("-") != descending for f in order):
        raise ValueError(f"matches(): one direction for every field, got {order}")
    fields = [f.lstrip("-") for f in order]
    rows = list(queryset.order_by().values_list(*fields, "pk")[:MATCHES_MAX + 1])
    rows.sort(reverse=descending)
    return Matches(queryset.order_by(*order), [row[-1] for row in rows[:MATCHES_MAX]],
                   truncated=len(rows) > MATCHES_MAX)


def orders_by_partial_number(digits: str) -> Matches:
    """Orders whose number starts with, ends with, or has its middle segment start with the digits
    (「…1234567」, the last segment or more across its hyphen; 「9876543」, the middle segment; the
    first digits): what an agent reads off an e-mail. Each is a prefix search on a B-tree
    (migration ``shop.0011_order_number_part_indexes``: ``reverse(number)``, ``substring(number, 5)``,
    and the number's own), newest first."""
    first = ORDER_NUMBER_GROUPS[0]
    match = Q(number__startswith=_placed(digits, 0))
    match |= Q(number_reversed__startswith=_placed(digits, ORDER_NUMBER_DIGITS - len(digits))[::-1])
    if len(digits) <= ORDER_NUMBER_DIGITS - first:
        match |= Q(number_after_first__startswith=_placed(digits, first))
    return matches(Order.objects.alias(number_reversed=Reverse("number"), number_after_first=Substr("number", first + 2))
                   .filter(match).select_related("customer"), "-placed_at", "-id")


def customers_by_email_prefix(text: str) -> Matches:
    return matches(Customer.objects.filter(email__startswith=text.lower()), "email", "id")


def search(query: str) -> SearchResult:
    """One box: order number (hyphens optional, full-width), tracking/inquiry number, payment
    code, e-mail, phone, customer ID. Each interpretation is its own indexed equality lookup
    (never one OR across tables, which would scan the orders); the order ids are merged."""
    text = nfkc(query or "")
    result = SearchResult(query=text)
    if not text:
        return result
    if "@" in text:
        result.kind = "email"
        # Two indexed equalities rather than iexact (UPPER(email) has no index).
        result.customers = list(Customer.objects.filter(email__in={text, text.lower()})[:SEARCH_LIMIT])
        if not result.customers:
            result.kind = "email_prefix"
            result.customer_matches = customers_by_email_prefix(text)
        result.orders = _orders(_orders_of(result.customers))
        return result
    compact = SEPARATORS.sub("", text)
    if compact.startswith("+81") and compact[3:].isdigit():
        compact = "0" + compact[3:]
    if not (compact.isascii() and compact.isdigit()):
        result.kind = "external_id"
        result.customers = list(Customer.objects.filter(external_id=text)[:1])
        if not result.customers:
            result.kind = "name"
            result.customer_matches = customers_by_name(text)
        result.orders = _orders(_orders_of(result.customers))
        return result
    n = len(compact)
    ids: set[int] = set()
    if n == ORDER_NUMBER_DIGITS:
        result.kind = "order_number"
        ids |= set(Order.objects.filter(number=hyphenate_order_number(compact))
                   .values_list("pk", flat=True))
    if n == TRACKING_DIGITS:  # the tracking number, which is also the pickup inquiry number (SPEC §4)
        result.kind = "tracking_number"
        ids |= set(Shipment.objects.filter(tracking_number=compact).values_list("order_id", flat=True))
    code_ids = _konbini_code_orders(compact)
    if code_ids:
        result.kind = result.kind or "payment_code"
        ids |= code_ids
    if compact.startswith("0") and n in (10, 11):
        try:
            e164 = phone_e164(compact)
        except DomainError:
            e164 = None
        if e164:
            result.kind = result.kind or "phone"
            result.customers = list(Customer.objects.filter(phone=e164)[:SEARCH_LIMIT])
            ids |= _orders_of(result.customers)
    result.orders = _orders(ids)
    if not ids and not result.customers and PARTIAL_DIGITS_MIN <= n < ORDER_NUMBER_DIGITS:
        result.kind = "partial_order_number"
        result.order_matches = orders_by_partial_number(compact)
    return result


# --- order page ------------------------------------------------------------------------------

def order_detail(number: str) -> Order | None:
    """The order with everything its page shows, in a fixed number of queries."""
    return (
        Order.objects.select_related("customer", "payment", "shipment", "pickup_store", "fulfilling_seller",
                                     "pickup", "pickup__store")
        .prefetch_related(
            "lines",
            "payment__konbini_codes",
            Prefetch("shipment__events", queryset=ShipmentEvent.objects.order_by("occurred_at", "id")),
            Prefetch("events", queryset=OrderEvent.objects.order_by("at", "id")),
            Prefetch("refunds", queryset=Refund.objects.order_by("created_at", "id")),
        )
        .filter(number=number)
        .first()
    )


def pickup_of(order: Order) -> Pickup | None:
    try:
        return order.pickup
    except ObjectDoesNotExist:
        return None


def pickup_attempts(pickup: Pickup, limit: int = 30) -> list[PickupAttempt]:
    """Every terminal attempt is shown to staff (SPEC §4); the latest first."""
    return list(PickupAttempt.objects.filter(pickup=pickup).select_related("store").order_by("-at", "-id")[:limit])


def konbini_of(order: Order) -> dict | None:
    """The order's konbini payment code with its chain's words (払込票番号, 確認番号...)."""
    code = order_konbini_code(order)
    if code is None:
        return None
    chain = CHAINS[code["chain"]]
    return {**code, "chain_name": chain.name, "number_name": chain.number_name, "terminal": chain.terminal}


def reports_of_order(order: Order) -> list[Report]:
    return list(Report.objects.filter(orders=order).order_by("-priority", "created_at", "id"))


def logins_around(order: Order) -> list[LoginEvent]:
    """The customer's logins before the order (seed 002: what support could not see)."""
    return login_service.logins_before(order.customer_id, [order])


def risk_rules_in_words(order: Order) -> list[dict]:
    """The rules that fired at placement, as staff read them: words and weight (SPEC §5)."""
    out = []
    for item in order.risk_rules or []:
        if isinstance(item, dict):
            code = str(item.get("code") or "")
            words = item.get("description") or RULE_WORDS.get(code, code)
            out.append({"code": code, "words": words, "weight": item.get("weight")})
        else:
            out.append({"code": str(item), "words": RULE_WORDS.get(str(item), str(item)), "weight": None})
    return out


# A rule stored by code only is shown with its description from fraud's defaults.
RULE_WORDS: dict[str, str] = {code: words for code, (words, _weight) in DEFAULT_RISK_RULES.items()}


# --- customer page ---------------------------------------------------------------------------

def customer_orders(customer: Customer) -> QuerySet[Order]:
    """Staff see everything, payment-expired cancellations included (SPEC §2)."""
    return Order.objects.filter(customer=customer).order_by("-placed_at", "-id")


def customer_messages(customer: Customer) -> QuerySet[Message]:
    """Every message the customer was sent (e-mail and message center), on ``message_customer_recent``."""
    return Message.objects.filter(customer=customer).select_related("order").order_by("-created_at", "-id")


def customer_gift_card(customer: Customer) -> GiftCardAccount | None:
    return GiftCardAccount.objects.filter(customer=customer).first()


def gift_card_entries(account: GiftCardAccount) -> QuerySet[GiftCardEntry]:
    return account.entries.select_related("order").order_by("-created_at", "-id")


def customer_points(customer: Customer, limit: int = 20) -> tuple[int, list[PointsEntry]]:
    """The points balance and the newest ledger lines (two queries; 0 and none without an account)."""
    balance = PointsAccount.objects.filter(customer=customer).values_list("balance", flat=True).first() or 0
    entries = list(PointsEntry.objects.filter(account__customer=customer).order_by("-created_at", "-id")[:limit])
    return balance, entries


def open_seller_closures() -> QuerySet[SellerClosureRequest]:
    """The seller closure queue, oldest first, with how many checklist items are confirmed."""
    return (SellerClosureRequest.objects.filter(status=SellerClosureRequest.Status.OPEN).select_related("seller")
            .annotate(checks_done=Count("checks")).order_by("created_at", "id"))


def seller_detail(pk: int) -> Seller | None:
    return Seller.objects.filter(pk=pk).annotate(listings_count=Count("listings")).first()


def seller_closure_requests(seller: Seller) -> list[SellerClosureRequest]:
    return list(SellerClosureRequest.objects.filter(seller=seller).prefetch_related("checks")
                .order_by("-created_at", "-id"))


def customer_stats(customer: Customer) -> dict:
    """Order count, and no-shows (seed 001: repeated no-shows are not free) from pickup's records."""
    return {"orders": Order.objects.filter(customer=customer).count(),
            "no_shows": PickupNoShow.objects.filter(customer=customer).count()}


# --- queues ----------------------------------------------------------------------------------

def waiting_callbacks() -> QuerySet[CallbackRequest]:
    """Oldest first (SPEC §2), on the ``callback_queue`` index."""
    return (CallbackRequest.objects.filter(status=CallbackRequest.Status.WAITING)
            .select_related("customer", "order").order_by("created_at", "id"))


def open_callbacks() -> QuerySet[CallbackRequest]:
    """Waiting and claimed call-backs, oldest first: the queue until an outcome closes them."""
    return (CallbackRequest.objects.filter(status__in=CallbackRequest.OPEN_STATUSES)
            .select_related("customer", "order").order_by("created_at", "id"))


def closed_callbacks() -> QuerySet[CallbackRequest]:
    return (CallbackRequest.objects.filter(status=CallbackRequest.Status.DONE)
            .select_related("customer", "order").order_by("-handled_at", "-id"))


def notes_of_callbacks(callbacks: list[CallbackRequest]) -> dict[int, list[Note]]:
    """The notes of a page of call-backs, in one query."""
    out: dict[int, list[Note]] = {}
    if callbacks:
        for note in Note.objects.filter(target_kind=TargetKind.CALLBACK, target_id__in=[cb.pk for cb in callbacks]
                                        ).order_by("created_at", "id"):
            out.setdefault(note.target_id, []).append(note)
    return out


def failed_refunds() -> QuerySet[Refund]:
    return refunds.failed_queue().select_related("order", "order__customer")


def orders_on_hold() -> QuerySet[Order]:
    """The review queue as fraud orders it (highest score first)."""
    return review_service.held_orders()


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
    tone: str = ""  # "warn" when something is waiting, "bad" when it is urgent or overdue
    oldest: datetime | None = None  # when the longest-waiting item came in
    overdue: int = 0  # items past the queue's SLA (``staff.sla``)
    sla: str = ""  # the SLA in words


PICKUP_EXPIRY_WINDOW = timedelta(days=2)  # issue 7: the dashboard lists pickups expiring within 2 days


def pickups_expiring() -> QuerySet[Pickup]:
    """Parcels still waiting whose deadline is within two days, on the ``pickup_due`` index."""
    return (Pickup.objects.filter(status=Pickup.Status.READY, deadline__lte=now() + PICKUP_EXPIRY_WINDOW)
            .select_related("order", "order__customer", "store").order_by("deadline", "id"))


def pickups_locked() -> QuerySet[Pickup]:
    return (Pickup.objects.filter(status=Pickup.Status.READY, locked=True)
            .select_related("order", "order__customer", "store").order_by("locked_at", "id"))


def open_reports() -> QuerySet[Report]:
    """Open and in-progress reports, high priority first, oldest first (``fraud_report_queue``)."""
    return (Report.objects.filter(status__in=OPEN_REPORT_STATUSES)
            .select_related("customer", "seller", "assignee").order_by("-priority", "created_at", "id"))


def transfer_batches() -> QuerySet[TransferBatch]:
    return TransferBatch.objects.defer("content").order_by("-created_at", "-id")


def transfer_batches_ready() -> QuerySet[TransferBatch]:
    """Batches finance still has to transfer (created or downloaded, not yet marked transferred)."""
    return TransferBatch.objects.exclude(status=TransferBatch.Status.TRANSFERRED)


def konbini_due_today_list() -> QuerySet[Payment]:
    return konbini_due_today().select_related("order", "order__customer").order_by("deadline", "id")


def _queue_tile(key: str, label, queryset: QuerySet, since: str, url: str, *, urgent: bool = False) -> Tile:
    """Count, oldest and overdue of one queue in one aggregate query (on the queue's index)."""
    sla_key = key if key in sla.SLA else ""
    aggregates = {"n": Count("pk"), "oldest": Min(since)}
    if sla_key:
        aggregates["late"] = Count("pk", filter=Q(**{f"{since}__lt": sla.overdue_before(sla_key)}))
    row = queryset.order_by().aggregate(**aggregates)
    tile = Tile(key, label, row["n"], url, oldest=row["oldest"], overdue=row.get("late") or 0,
                sla=sla.sla_words(sla_key) if sla_key else "")
    tile.tone = ("bad" if urgent or tile.overdue else "warn") if tile.count else ""
    return tile


# Which tiles each group sees first (issue 17: per-group dashboards); a tile whose page the user
# may not open is not shown at all.
GROUP_FIRST: dict[str, tuple[str, ...]] = {
    permissions.SUPPORT: ("callbacks", "pickups_locked", "failed_refunds", "konbini_due_today"),
    permissions.FRAUD: ("reports_high", "on_hold", "reports_normal", "cod_blocked"),
    permissions.FINANCE: ("failed_refunds", "transfers_ready", "konbini_due_today"),
}


def dashboard(user) -> dict:
    """Each queue as a tile: count, age of the oldest, overdue against its SLA, and a link to the
    list under the same filter. Only the queues the user's groups may open, theirs first."""
    def url(page: str, name: str, query: str = "") -> str:
        return reverse(name) + query if permissions.can_view(user, page) else ""

    candidates = [
        ("callbacks", "callbacks", lambda: _queue_tile(
            "callbacks", _("折り返し電話の依頼"), open_callbacks(), "created_at", url("callbacks", "staff:callbacks"))),
        ("reports", "reports_high", lambda: _queue_tile(
            "reports_high", _("未解決の不正報告（優先度：高）"), open_reports().filter(priority=ReportPriority.HIGH),
            "created_at", url("reports", "staff:reports", "?priority=high"), urgent=True)),
        ("reports", "reports_normal", lambda: _queue_tile(
            "reports_normal", _("未解決の不正報告（優先度：通常）"), open_reports().filter(priority=ReportPriority.NORMAL),
            "created_at", url("reports", "staff:reports", "?priority=normal"))),
        ("review_queue", "on_hold", lambda: _queue_tile(
            "on_hold", _("審査待ちの注文（保留）"), orders_on_hold(), "placed_at", url("review_queue", "staff:review_queue"))),
        ("pickups", "pickups_locked", lambda: _queue_tile(
            "pickups_locked", _("ロック中のコンビニ受取"), pickups_locked(), "locked_at",
            url("pickups", "staff:pickups", "?show=locked"), urgent=True)),
        ("pickups", "pickups_expiring", lambda: _queue_tile(
            "pickups_expiring", _("2日以内に受取期限が来るコンビニ受取"), pickups_expiring(), "deadline",
            url("pickups", "staff:pickups", "?show=expiring"))),
        ("failed_refunds", "failed_refunds", lambda: _queue_tile(
            "failed_refunds", _("失敗した返金"), failed_refunds(), "updated_at",
            url("failed_refunds", "staff:failed_refunds"), urgent=True)),
        ("konbini_due", "konbini_due_today", lambda: _queue_tile(
            "konbini_due_today", _("本日が支払期限のコンビニ払い"), konbini_due_today(), "deadline",
            url("konbini_due", "staff:konbini_due"))),
        ("transfer_batches", "transfers_ready", lambda: _queue_tile(
            "transfers_ready", _("振込待ちの振込バッチ"), transfer_batches_ready(), "created_at",
            url("transfer_batches", "staff:transfers"))),
        ("seller_closures", "seller_closures", lambda: _queue_tile(
            "seller_closures", _("出品者の閉鎖依頼"), SellerClosureRequest.objects.filter(
                status=SellerClosureRequest.Status.OPEN), "created_at", url("seller_closures", "staff:seller_closures"))),
        ("addresses", "cod_blocked", lambda: _queue_tile(
            "cod_blocked", _("代引き停止中の住所"), AddressReputation.objects.filter(cod_blocked=True), "cod_blocked_at",
            url("addresses", "staff:addresses", "?blocked=1"))),
        ("webhooks", "webhooks_failing", lambda: _queue_tile(
            "webhooks_failing", _("配信に失敗しているWebhook"), webhook_selectors.failing_endpoints(), "failing_since",
            url("webhooks", "staff:webhooks"), urgent=True)),
    ]
    groups = permissions.groups_of(user)
    first = [key for group, keys in GROUP_FIRST.items() if user.is_superuser or group in groups for key in keys]
    rank = {key: i for i, key in enumerate(dict.fromkeys(first))}
    visible = [(key, build) for page, key, build in candidates if permissions.can_view(user, page)]
    visible.sort(key=lambda item: rank.get(item[0], len(rank)))
    tiles = [build() for _key, build in visible]
    show_callbacks = permissions.can_view(user, "callbacks")
    return {"tiles": tiles, "oldest_callbacks": list(open_callbacks()[:10]) if show_callbacks else [],
            "show_callbacks": show_callbacks, "maintenance": next_maintenance_window(now())}


# --- customer page extras --------------------------------------------------------------------

def customer_logins(customer: Customer, limit: int = 20) -> list[LoginEvent]:
    return list(LoginEvent.objects.filter(customer=customer).order_by("-occurred_at", "-id")[:limit])


@dataclass(frozen=True)
class Revocation:
    """A "log out every device" with the logins (sessions) it ended: those since the one before."""

    revocation: SessionRevocation
    logins: list[LoginEvent]


def customer_session_revocations(customer: Customer, limit: int = 10) -> list[Revocation]:
    """The customer's latest revocations, newest first, each with the sessions it ended (the
    logins after the previous revocation and before it). Two queries whatever the history."""
    rows = list(SessionRevocation.objects.filter(customer=customer).select_related("report")
                .order_by("-revoked_at", "-id")[:limit + 1])  # one more: the lower bound of the last
    if not rows:
        return []
    shown = rows[:limit]
    logins = LoginEvent.objects.filter(customer=customer, occurred_at__lte=shown[0].revoked_at)
    if len(rows) > limit:
        logins = logins.filter(occurred_at__gt=rows[-1].revoked_at)
    logins = list(logins.order_by("-occurred_at", "-id")[:200])
    bounds = [r.revoked_at for r in rows[1:]] + [None]
    return [Revocation(r, [e for e in logins if e.occurred_at <= r.revoked_at and (lower is None or e.occurred_at > lower)])
            for r, lower in zip(shown, bounds, strict=False)]


@dataclass(frozen=True)
class PasswordReset:
    token: PasswordResetToken
    state: str  # pending, used, expired, superseded

    @property
    def state_label(self):
        return PASSWORD_RESET_STATES[self.state]


PASSWORD_RESET_STATES = {"pending": _("再設定待ち"), "used": _("使用済み"), "expired": _("期限切れ"),
                         "superseded": _("新しいリンクで無効")}


def customer_password_resets(customer: Customer, limit: int = 5) -> list[PasswordReset]:
    """The customer's latest password-reset links (requested, expires, used) with their state."""
    current = now()

    def state(t: PasswordResetToken) -> str:
        if t.used_at is not None:
            return "used"
        if t.revoked_at is not None:
            return "superseded"
        return "expired" if t.expires_at <= current else "pending"

    tokens = (PasswordResetToken.objects.filter(customer=customer).select_related("report")
              .order_by("-created_at", "-id")[:limit])
    return [PasswordReset(t, state(t)) for t in tokens]


def customer_reports(customer: Customer) -> list[Report]:
    return list(Report.objects.filter(customer=customer).order_by("-created_at", "-id")[:20])


def report_detail(pk: int) -> Report | None:
    return (Report.objects.select_related("customer", "seller", "assignee")
            .prefetch_related(Prefetch("orders", queryset=Order.objects.order_by("placed_at", "id")),
                              "checks", "linked", "events")
            .filter(pk=pk).first())


def logins_before_orders(customer_id: int, orders: list[Order]) -> list[LoginEvent]:
    return login_service.logins_before(customer_id, orders)


# --- activity log ----------------------------------------------------------------------------

def activities(*, user: str = "", action: str = "", kind: str = "", day: str = "", target: str = "") -> QuerySet:
    """The staff activity log, newest first, under the page's filters (``staff_activity_*`` indexes)."""
    queryset = Activity.objects.all()
    if user:
        queryset = queryset.filter(username=user)
    if action:
        queryset = queryset.filter(action=action)
    if kind:
        queryset = queryset.filter(target_kind=kind)
    if target.isdigit():
        queryset = queryset.filter(target_id=int(target))
    if day:
        try:
            start = datetime.combine(datetime.strptime(day, "%Y-%m-%d").date(), time.min, tzinfo=JST)
        except ValueError:
            start = None
        if start is not None:
            queryset = queryset.filter(at__gte=start, at__lt=start + timedelta(days=1))
    return queryset.order_by("-at", "-id")


def query_without_page(params) -> str:
    """The list's filters as a query string, without ``page`` (for paging and CSV links)."""
    params = params.copy()
    params.pop("page", None)
    params.pop("format", None)
    return params.urlencode()


def activity_of(obj, limit: int = 20) -> list[Activity]:
    return list(Activity.objects.filter(target_kind=target_kind_of(obj), target_id=obj.pk).order_by("-at", "-id")[:limit])


# --- addresses -------------------------------------------------------------------------------

def address_detail(key: str) -> dict:
    """What the address page shows: recent orders sent there, its COD refusals and its reports."""
    return {
        "orders": list(Order.objects.filter(address_key=key).select_related("customer")
                       .order_by("-placed_at", "-id")[:30]),
        "refusals": list(CodRefusal.objects.filter(address_key=key).select_related("order")
                         .order_by("-refused_at", "-id")[:30]),
        "reports": list(Report.objects.filter(address_key=key).order_by("-created_at", "-id")[:20]),
    }
