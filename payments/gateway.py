"""Card gateway adapter. The default is a local sandbox (the only fake: an outside party)."""

from __future__ import annotations

import os
import time
import uuid

from django.conf import settings
from django.db import transaction
from django.utils.module_loading import import_string

from backoffice.errors import DomainError, InvalidInput


class CardDeclined(DomainError):
    status = 402
    code = "card_declined"
    message = "カードが承認されませんでした。別のお支払い方法をお試しください。"


class GatewayError(Exception):
    """A gateway failure. ``transient`` ones are retried; the others are final."""

    def __init__(self, message: str, *, transient: bool) -> None:
        super().__init__(message)
        self.transient = transient


class SandboxGateway:
    """The local sandbox gateway (API.md tokens). Every token captures; refunds differ:

    - ``tok_visa``: refunds succeed; ``tok_declined``: the capture is declined;
    - ``tok_refund_flaky``: the first two refund calls fail transiently, the third succeeds;
    - ``tok_refund_timeout``: every refund call fails transiently (exhausts the retries);
    - ``tok_refund_fail``: every refund call fails permanently.

    Like a real gateway, a refund is idempotent per ``idempotency_key``: a repeated call returns the
    first refund's reference and moves no money twice. Its records (``SandboxGatewayRefund``) are
    written on the caller's database connection, so they commit or roll back with the caller.

    Test hook: when the file named by ``SANDBOX_GATEWAY_HOLD_FILE`` exists, a refund call appends
    its pid to ``<file>.entered`` and waits (at most 120 s) until the file is removed, so a test
    can kill the worker in the middle of a refund.
    """

    TOKENS = {"tok_visa", "tok_declined", "tok_refund_flaky", "tok_refund_timeout", "tok_refund_fail"}
    FLAKY_FAILURES = 2

    def capture(self, *, token: str, amount: int, reference: str) -> str:
        if token not in self.TOKENS:
            raise InvalidInput("カードトークンが無効です。", code="invalid_card_token", field="card_token")
        if token == "tok_declined":
            raise CardDeclined()
        return f"ch_{token}_{uuid.uuid4().hex[:16]}"

    def refund(self, *, charge_reference: str, amount: int, idempotency_key: str) -> str:
        from payments.models import SandboxGatewayRefund as Record

        self._hold()
        with transaction.atomic():
            record, _ = Record.objects.select_for_update().get_or_create(
                idempotency_key=idempotency_key,
                defaults={"charge_reference": charge_reference, "amount": amount, "status": Record.Status.FAILED},
            )
            if record.status == Record.Status.SUCCEEDED:
                return record.reference
            record.calls += 1
            token = charge_reference.removeprefix("ch_").rsplit("_", 1)[0]
            error = None
            if token == "tok_refund_fail":
                error = GatewayError("sandbox: refund refused (permanent)", transient=False)
            elif token == "tok_refund_timeout" or (token == "tok_refund_flaky" and record.calls <= self.FLAKY_FAILURES):
                error = GatewayError("sandbox: gateway timeout (transient)", transient=True)
            else:
                record.status, record.reference = Record.Status.SUCCEEDED, f"re_{uuid.uuid4().hex[:16]}"
            record.save(update_fields=["calls", "status", "reference"])
        if error is not None:
            raise error
        return record.reference

    @staticmethod
    def _hold() -> None:
        hold = os.environ.get("SANDBOX_GATEWAY_HOLD_FILE")
        if not hold or not os.path.exists(hold):
            return
        with open(f"{hold}.entered", "a") as marker:
            marker.write(f"{os.getpid()}\n")
        deadline = time.monotonic() + 120
        while os.path.exists(hold) and time.monotonic() < deadline:
            time.sleep(0.05)


def get_gateway():
    return import_string(getattr(settings, "PAYMENT_GATEWAY", "payments.gateway.SandboxGateway"))()
