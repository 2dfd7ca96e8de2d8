"""Customers and call-back requests."""

from __future__ import annotations

from django.db import IntegrityError, transaction

from backoffice.errors import Forbidden, NotFound
from backoffice.normalize import phone_e164
from shop.models import CallbackRequest, Customer, Order


def upsert(*, external_id: str, email: str, name: str, phone: str | None = None) -> Customer:
    """Create or update a customer by ``external_id`` (API.md ``POST /orders``)."""
    fields = {"email": email, "name": name}
    if phone:
        fields["phone"] = phone_e164(phone, field="customer.phone")
    customer = Customer.objects.filter(external_id=external_id).first()
    if customer is None:
        try:
            with transaction.atomic():
                return Customer.objects.create(external_id=external_id, **fields)
        except IntegrityError:
            customer = Customer.objects.get(external_id=external_id)
    changed = [k for k, v in fields.items() if getattr(customer, k) != v]
    if changed:
        for k in changed:
            setattr(customer, k, fields[k])
        customer.save(update_fields=changed)
    return customer


def get(external_id: str) -> Customer:
    customer = Customer.objects.filter(external_id=external_id).first()
    if customer is None:
        raise NotFound("お客様が見つかりません。", code="customer_not_found")
    return customer


def ensure_can_order(customer: Customer) -> None:
    if customer.suspended:
        raise Forbidden("このアカウントは現在ご利用いただけません。", code="customer_suspended")


def request_callback(*, customer: Customer, phone: str, topic: str, order: Order | None = None) -> CallbackRequest:
    """「今すぐ電話がほしい」 (seeds 002, 003): queued for staff, oldest first."""
    return CallbackRequest.objects.create(customer=customer, order=order, phone=phone_e164(phone), topic=topic)


def complete_callback(*, request_id: int, staff: str) -> CallbackRequest:
    from backoffice.timeutil import now

    with transaction.atomic():
        cb = CallbackRequest.objects.select_for_update().get(pk=request_id)
        if cb.status != CallbackRequest.Status.DONE:
            cb.status = CallbackRequest.Status.DONE
            cb.handled_by = staff
            cb.handled_at = now()
            cb.save(update_fields=["status", "handled_by", "handled_at"])
    return cb
