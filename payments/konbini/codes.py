"""Payment codes: the customer picks a chain and gets that chain's payment number (SPEC §3).

A number has the chain's length, is random, ends with a Luhn check digit (so a mistyped
number is refused before any lookup) and is unique among the chain's live codes — the
database guarantees it with a partial unique constraint; a collision simply draws again.
Picking another chain voids the previous code; the payment deadline never moves.
"""

from __future__ import annotations

import secrets

from django.db import IntegrityError, transaction

from backoffice.checkdigits import luhn_check_digit, luhn_valid
from backoffice.errors import Conflict, Gone, InvalidInput
from backoffice.normalize import digits
from backoffice.timeutil import local, now
from payments.konbini.chains import CHAINS, Chain
from payments.konbini.models import PaymentCode
from payments.models import Payment
from shop import events
from shop.models import Order, OrderStatus, PaymentMethod
from shop.services import messages
from webhooks.emit import emit

_MAX_DRAWS = 20


def chain_of(code: str) -> Chain:
    chain = CHAINS.get(code)
    if chain is None:
        raise InvalidInput("コンビニの指定が正しくありません。", code="invalid", field="chain")
    return chain


def new_number(chain: Chain) -> str:
    """``chain.digits`` random digits, the last one a Luhn check digit (SPEC §3 decision)."""
    payload = f"{secrets.randbelow(10 ** (chain.digits - 1)):0{chain.digits - 1}d}"
    return payload + luhn_check_digit(payload)


def parse_number(chain: Chain, raw: object) -> str:
    """What the terminal or clerk typed → the number, or 400 ``invalid_number`` (length, digits,
    check digit). Full-width digits, hyphens and spaces are accepted."""
    number = digits(raw, field="payment_number", length=chain.digits, code="invalid_number",
                    message="%(number_name)sは%(digits)s桁の数字で入力してください。",
                    params={"number_name": chain.number_name, "digits": chain.digits})
    if not luhn_valid(number):
        raise InvalidInput("%(number_name)sが正しくありません。番号をお確かめください。",
                           params={"number_name": chain.number_name},
                           code="invalid_number", field="payment_number")
    return number


def representation(code: PaymentCode, payment: Payment) -> dict:
    """The response body of ``POST /orders/{n}/konbini-payment`` (API.md)."""
    chain = CHAINS[code.chain]
    return {
        "chain": code.chain,
        "chain_name": chain.name,
        "number_name": chain.number_name,
        "payment_number": code.number,
        "check_code": code.check_code or None,
        "terminal": chain.terminal,
        "amount": payment.amount,
        "deadline": local(payment.deadline).isoformat() if payment.deadline else None,
        "instructions": chain.instructions(code.number),
    }


def issue(*, order: Order, chain_code: str, actor: str) -> tuple[PaymentCode, Payment]:
    """Give the order a code of ``chain_code``: the current one if it is already that chain's,
    else a new one, voiding the previous chain's code. 409 unless the order awaits payment,
    410 once its deadline has passed."""
    chain = chain_of(chain_code)
    with transaction.atomic():
        order = Order.objects.select_for_update().select_related("customer").get(pk=order.pk)
        if order.payment_method != PaymentMethod.KONBINI:
            raise Conflict("このご注文はコンビニ払いではありません。", code="not_konbini_payment")
        if order.status != OrderStatus.PENDING_PAYMENT:
            raise Conflict(
                "このご注文は現在お支払いを受け付けていません（%(status)s）。",
                params={"status": OrderStatus(order.status).label},
                code="not_pending_payment",
            )
        payment = Payment.objects.get(order=order)
        if payment.deadline is not None and now() > payment.deadline:
            # Decision: the late-payment grace is for cash already on its way, not for new numbers.
            raise Gone("お支払い期限（%(deadline)s）を過ぎたため、"
                       "お支払い番号を発行できません。ご注文は自動的にキャンセルされます。",
                       params={"deadline": f"{local(payment.deadline):%Y年%-m月%-d日 %H:%M}"}, code="payment_expired")
        current = PaymentCode.objects.filter(payment=payment, status=PaymentCode.Status.LIVE).first()
        if current is not None and current.chain == chain.code:
            return current, payment
        at = now()
        if current is not None:
            if PaymentCode.objects.filter(pk=current.pk, status__still=PaymentCode.Status.LIVE).update(
                    status=PaymentCode.Status.VOID, voided_at=at):
                emit("payment_code.voided", [current.pk])
        code = _create_code(payment, chain, at)
        events.konbini_code_issued(order=order, actor=actor, chain=chain.code, number=code.number,
                                   replaced_chain=current.chain if current else "")
        messages.notify(
            customer=order.customer, kind="payment_instructions", order=order,
            dedupe_key=f"payment_instructions:{order.number}:{code.pk}",
            context={"deadline": payment.deadline, "code": _message_code(code)},
        )
    return code, payment


def _create_code(payment: Payment, chain: Chain, at) -> PaymentCode:
    for _ in range(_MAX_DRAWS):
        try:
            with transaction.atomic():
                return PaymentCode.objects.create(
                    payment=payment, chain=chain.code, number=new_number(chain),
                    check_code=chain.check_code or "", created_at=at,
                )
        except IntegrityError:  # the number is live elsewhere in this chain: draw again
            continue
    raise Conflict("お支払い番号を発行できませんでした。時間をおいて再度お試しください。",  # pragma: no cover
                   code="payment_number_unavailable")


def _message_code(code: PaymentCode) -> dict:
    chain = CHAINS[code.chain]
    return {"chain_name": chain.name, "number_name": chain.number_name, "payment_number": code.number,
            "check_code": code.check_code, "steps": chain.instructions(code.number)}


def current_code(payment: Payment) -> PaymentCode | None:
    return PaymentCode.objects.filter(payment=payment, status=PaymentCode.Status.LIVE).first()


def void(code_id: int, *, actor: str) -> bool:
    """Staff: void one live code (the customer can pick a chain again). Returns whether it did."""
    with transaction.atomic():
        code = PaymentCode.objects.select_related("payment__order").filter(pk=code_id).first()
        if code is None:
            return False
        Order.objects.select_for_update().filter(pk=code.payment.order_id).first()
        if not PaymentCode.objects.filter(pk=code.pk, status__still=PaymentCode.Status.LIVE).update(
                status=PaymentCode.Status.VOID, voided_at=now()):
            return False
        events.konbini_code_voided(order=code.payment.order, actor=actor, chain=code.chain, number=code.number)
        emit("payment_code.voided", [code.pk])
    return True
