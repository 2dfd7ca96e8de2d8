"""Customers and call-back requests."""

from __future__ import annotations

from django.db import IntegrityError, transaction

from backoffice import rawsql
from backoffice.errors import Conflict, Forbidden, Gone, InvalidInput, NotFound
from backoffice.normalize import phone_e164
from backoffice.statements import Select
from shop.models import CallbackRequest, Customer, Order


class CustomerClosed(Gone):
    """Every endpoint of a closed customer's external id (API.md "Account closure")."""

    code = "customer_closed"
    message = "このアカウントは退会済みです。"


# Compiled once per connection (``backoffice.statements``): every placement reads its customer.
_by_external_id = Select(lambda external_id: Customer.objects.filter(external_id=external_id)[:1])
_locked_by_external_id = Select(
    lambda external_id: Customer.objects.select_for_update(no_key=True).filter(external_id=external_id)[:1])


def upsert(*, external_id: str, email: str, name: str, phone: str | None = None,
           prime: bool | None = None, lock: bool = False) -> Customer:
    """Create or update a customer by ``external_id`` (API.md ``POST /orders``). A closed
    customer's external id is 410: a new account (same e-mail or not) comes with a new one.
    ``prime`` (``customer.prime``) is left as it was when None.

    ``lock=True`` (placement, inside its transaction): the row comes back locked as ``lock_open``
    locks it, read and locked by one statement (a ``FOR NO KEY UPDATE`` that waited returns the
    row as the closure left it, so the closed check is current); a new customer is inserted with
    ``ON CONFLICT DO NOTHING`` — its uncommitted row is ours until the transaction ends — and a
    concurrent insert of the same id is found and locked instead, with no savepoint either way."""
    fields: dict = {"email": email, "name": name}
    if phone:
        fields["phone"] = phone_e164(phone, field="customer.phone")
    if prime is not None:
        fields["prime"] = prime
    existing = Customer.objects.select_for_update(no_key=True) if lock else Customer.objects
    customer = (_locked_by_external_id if lock else _by_external_id).first(external_id)
    if customer is None:
        if lock:
            customer = Customer(external_id=external_id, **fields)
            if rawsql.insert_unless_conflict(customer, unique="external_id"):
                return customer
            customer = existing.get(external_id=external_id)  # inserted meanwhile by a concurrent request
        else:
            try:
                with transaction.atomic():
                    return Customer.objects.create(external_id=external_id, **fields)
            except IntegrityError:
                customer = Customer.objects.get(external_id=external_id)
    if customer.closed_at is not None:
        raise CustomerClosed()
    changed = [k for k, v in fields.items() if getattr(customer, k) != v]
    if changed:
        for k in changed:
            setattr(customer, k, fields[k])
        customer.save(update_fields=changed)
    return customer


def get(external_id: str) -> Customer:
    """The customer of an external id: 404 unknown, 410 ``customer_closed`` once closed."""
    customer = _by_external_id.first(external_id)
    if customer is None:
        raise NotFound("お客様が見つかりません。", code="customer_not_found")
    if customer.closed_at is not None:
        raise CustomerClosed()
    return customer


def lock_open(customer: Customer) -> Customer:
    """Lock the customer row (``FOR NO KEY UPDATE``) and re-read it: 410 if it closed meanwhile.

    Whatever adds to a customer's account (an order, a charge) takes this lock first, and the
    closure takes it too, so a closure and an order never both commit past each other's check."""
    locked = Customer.objects.select_for_update(no_key=True).get(pk=customer.pk)
    if locked.closed_at is not None:
        raise CustomerClosed()
    return locked


def ensure_can_order(customer: Customer) -> None:
    if customer.suspended:
        raise Forbidden("このアカウントは現在ご利用いただけません。", code="customer_suspended")


def request_callback(*, customer: Customer, phone: str, topic: str, order: Order | None = None) -> CallbackRequest:
    """「今すぐ電話がほしい」 (seeds 002, 003): queued for staff, oldest first."""
    return CallbackRequest.objects.create(customer=customer, order=order, phone=phone_e164(phone), topic=topic)


def claim_callback(*, request_id: int, staff: str) -> CallbackRequest:
    """An agent takes a waiting call-back (issue 17), so two agents do not call the same customer.
    Claimed by someone else already: refused with who has it."""
    from backoffice.timeutil import now

    staff = str(staff)
    with transaction.atomic():
        cb = CallbackRequest.objects.select_for_update().get(pk=request_id)
        if cb.status == CallbackRequest.Status.DONE:
            raise Conflict("この依頼は既に対応済みです。", code="callback_closed")
        if cb.status == CallbackRequest.Status.CLAIMED and cb.claimed_by != staff:
            raise Conflict("この依頼は %(staff)s が対応中です。", params={"staff": cb.claimed_by}, code="callback_claimed")
        if cb.status == CallbackRequest.Status.WAITING:
            cb.status, cb.claimed_by, cb.claimed_at = CallbackRequest.Status.CLAIMED, staff, now()
            cb.save(update_fields=["status", "claimed_by", "claimed_at"])
    return cb


def complete_callback(*, request_id: int, staff: str, outcome: str = "", note: str = "") -> CallbackRequest:
    """Close a call-back with its outcome (issue 17); closing a closed one changes nothing."""
    from backoffice.timeutil import now

    if outcome and outcome not in CallbackRequest.Outcome.values:
        raise InvalidInput("結果が正しくありません。", code="invalid", field="outcome")
    staff = str(staff)
    with transaction.atomic():
        cb = CallbackRequest.objects.select_for_update().get(pk=request_id)
        if cb.status != CallbackRequest.Status.DONE:
            cb.status = CallbackRequest.Status.DONE
            cb.handled_by = staff
            cb.handled_at = now()
            cb.outcome = outcome
            cb.outcome_note = (note or "").strip()[:1000]
            if not cb.claimed_by:
                cb.claimed_by, cb.claimed_at = staff, cb.handled_at
            cb.save(update_fields=["status", "handled_by", "handled_at", "outcome", "outcome_note",
                                   "claimed_by", "claimed_at"])
    return cb
