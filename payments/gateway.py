"""Card gateway adapter. The default is a local sandbox (the only fake: an outside party)."""

from __future__ import annotations

import os
import time
import uuid

from django.conf import settings
from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.module_loading import import_string

from backoffice import rawsql
from backoffice.errors import DomainError, InvalidInput
from payments import gateway_errors
from payments.models import SandboxGatewayCapture, SandboxGatewayRefund


class CardDeclined(DomainError):
    status = 402
    code = "card_declined"
    message = "カードが承認されませんでした。別のお支払い方法をお試しください。"


class PaymentGatewayUnavailable(DomainError):
    """The gateway did not answer a capture (after the retry): nothing is charged, the order is cancelled."""

    status = 503
    code = "payment_gateway_unavailable"
    message = "決済サービスに接続できませんでした。しばらくしてから再度お試しください。"


# Decision (not in the seeds): the ``Retry-After`` of ``payment_gateway_unavailable``, in seconds.
PAYMENT_RETRY_AFTER_SECONDS = 30


class GatewayError(Exception):
    """A gateway failure: its stable ``code`` (``gateway_errors.GATEWAY_ERRORS`` says what it means
    and whether it is permanent) and the gateway's own text. Transient ones are retried."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.transient = not gateway_errors.is_permanent(code)


class SandboxGateway:
    """The local sandbox gateway (API.md tokens, README's list).

    Captures:
    - ``tok_visa`` (and the refund tokens below): captured at once; ``tok_declined``: declined;
    - ``tok_capture_slow``: captured, then the answer waits while the hold file exists (a slow
      gateway: tests look at what placement holds while a capture is in flight);
    - ``tok_capture_lost``: captured, but the first answer is lost (a transient error); a retry
      with the same idempotency key gets the first capture's reference;
    - ``tok_capture_timeout``: captured, but every answer is lost (the caller gives up and voids).

    Refunds: ``tok_visa``: succeed; ``tok_refund_flaky``: the first two refund calls fail
    transiently, the third succeeds; ``tok_refund_timeout``: every refund call fails transiently
    (exhausts the retries); ``tok_refund_fail``: every refund call fails permanently.

    Like a real gateway, a capture, a void and a refund are idempotent per ``idempotency_key``: a
    repeated call returns the first one's reference and moves no money twice. Its records
    (``SandboxGatewayCapture``, ``SandboxGatewayRefund``) are written on the caller's database
    connection, so they commit or roll back with the caller.

    Test hook: when the file named by ``SANDBOX_GATEWAY_HOLD_FILE`` exists, a refund call (and a
    ``tok_capture_slow`` capture, after capturing) appends its pid to ``<file>.entered`` and waits
    (at most 120 s) until the file is removed, so a test can act in the middle of the call.
    Benchmark hook: ``SANDBOX_GATEWAY_CAPTURE_SECONDS`` delays every capture's answer.
    """

    TOKENS = {"tok_visa", "tok_declined", "tok_capture_slow", "tok_capture_lost", "tok_capture_timeout",
              "tok_refund_flaky", "tok_refund_timeout", "tok_refund_fail"}
    FLAKY_FAILURES = 2

    def check_token(self, token: str) -> None:
        """A malformed or unknown token is bad input (400, before anything is written)."""
        if token not in self.TOKENS:
            raise InvalidInput("カードトークンが無効です。", code="invalid_card_token", field="card_token")

    def capture(self, *, token: str, amount: int, reference: str, idempotency_key: str) -> str:
        """Take ``amount`` yen from the card once per ``idempotency_key``; returns the charge reference."""
        self.check_token(token)
        Capture = SandboxGatewayCapture
        declined = token == "tok_declined"
        mine = f"ch_{token}_{uuid.uuid4().hex[:16]}"
        # One statement that waits for a concurrent call with the same key, then keeps the first:
        # the first call's row comes back from the INSERT, a repeat reads the row it found.
        table, params = rawsql.insert_row(Capture(
            idempotency_key=idempotency_key, token=token, amount=amount, reference=mine,
            status=Capture.Status.DECLINED if declined else Capture.Status.CAPTURED,
        ), "capture")
        with connection.cursor() as cursor:
            cursor.execute(f"INSERT INTO {table} ON CONFLICT (idempotency_key) DO NOTHING RETURNING status, reference",
                           params)
            row = cursor.fetchone()
        first = row is not None
        if first:
            status, reference = row
        else:
            record = Capture.objects.get(idempotency_key=idempotency_key)
            status, reference = record.status, record.reference
            Capture.objects.filter(pk=record.pk).update(calls=F("calls") + 1)
        if status == Capture.Status.DECLINED:
            raise CardDeclined()
        if status == Capture.Status.VOIDED:
            raise GatewayError(gateway_errors.CAPTURE_VOIDED, "sandbox: this capture was voided")
        if token == "tok_capture_timeout" or (token == "tok_capture_lost" and first):
            raise GatewayError(gateway_errors.CAPTURE_TIMEOUT, "sandbox: capture timed out after capturing (transient)")
        if token == "tok_capture_slow":
            self._hold()
        self._latency()
        return reference

    def void(self, *, capture_key: str) -> bool:
        """Give the money of the capture made under ``capture_key`` back; idempotent (a no-op when
        there is none or it is already voided). True when this call voided a capture."""
        Capture = SandboxGatewayCapture
        return bool(Capture.objects.filter(idempotency_key=capture_key, status=Capture.Status.CAPTURED)
                    .update(status=Capture.Status.VOIDED, voided_at=timezone.now()))

    def refund(self, *, charge_reference: str, amount: int, idempotency_key: str) -> str:
        Record = SandboxGatewayRefund
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
                error = GatewayError(gateway_errors.REFUND_REFUSED, "sandbox: refund refused (permanent)")
            elif token == "tok_refund_timeout" or (token == "tok_refund_flaky" and record.calls <= self.FLAKY_FAILURES):
                error = GatewayError(gateway_errors.GATEWAY_TIMEOUT, "sandbox: gateway timeout (transient)")
            else:
                record.status, record.reference = Record.Status.SUCCEEDED, f"re_{uuid.uuid4().hex[:16]}"
            record.save(update_fields=["calls", "status", "reference"])
        if error is not None:
            raise error
        return record.reference

    @staticmethod
    def _latency() -> None:
        """Benchmark hook: ``SANDBOX_GATEWAY_CAPTURE_SECONDS`` makes every capture answer that late
        (a real gateway's round trip), so bench/api.py can show what a placement holds meanwhile."""
        seconds = float(os.environ.get("SANDBOX_GATEWAY_CAPTURE_SECONDS") or 0)
        if seconds > 0:
            time.sleep(seconds)

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
