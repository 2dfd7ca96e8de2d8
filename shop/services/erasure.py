"""Erasure of a closed customer's personal data (退会後の個人情報の削除; issue 15), run by the job
``erase_closed_customers``. Irreversible: the values are overwritten in place, nothing keeps a copy.

Erased: the customer's name, e-mail, phone and suspension reason; the address, recipient and phone
of every order (and its address key); the IP, user agent and device of every login event (and the
known devices); the refund bank account; what the storefront reported — call-back requests' phone
and topic, fraud reports' descriptions; the messages (their text carries names, addresses and
pickup keys), any password-reset token and the bodies of the webhook deliveries about its
orders. Kept for the books until ``books_retained_until``: the
orders with their lines, totals and timeline, payments, refunds and transfer records, both ledgers.
The log is the closure row: when, and how many rows of each kind were erased.
"""

from __future__ import annotations

import logging

from django.db import transaction
from django.db.models import Count, IntegerField, OuterRef, Subquery, Value
from django.db.models.functions import Coalesce, JSONObject

from backoffice.timeutil import now
from fraud.models import KnownDevice, LoginEvent, PasswordResetToken, Report
from payments.models import BankAccount
from shop.models import CallbackRequest, Customer, CustomerClosure, Message, Order
from webhooks.models import Delivery

log = logging.getLogger(__name__)

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
    # What partners were sent about the orders (webhook bodies carry the resource, addresses included).
    ("webhook_deliveries", Delivery, "event__order__customer_id", {"body": "", "request_excerpt": "",
                                                                  "response_excerpt": ""}),
]
CUSTOMER_ERASED = {"name": "", "email": "", "phone": "", "suspended_reason": ""}


def _count_of(model, column: str):
    """The number of ``model`` rows of the closure's customer, as a correlated subquery."""
    rows = (model.objects.filter(**{column: OuterRef("customer_id")}).order_by().values(column)
            .annotate(n=Count("pk")).values("n"))
    return Coalesce(Subquery(rows, output_field=IntegerField()), Value(0))


def erase_batch(*, batch_size: int = ERASE_BATCH_SIZE) -> int:
    """Erase up to ``batch_size`` closed customers, oldest closure first, in one transaction.

    The closures are claimed ``FOR UPDATE SKIP LOCKED``: two runs at once erase different
    customers. The log (``erased_at``, how many rows of each kind) is written first, by one UPDATE
    that counts in the database, then every table is blanked by one statement for the whole batch.
    Returns how many were erased (0 when none is due)."""
    with transaction.atomic():
        claimed = list(CustomerClosure.objects.select_for_update(skip_locked=True)
                       .filter(erased_at__isnull=True).order_by("closed_at", "id")
                       .values_list("pk", "customer_id")[:batch_size])
        if not claimed:
            return 0
        ids = [customer_id for _, customer_id in claimed]
        CustomerClosure.objects.filter(pk__in=[pk for pk, _ in claimed]).update(
            erased_at=now(),
            erased_rows=JSONObject(customer=Value(1), **{what: _count_of(model, column)
                                                         for what, model, column, _ in _TARGETS}))
        for _what, model, column, values in _TARGETS:
            rows = model.objects.filter(**{f"{column}__in": ids})
            if values is None:
                rows.delete()
            else:
                rows.update(**values)
        Customer.objects.filter(pk__in=ids).update(**CUSTOMER_ERASED)
    log.info("erased the personal data of %d closed customers (closures %s…)", len(claimed), claimed[0][0])
    return len(claimed)


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
