"""The konbini terminal (Loppi / Famiポート) and the register (SPEC §4, seed 001).

Terminal: store + お問い合わせ番号 + 認証番号 → 申し込み券 valid 30 minutes (a new one voids the
old). Register: the ticket → the parcel is handed over → order ``delivered``.

Brute force (seed 000's worry): an unknown number, a wrong auth number and a wrong store get
the same 404, so the answer is no oracle. Failed guesses against a parcel are counted under
its row lock, so concurrent guesses lock it after exactly ``LOCK_AFTER_FAILURES``; every
attempt at a store is counted against its throttle before it is decided (``throttle.reserve``),
so a concurrent burst gets exactly the limit through. Another chain's parcel is out of scope.
A malformed number is a 400 and counts nowhere. Every attempt is recorded (store, time, outcome) for staff.
"""

from __future__ import annotations

import functools
import secrets
from dataclasses import dataclass

from django.db import IntegrityError, connection, transaction

from backoffice import rawsql
from backoffice.errors import Conflict, DomainError, Gone, InvalidInput, NotFound
from backoffice.normalize import digits
from backoffice.timeutil import now
from pickup import rules
from pickup.models import Pickup, PickupAttempt, PickupTicket, Store
from pickup.services import parcels, stores, throttle
from shop import events
from shop.models import Order, OrderStatus
from shop.services import orders, shipments

S = OrderStatus
Outcome = PickupAttempt.Outcome


# --- the errors a terminal can see (API.md "Konbini chain") -----------------------------------

def _not_found() -> DomainError:
    # One message for unknown number, wrong auth number and wrong store: no oracle.
    return NotFound("お問い合わせ番号または認証番号が正しくありません。", code="pickup_not_found")


_ERRORS = {
    Outcome.UNKNOWN_NUMBER: _not_found,
    Outcome.WRONG_AUTH: _not_found,
    Outcome.WRONG_STORE: _not_found,
    Outcome.LOCKED: lambda: DomainError(
        "認証に続けて失敗したため、この荷物はロックされています。カスタマーサービスにお問い合わせください。",
        code="pickup_locked", status=423),
    Outcome.EXPIRED: lambda: Gone("受取期限を過ぎたため、この荷物はお受け取りいただけません。", code="pickup_expired"),
    Outcome.ALREADY_PICKED_UP: lambda: Conflict("この荷物は既にお受け取り済みです。", code="already_picked_up"),
}


def _throttled(until) -> DomainError:
    retry_after = max(1, int((until - now()).total_seconds()))
    return DomainError("この店舗では一時的にご利用いただけません。しばらくしてから再度お試しください。",
                       code="store_throttled", status=429, headers={"Retry-After": str(retry_after)})


# --- the terminal -----------------------------------------------------------------------------

@dataclass(frozen=True)
class IssuedTicket:
    ticket: PickupTicket
    pickup: Pickup


def normalize_keys(inquiry_number: object, auth_number: object) -> tuple[str, str]:
    """12 + 7 digits, full-width and hyphens accepted, the 7DR check digit verified (400 otherwise)."""
    inquiry = shipments.normalize_tracking_number(inquiry_number, field="inquiry_number")
    auth = digits(auth_number, field="auth_number", length=rules.AUTH_NUMBER_DIGITS,
                  message="認証番号は%(n)s桁の数字で入力してください。", params={"n": rules.AUTH_NUMBER_DIGITS})
    return inquiry, auth


def issue_ticket(*, chain: str, store_code: object, inquiry_number: object, auth_number: object,
                 partner: str = "") -> IssuedTicket:
    """A terminal asks for an application ticket (申し込み券). Raises the API.md errors.

    The hot path is one locked read (parcel, order, store), the ticket and the attempt: the
    store is looked up on its own only when the parcel does not vouch for it."""
    stores.ensure_pickup_chain(chain)
    code = stores.normalize_store_code(store_code)
    try:
        inquiry, auth = normalize_keys(inquiry_number, auth_number)
    except InvalidInput:
        store = stores.store_of_chain(chain, code)
        until = throttle.throttled_until(store)
        _record(store, None, str(inquiry_number)[:40], Outcome.THROTTLED if until else Outcome.INVALID_NUMBER,
                partner)
        if until:
            raise _throttled(until) from None
        raise
    for _ in range(3):
        try:
            with transaction.atomic():
                outcome, pickup, ticket, store = _try_issue(chain, code, inquiry, auth)
                _record(store, pickup, inquiry, outcome, partner)
                if outcome == Outcome.ISSUED:
                    _commit_without_fsync()
            break
        except IntegrityError:  # a ticket number collision (1 in 10^13): draw again
            continue
    else:  # pragma: no cover
        raise Conflict("申し込み券を発行できませんでした。", code="ticket_unavailable")
    if outcome == Outcome.ISSUED:
        return IssuedTicket(ticket, pickup)
    if outcome == Outcome.THROTTLED:
        raise _throttled(store.throttled_until)
    raise _ERRORS[outcome]()


