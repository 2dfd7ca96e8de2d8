"""Erasure of a closed customer's personal data (退会後の個人情報の削除; issue 15), run by the job
``erase_closed_customers``. Irreversible: the values are overwritten in place, nothing keeps a copy.

Erased: the customer's name, e-mail, phone and suspension reason; the address, recipient and phone
of every order (and its address key); the IP, user agent and device of every login event (and the
known devices); the refund bank account; what the storefront reported — call-back requests' phone
and topic, fraud reports' descriptions; the messages (their text carries names, addresses and
pickup keys) and any password-reset token. Kept for the books until ``books_retained_until``: the
orders with their lines, totals and timeline, payments, refunds and transfer records, both ledgers.
The log is the closure row: when, and how many rows of each kind were erased.
"""

from __future__ import annotations

from collections import Counter

from django.db import transaction
from django.db.models import Count

from backoffice.timeutil import now
from fraud.models import KnownDevice, LoginEvent, PasswordResetToken, Report
from payments.models import BankAccount
from shop.models import CallbackRequest, Customer, CustomerClosure, Message, Order

ERASE_BATCH_SIZE = 500

# (what, model, how it reaches the customer, the erased values; None = delete the rows)
_TARGETS = [
    ("orders", Order, "customer_id", {"postal_code": "", "prefecture": "", "city": "", "address_line": "",
                                      "recipient_name": "", "recipient_phone": "", "address_key": ""}),
    ("login_events", LoginEvent, "customer_id", {"ip": None, "user_agent": "", "device_id": ""}),
    ("callback_requests", CallbackRequest, "customer_id", {"phone": "", "topic": ""}),
    ("reports", Report, "customer_id", {"description": "", "address_key": ""}),
    ("known_devices", KnownDevice, "customer_id", None),
    ("bank_accounts", BankAccount, "customer_id", None),
    ("messages", Message, "customer_id", None),
    ("password_reset_tokens", PasswordResetToken, "customer_id", None),
]
CUSTOMER_ERASED = {"name": "", "email": "", "phone": "", "suspended_reason": ""}


def _counts(model, column: str, ids: list[int]) -> dict[int, int]:
    return dict(model.objects.filter(**{f"{column}__in": ids}).order_by().values(column)
                .annotate(n=Count("pk")).values_list(column, "n"))


def erase_batch(*, batch_size: int = ERASE_BATCH_SIZE) -> int:
    """Erase up to ``batch_size`` closed customers, oldest closure first, in one transaction.

    The closures are claimed ``FOR UPDATE SKIP LOCKED``: two runs at once erase different
    customers. Returns how many were erased (0 when none is due)."""
    with transaction.atomic():
        closures = list(CustomerClosure.objects.select_for_update(skip_locked=True)
                        .filter(erased_at__isnull=True).order_by("closed_at", "id")[:batch_size])
        if not closures:
            return 0
        ids = [c.customer_id for c in closures]
        per_customer: dict[int, Counter] = {cid: Counter() for cid in ids}
        for what, model, column, values in _TARGETS:
            for cid, n in _counts(model, column, ids).items():
                per_customer[cid][what] = n
            rows = model.objects.filter(**{f"{column}__in": ids})
            if values is None:
                rows.delete()
            else:
                rows.update(**values)
        Customer.objects.filter(pk__in=ids).update(**CUSTOMER_ERASED)
        at = now()
        for closure in closures:
            closure.erased_at = at
            closure.erased_rows = {"customer": 1, **per_customer[closure.customer_id]}
        CustomerClosure.objects.bulk_update(closures, ["erased_at", "erased_rows"])
    return len(closures)


def erase_due(*, batch_size: int = ERASE_BATCH_SIZE, max_batches: int | None = None) -> int:
    """Every closed customer not yet erased, a batch at a time. Returns how many were erased."""
    erased = batches = 0
    while max_batches is None or batches < max_batches:
        done = erase_batch(batch_size=batch_size)
        if not done:
            break
        erased += done
        batches += 1
    return erased
