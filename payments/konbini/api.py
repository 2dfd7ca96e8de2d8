"""Konbini payment endpoints of the partner API (API.md "Storefront" and "Konbini chain").
One class per operation: validate → check the partner's scope → call one service."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from backoffice import limits
from backoffice.actors import Actor
from backoffice.api.fields import (
    MAX_YEN,
    NumberStringField,
    ReportedTimeField,
    StrictBooleanField,
    StrictCharField,
    StrictIntegerField,
    validated,
)
from backoffice.api.idempotency import idempotent
from backoffice.errors import InvalidInput, NotFound
from backoffice.models import Partner
from backoffice.timeutil import now
from payments.konbini import codes, confirmations, maintenance, preliminary, settlement
from payments.konbini.chains import CHAIN_CHOICES
from shop import scopes

K = Partner.Kind



class ChooseChainIn(serializers.Serializer):
    chain = serializers.ChoiceField(choices=CHAIN_CHOICES)


class PaymentCodeOut(serializers.Serializer):
    chain = serializers.CharField()
    chain_name = serializers.CharField()
    number_name = serializers.CharField()
    payment_number = serializers.CharField()
    check_code = serializers.CharField(allow_null=True)
    terminal = serializers.CharField()
    amount = serializers.IntegerField()
    deadline = serializers.DateTimeField()
    instructions = serializers.ListField(child=serializers.CharField())


class KonbiniPaymentView(APIView):
    """The payment-instructions endpoint (「お支払い方法について」): closed in the maintenance window."""

    partner_kinds = {K.STOREFRONT}

    @extend_schema(request=ChooseChainIn, responses={201: PaymentCodeOut})
    def post(self, request, number):
        maintenance.ensure_instructions_available(now())
        data = validated(ChooseChainIn, request.data)
        order = scopes.order_for(request.auth, number)
        code, payment = codes.issue(order=order, chain_code=data["chain"], actor=Actor.partner(request.auth))
        return Response(codes.representation(code, payment), status=201)

    @extend_schema(responses={200: PaymentCodeOut})
    def get(self, request, number):
        maintenance.ensure_instructions_available(now())
        order = scopes.order_for(request.auth, number)
        payment = getattr(order, "payment", None)
        code = codes.current_code(payment) if payment is not None else None
        if code is None:
            raise NotFound("お支払い番号はまだ発行されていません。", code="payment_code_not_found")
        return Response(codes.representation(code, payment))


class LookupIn(serializers.Serializer):
    payment_number = NumberStringField(max_length=32)
    check_code = NumberStringField(max_length=16, required=False, allow_blank=True, allow_null=True)


class ConfirmIn(LookupIn):
    amount = StrictIntegerField(min_value=1, max_value=MAX_YEN)
    store_code = StrictCharField(max_length=20)
    paid_at = ReportedTimeField(max_age=limits.PAYMENT_REPORT_MAX_AGE)
    receipt_number = StrictCharField(max_length=64)


class KonbiniLookupView(APIView):
    partner_kinds = {K.KONBINI_CHAIN}

    @extend_schema(request=LookupIn, responses={200: inline_serializer("KonbiniLookup", {
        "payment_number": serializers.CharField(), "chain": serializers.CharField(),
        "amount": serializers.IntegerField(), "deadline": serializers.DateTimeField(),
        "status": serializers.CharField()})})
    def post(self, request):
        data = validated(LookupIn, request.data)
        return Response(confirmations.lookup(chain_code=request.auth.chain, payment_number=data["payment_number"],
                                             check_code_value=data.get("check_code")))


class KonbiniConfirmView(APIView):
    partner_kinds = {K.KONBINI_CHAIN}

    @extend_schema(request=ConfirmIn, responses={200: inline_serializer("KonbiniConfirmed", {
        "status": serializers.CharField(), "payment_number": serializers.CharField(),
        "amount": serializers.IntegerField(), "receipt_number": serializers.CharField(),
        "store_code": serializers.CharField(), "paid_at": serializers.DateTimeField()})})
    def post(self, request):
        return idempotent(request, "konbini.confirm", lambda: self._confirm(request))

    def _confirm(self, request):
        data = validated(ConfirmIn, request.data)
        partner = request.auth
        body = confirmations.confirm(
            chain_code=partner.chain, payment_number=data["payment_number"], check_code_value=data.get("check_code"),
            cash=confirmations.CashPayment(amount=data["amount"], store_code=data["store_code"],
                                           paid_at=data["paid_at"], receipt_number=data["receipt_number"]),
            actor=Actor.partner(partner), partner=partner,
        )
        return Response(body)


class CancelPreliminaryIn(serializers.Serializer):
    payment_number = NumberStringField(max_length=32)
    receipt_number = StrictCharField(max_length=64)
    cancelled_at = ReportedTimeField(max_age=limits.PAYMENT_REPORT_MAX_AGE)


class KonbiniCancelPreliminaryView(APIView):
    """速報取消 (API.md "Konbini settlement"): the register voided a sale it had reported."""

    partner_kinds = {K.KONBINI_CHAIN}

    @extend_schema(request=CancelPreliminaryIn, responses={200: inline_serializer("KonbiniPreliminaryCancelled", {
        "status": serializers.CharField(), "payment_number": serializers.CharField(),
        "receipt_number": serializers.CharField(), "order_status": serializers.CharField(),
        "payment_status": serializers.CharField(), "finance_case": serializers.IntegerField(allow_null=True)})})
    def post(self, request):
        data = validated(CancelPreliminaryIn, request.data)
        return Response(preliminary.cancel_preliminary(
            scope=scopes.konbini_scope(request.auth), payment_number=data["payment_number"],
            receipt_number=data["receipt_number"], cancelled_at=data["cancelled_at"],
            actor=Actor.partner(request.auth)))


class SettlementItemIn(serializers.Serializer):
    payment_number = serializers.CharField()
    receipt_number = serializers.CharField()
    amount = serializers.IntegerField()
    paid_at = serializers.DateTimeField()


class SettlementIn(serializers.Serializer):
    """Only the envelope goes through DRF: the items (up to a day's sales) are checked by the
    importer's own parser, the same one as finance's CSV upload."""

    settlement_date = serializers.DateField()
    items = serializers.ListField(child=SettlementItemIn())
    correction = StrictBooleanField(required=False, default=False)


class KonbiniSettlementView(APIView):
    """確報: the chain's final daily report, matched against its preliminary reports."""

    partner_kinds = {K.KONBINI_CHAIN}

    @extend_schema(request=SettlementIn, responses={200: inline_serializer("KonbiniSettlementResult", {
        "settled": serializers.IntegerField(), "report_id": serializers.IntegerField(),
        "settlement_date": serializers.DateField(),
        "discrepancies": serializers.ListField(child=inline_serializer("KonbiniSettlementDiscrepancy", {
            "payment_number": serializers.CharField(), "receipt_number": serializers.CharField(),
            "code": serializers.CharField()})),
        "correction": serializers.DictField(allow_null=True)})})
    def post(self, request):
        body = request.data
        if not isinstance(body, dict):
            raise InvalidInput("リクエスト本文はオブジェクトで指定してください。", code="invalid")
        scope = scopes.konbini_scope(request.auth)
        correction = body.get("correction", False)
        if not isinstance(correction, bool):
            raise InvalidInput("true または false で指定してください。", code="invalid", field="correction")
        day = settlement.parse_date(body.get("settlement_date"))
        lines = settlement.parse_items(scope.chain, body.get("items"))
        return Response(settlement.import_report(scope=scope, settlement_date=day, lines=lines, correction=correction,
                                                 actor=Actor.partner(request.auth), partner=request.auth))
