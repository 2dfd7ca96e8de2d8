"""The issuer a receipt names (適格請求書発行事業者): its name and registration number.

Both come from settings (``INVOICE_ISSUER_NAME``, ``INVOICE_REGISTRATION_NUMBER``); the number is
checked when Django starts, so a mistyped number stops the deploy instead of reaching a
customer's qualified invoice, where it would void the buyer's input-tax credit.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from backoffice.checkdigits import invoice_registration_number_valid


@dataclass(frozen=True)
class Issuer:
    name: str
    registration_number: str


def check_settings() -> Issuer:
    """The configured issuer, or ``ImproperlyConfigured`` naming the setting that is wrong."""
    name = str(getattr(settings, "INVOICE_ISSUER_NAME", "")).strip()
    number = str(getattr(settings, "INVOICE_REGISTRATION_NUMBER", "")).strip()
    if not name:
        raise ImproperlyConfigured("INVOICE_ISSUER_NAME: 領収書の発行者名を設定してください。")
    if not invoice_registration_number_valid(number):
        raise ImproperlyConfigured(
            f"INVOICE_REGISTRATION_NUMBER={number!r}: 登録番号は「T」と13桁の数字（先頭はチェックデジット）"
            "で設定してください。")
    return Issuer(name=name, registration_number=number)


def current() -> Issuer:
    return check_settings()