def _commit_without_fsync() -> None:
    """A printed ticket is not money: if PostgreSQL crashed in the next fraction of a second and
    lost it, the customer prints another. So its transaction commits without waiting for the
    WAL flush (the flush per ticket would be most of the terminal's latency). Failed attempts —
    the lockout count — and the handover at the register keep the synchronous commit."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL synchronous_commit TO OFF")


_PARCEL_SQL = """
SELECT {columns}, o.number, o.status, s.chain, s.code, s.name, s.throttled_until,
       EXISTS (SELECT 1 FROM {ticket} t WHERE t.pickup_id = p.id AND t.voided_at IS NULL
               AND t.redeemed_at IS NULL) AS has_open_ticket
FROM {pickup} p JOIN {order} o ON o.id = p.order_id JOIN {store} s ON s.id = p.store_id
WHERE p.inquiry_number = %s {lock}
"""
_PICKUP_COLUMNS = [f.attname for f in Pickup._meta.concrete_fields]


@functools.cache
def _parcel_sql(lock: bool) -> str:
    return _PARCEL_SQL.format(
        columns=rawsql.columns("p", Pickup, _PICKUP_COLUMNS), ticket=PickupTicket._meta.db_table,
        pickup=Pickup._meta.db_table, order=Order._meta.db_table, store=Store._meta.db_table,
        lock="FOR UPDATE OF p" if lock else "")


def _lock_parcel(inquiry: str) -> Pickup | None:
    """The parcel, locked (``FOR UPDATE OF`` the parcel only), with what the terminal reads of its
    order and store and whether it has an open ticket: one statement, written out because the
    ORM spends longer compiling it than the database does running it (the terminal's hot path)."""
    sql = _parcel_sql(connection.features.has_select_for_update_of)
    with connection.cursor() as cursor:
        cursor.execute(sql, [inquiry])
        row = cursor.fetchone()
    if row is None:
        return None
    n = len(_PICKUP_COLUMNS)
    pickup = rawsql.instance(Pickup, _PICKUP_COLUMNS, row[:n])
    number, status, chain, code, name, throttled_until, has_open_ticket = row[n:]
    pickup.has_open_ticket = bool(has_open_ticket)
    pickup.order = rawsql.instance(Order, ["id", "number", "status"], [pickup.order_id, number, status])
    pickup.store = rawsql.instance(Store, ["id", "chain", "code", "name", "throttled_until"],
                                   [pickup.store_id, chain, code, name, throttled_until])
    return pickup


def _try_issue(chain: str, code: str, inquiry: str, auth: str):
    """Decide the outcome under the parcel's row lock; write the failure count or the ticket.
    Returns (outcome, pickup or None, ticket or None, the terminal's store).

    Another chain's parcel is out of this terminal's scope: it answers as an unknown number and
    its failure count is never touched (a FamilyMart terminal cannot lock a Lawson parcel). The
    attempt is counted against the store's throttle before it is decided (``throttle.reserve``)."""
    pickup = _lock_parcel(inquiry)
    if pickup is not None and pickup.store.chain != chain:
        pickup = None
    if pickup is not None and pickup.store.code == code:
        store = pickup.store
    else:
        store = stores.store_of_chain(chain, code)  # 404 store_not_found: not this chain's store
    if throttle.throttled_until(store):  # the whole store is refused, the keys are not even looked at
        return Outcome.THROTTLED, None, None, store
    slot = throttle.reserve(store)
    if slot.over_limit:
        throttle.release(slot)
        throttle.throttle(store)
        return Outcome.THROTTLED, None, None, store
    try:
        outcome, ticket = _decide(pickup, store, auth)
    except BaseException:
        throttle.release(slot)
        raise
    if outcome not in PickupAttempt.FAILURES:
        throttle.release(slot)
    elif slot.throttles:
        throttle.throttle(store)
    return outcome, pickup, ticket, store


def _decide(pickup: Pickup | None, store: Store, auth: str) -> tuple[str, PickupTicket | None]:
    if pickup is None:
        return Outcome.UNKNOWN_NUMBER, None
    if pickup.store_id != store.pk:
        # Even a locked parcel answers 404 elsewhere: another store learns nothing about it.
        return _fail(pickup, Outcome.WRONG_STORE), None
    if pickup.locked:
        return Outcome.LOCKED, None
    if not secrets.compare_digest(pickup.auth_number, auth):
        return _fail(pickup, Outcome.WRONG_AUTH), None
    if pickup.status == Pickup.Status.PICKED_UP:
        return Outcome.ALREADY_PICKED_UP, None
    current = now()
    if not parcels.is_live(pickup, pickup.order.status, current):
        return Outcome.EXPIRED, None
    if pickup.has_open_ticket:  # a new ticket voids the old one
        PickupTicket.objects.filter(pickup=pickup, voided_at__isnull=True, redeemed_at__isnull=True).update(
            voided_at=current)
    number = f"{secrets.randbelow(10 ** rules.TICKET_NUMBER_DIGITS):0{rules.TICKET_NUMBER_DIGITS}d}"
    ticket = PickupTicket.objects.create(pickup=pickup, store=store, number=number, issued_at=current,
                                         expires_at=current + rules.TICKET_VALIDITY)
    if pickup.consecutive_failures:
        pickup.consecutive_failures = 0
        pickup.save(update_fields=["consecutive_failures"])
    return Outcome.ISSUED, ticket


def _fail(pickup: Pickup, outcome: str) -> str:
    """Count one failed guess against the parcel (caller holds its row lock); lock it at the limit."""
    if pickup.locked:
        return outcome
    pickup.consecutive_failures += 1
    fields = ["consecutive_failures"]
    if pickup.consecutive_failures >= rules.LOCK_AFTER_FAILURES:
        pickup.locked, pickup.locked_at = True, now()
        fields += ["locked", "locked_at"]
        events.pickup(order=pickup.order, kind="pickup_locked", actor="system", failures=rules.LOCK_AFTER_FAILURES)
    pickup.save(update_fields=fields)
    return outcome


def _record(store: Store, pickup: Pickup | None, inquiry: str, outcome: str, partner: str) -> PickupAttempt:
    return PickupAttempt.objects.create(store=store, pickup=pickup, inquiry_number=inquiry, at=now(),
                                        outcome=outcome, partner=partner[:100])


# --- the register -----------------------------------------------------------------------------

def normalize_ticket_number(value: object) -> str:
    return digits(value, field="ticket_number", length=rules.TICKET_NUMBER_DIGITS,
                  message="申し込み券番号は%(n)s桁の数字で入力してください。", params={"n": rules.TICKET_NUMBER_DIGITS})


def redeem(*, chain: str, ticket_number: object, store_code: object, actor: str) -> Pickup:
    """The register scans the ticket: hand the parcel over, once, and mark the order delivered."""
    store = stores.store_of_chain(chain, store_code)
    try:
        number = normalize_ticket_number(ticket_number)
    except InvalidInput:
        raise NotFound("申し込み券が見つかりません。", code="ticket_not_found", field="ticket_number") from None
    with transaction.atomic():
        pickup_id = PickupTicket.objects.filter(number=number, store=store).values_list("pickup_id", flat=True).first()
        if pickup_id is None:  # unknown, or printed at another store
            raise NotFound("申し込み券が見つかりません。", code="ticket_not_found", field="ticket_number")
        # Lock order everywhere: the parcel, then its tickets (issue_ticket and expiry do the same).
        pickup = Pickup.objects.select_for_update(of=("self",)).select_related("order").get(pk=pickup_id)
        ticket = PickupTicket.objects.select_for_update().get(number=number)
        if ticket.redeemed_at is not None:
            raise Conflict("この申し込み券は既に使用されています。", code="ticket_already_used")
        current = now()
        # A live ticket outlasts the parcel's deadline (expiry waits for it), not its order: a
        # carrier return or a staff cancellation kills it at once (API.md: 410, never a 409).
        if (ticket.voided_at is not None or current > ticket.expires_at
                or not parcels.is_live(pickup, pickup.order.status)):
            raise Gone("申し込み券の有効期限が切れています。端末で再度発行してください。", code="ticket_expired")
        ticket.redeemed_at = current
        ticket.save(update_fields=["redeemed_at"])
        pickup.status, pickup.picked_up_at, pickup.closed_at = Pickup.Status.PICKED_UP, current, current
        pickup.save(update_fields=["status", "picked_up_at", "closed_at"])
        orders.transition(pickup.order, S.DELIVERED, actor=actor, cause="picked_up", store=store.name,
                          ticket=ticket.number)
    return pickup


# --- staff ------------------------------------------------------------------------------------

def unlock(pickup: Pickup, *, actor: str) -> Pickup:
    """Staff unlock a parcel locked by failed attempts; the count starts again from zero."""
    with transaction.atomic():
        pickup = Pickup.objects.select_for_update(of=("self",)).select_related("order").get(pk=pickup.pk)
        if not pickup.locked:
            raise Conflict("この荷物はロックされていません。", code="pickup_not_locked")
        pickup.locked, pickup.locked_at, pickup.consecutive_failures = False, None, 0
        pickup.save(update_fields=["locked", "locked_at", "consecutive_failures"])
        events.pickup(order=pickup.order, kind="pickup_unlocked", actor=actor)
    return pickup

