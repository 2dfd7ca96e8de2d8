"""Account security: sessions, password-reset tokens, suspension (SPEC §5, seed 002)."""

from __future__ import annotations

import hashlib
import secrets

from django.db import transaction
from django.db.models import F

from backoffice.errors import Conflict, Gone, InvalidInput, NotFound
from backoffice.timeutil import now
from fraud import rules
from fraud.models import AccountAction, PasswordResetToken, Report, SessionRevocation
from fraud.services.reports import actor_name, record
from shop.models import Customer
from shop.services import messages


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def revoke_sessions(customer: Customer, *, actor, cause: str, report: Report | None = None) -> int:
    """Bump the session epoch: the storefront drops every session issued under a lower one. The
    revocation is recorded in the same transaction (the customer page lists who, when and why).
    ``cause`` is one of ``SessionRevocation.Cause`` (a ValueError before anything is written)."""
    cause = SessionRevocation.Cause(cause)
    with transaction.atomic():
        Customer.objects.filter(pk=customer.pk).update(session_epoch=F("session_epoch") + 1)
        customer.refresh_from_db(fields=["session_epoch"])
        SessionRevocation.objects.create(customer=customer, epoch=customer.session_epoch, revoked_at=now(),
                                         actor=actor_name(actor)[:100], cause=cause, report=report)
    return customer.session_epoch


def require_password_reset(customer: Customer, *, report: Report | None = None) -> PasswordResetToken:
    """Issue a single-use, expiring reset token (only its digest is stored) and send the link.

    Earlier unused tokens of the customer are revoked: only the newest link works.
    """
    at = now()
    token = secrets.token_urlsafe(32)
    with transaction.atomic():
        PasswordResetToken.objects.filter(customer=customer, used_at__isnull=True, revoked_at__isnull=True).update(
            revoked_at=at)
        reset = PasswordResetToken.objects.create(
            customer=customer, report=report, token_digest=_digest(token), created_at=at,
            expires_at=at + rules.PASSWORD_RESET_TOKEN_TTL,
        )
        messages.notify(
            customer=customer, kind="password_reset_required", dedupe_key=f"password_reset_required:{reset.pk}",
            context={"reset_url": rules.PASSWORD_RESET_URL.format(token=token), "expires_at": reset.expires_at,
                     "report": report},
        )
    return reset


def password_reset_required(customer: Customer) -> bool:
    return PasswordResetToken.objects.filter(customer=customer, used_at__isnull=True,
                                             revoked_at__isnull=True).exists()


def redeem_password_reset(customer: Customer, token: str) -> PasswordResetToken:
    """The storefront redeems the link once, before the customer sets a new password."""
    if not isinstance(token, str) or not token:
        raise InvalidInput("トークンを指定してください。", code="required", field="token")
    with transaction.atomic():
        reset = (PasswordResetToken.objects.select_for_update()
                 .filter(customer=customer, token_digest=_digest(token)).first())
        if reset is None or reset.used_at is not None or reset.revoked_at is not None:
            raise NotFound("パスワード再設定のリンクが無効です。", code="reset_token_invalid", field="token")
        if reset.expires_at <= now():
            raise Gone("パスワード再設定のリンクの有効期限が切れています。", code="reset_token_expired", field="token")
        reset.used_at = now()
        reset.save(update_fields=["used_at"])
    return reset


# --- suspension -----------------------------------------------------------------------------

def suspend(customer: Customer, *, reason: str, actor, report: Report | None = None) -> Customer:
    """Stop the customer ordering (``POST /orders`` → 403 ``customer_suspended``); sessions end."""
    return _set_suspended(customer, True, reason=reason, actor=actor, report=report)


def reinstate(customer: Customer, *, reason: str, actor, report: Report | None = None) -> Customer:
    return _set_suspended(customer, False, reason=reason, actor=actor, report=report)


def _set_suspended(customer: Customer, suspended: bool, *, reason: str, actor, report: Report | None) -> Customer:
    if not isinstance(reason, str) or not reason.strip():
        raise InvalidInput("理由を入力してください。", code="required", field="reason")
    reason = reason.strip()[:500]
    with transaction.atomic():
        customer = Customer.objects.select_for_update(no_key=True).get(pk=customer.pk)
        if customer.suspended == suspended:
            raise Conflict("既に利用停止中です。" if suspended else "利用停止中ではありません。",
                           code="already_suspended" if suspended else "not_suspended")
        customer.suspended = suspended
        customer.suspended_reason = reason if suspended else ""
        customer.save(update_fields=["suspended", "suspended_reason"])
        if suspended:
            revoke_sessions(customer, actor=actor, cause=SessionRevocation.Cause.SUSPENSION, report=report)
        kind = AccountAction.Kind.SUSPEND if suspended else AccountAction.Kind.REINSTATE
        AccountAction.objects.create(customer=customer, kind=kind, reason=reason, actor=actor_name(actor)[:100],
                                     report=report, at=now())
        if report is not None:
            record(report, f"customer_{kind}", actor, f"{AccountAction.Kind(kind).label}：{reason}")
    return customer
