"""Card gateway adapter. The default is a local sandbox (the only fake: an outside party)."""

from __future__ import annotations

import uuid

from django.conf import settings
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
    """Sandbox tokens (API.md): ``tok_visa`` succeeds, ``tok_declined`` is declined."""

    TOKENS = {"tok_visa", "tok_declined"}

    def capture(self, *, token: str, amount: int, reference: str) -> str:
        if token not in self.TOKENS:
            raise InvalidInput("カードトークンが無効です。", code="invalid_card_token", field="card_token")
        if token == "tok_declined":
            raise CardDeclined()
        return f"ch_{token}_{uuid.uuid4().hex[:16]}"

    def refund(self, *, charge_reference: str, amount: int, idempotency_key: str) -> str:
        return f"re_{uuid.uuid4().hex[:16]}"


def get_gateway():
    return import_string(getattr(settings, "PAYMENT_GATEWAY", "payments.gateway.SandboxGateway"))()
