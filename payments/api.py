"""Payments endpoints of the partner API (storefront): the customer's refund bank account.

``PUT /customers/{external_id}/bank-account`` body (API.md, plus one optional field):
``{bank_code, branch_code, account_type: ordinary|checking (普通/当座 accepted), account_number,
holder_kana, use_for_refunds?: bool}``. ``use_for_refunds: true`` makes bank transfer the
customer's refund method for konbini cash and COD (default: the gift-card balance); omitted, it
is left as it was (false for a new account). Errors: 400 ``invalid_bank_code``, ``bank_not_found``,
``invalid_branch_code``, ``branch_not_found``, ``invalid_account_type``, ``invalid_account_number``,
``invalid_holder_kana``; 404 ``customer_not_found``. ``GET`` returns the stored account (404
``bank_account_not_found`` when none).

``POST /orders/{order_number}/returns`` (storefront; not in API.md, added for returns of
delivered goods): ``{lines: [{sku, quantity}]}`` or ``{amount}``, optional ``reference`` (an RMA
number: the same reference is the same return) → 201 ``{refund_id, amount, method, status}``.
Errors: 409 ``not_returnable`` (not delivered), ``return_quantity_exceeded``,
``refund_exceeds_captured``; 400 ``line_not_found``, ``invalid_return``, ``invalid_amount``.

``POST /customers/{external_id}/gift-card/charges`` ``{amount, reference}`` → 201 ``{balance,
points_earned, points_balance}`` (API.md "Account closure"): a charge earns points, once per reference.
``GET /customers/{external_id}/points`` → ``{balance, entries: [{kind, points, reference, created_at}]}``.
``PUT /seller/bank-account`` (seller; not in API.md): the payout account, the same fields and
errors as the customer's refund account without ``use_for_refunds``; ``GET`` returns it.
"""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from backoffice.actors import Actor
from backoffice.api.fields import (
    MAX_QUANTITY,
    MAX_YEN,
    StrictBooleanField,
    StrictCharField,
    StrictIntegerField,
    validated,
)
from backoffice.api.idempotency import idempotent
from backoffice.errors import NotFound
from backoffice.models import Partner
from payments.models import BankAccount, SellerPayoutAccount
from payments.services import bank, points, refunds
from shop import scopes, selectors


class BankAccountIn(serializers.Serializer):
    # Strings, validated by the service (full-width digits, hyphens, 普通/当座, hiragana accepted).
    # Codes keep their leading zeros, so a JSON number is refused rather than converted.
    bank_code = StrictCharField()
    branch_code = StrictCharField()
    account_type = StrictCharField()
    account_number = StrictCharField()
    holder_kana = StrictCharField(max_length=100)
    use_for_refunds = StrictBooleanField(required=False)


class BankAccountOut(serializers.ModelSerializer):
    class Meta:
        model = BankAccount
        fields = ["bank_code", "bank_name", "branch_code", "branch_name", "account_type", "account_number",
                  "holder_kana", "use_for_refunds"]


class BankAccountView(APIView):
    partner_kinds = {Partner.Kind.STOREFRONT}

    @extend_schema(responses={200: BankAccountOut})
    def get(self, request, external_id):
        account = bank.account_of(scopes.customer_for(request.auth, external_id))
        if account is None:
            raise NotFound("返金用口座が登録されていません。", code="bank_account_not_found")
        return Response(BankAccountOut(account).data)

    @extend_schema(request=BankAccountIn, responses={200: BankAccountOut})
    def put(self, request, external_id):
        customer = scopes.customer_for(request.auth, external_id)
        account = bank.set_bank_account(customer=customer, **validated(BankAccountIn, request.data))
        return Response(BankAccountOut(account).data)


class SellerPayoutAccountIn(serializers.Serializer):
    bank_code = StrictCharField()
    branch_code = StrictCharField()
    account_type = StrictCharField()
    account_number = StrictCharField()
    holder_kana = StrictCharField(max_length=100)


class SellerPayoutAccountOut(serializers.ModelSerializer):
    class Meta:
        model = SellerPayoutAccount
        fields = ["bank_code", "bank_name", "branch_code", "branch_name", "account_type", "account_number",
                  "holder_kana"]


class SellerPayoutAccountView(APIView):
    partner_kinds = {Partner.Kind.SELLER}

    @extend_schema(responses={200: SellerPayoutAccountOut})
    def get(self, request):
        account = bank.payout_account_of(request.auth.seller)
        if account is None:
            raise NotFound("入金口座が登録されていません。", code="bank_account_not_found")
        return Response(SellerPayoutAccountOut(account).data)

    @extend_schema(request=SellerPayoutAccountIn, responses={200: SellerPayoutAccountOut})
    def put(self, request):
        account = bank.set_payout_account(seller=request.auth.seller,
                                          **validated(SellerPayoutAccountIn, request.data))
        return Response(SellerPayoutAccountOut(account).data)


class GiftCardChargeIn(serializers.Serializer):
    amount = StrictIntegerField(min_value=1, max_value=MAX_YEN)
    reference = StrictCharField(max_length=80)


class GiftCardChargeView(APIView):
    """A charge (チャージ) of the gift-card balance: 2% in points, 2.5% for Prime (seed 003)."""

    partner_kinds = {Partner.Kind.STOREFRONT}

    @extend_schema(request=GiftCardChargeIn, responses={201: dict})
    def post(self, request, external_id):
        customer = scopes.customer_for(request.auth, external_id)
        data = validated(GiftCardChargeIn, request.data)
        done = points.charge(customer=customer, amount=data["amount"], reference=data["reference"])
        return Response({"balance": done.balance, "points_earned": done.points_earned,
                         "points_balance": done.points_balance, "reference": done.gift_card_entry.reference},
                        status=201)


class PointsView(APIView):
    partner_kinds = {Partner.Kind.STOREFRONT}

    @extend_schema(responses={200: dict})
    def get(self, request, external_id):
        customer = scopes.customer_for(request.auth, external_id)
        account = points.account_for(customer)
        entries = points.recent_entries(account)
        return Response({"balance": account.balance, "entries": [
            {"kind": e.kind, "points": e.points, "reference": e.reference, "note": e.note,
             "created_at": selectors._iso(e.created_at)} for e in entries]})


class ReturnLineIn(serializers.Serializer):
    sku = StrictCharField(max_length=64)
    quantity = StrictIntegerField(min_value=1, max_value=MAX_QUANTITY)


class ReturnIn(serializers.Serializer):
    lines = ReturnLineIn(many=True, required=False)
    amount = StrictIntegerField(required=False, min_value=1, max_value=MAX_YEN)
    reference = StrictCharField(required=False, allow_blank=True, max_length=64, default="")


class ReturnOut(serializers.Serializer):
    refund_id = serializers.IntegerField(source="pk")
    amount = serializers.IntegerField()
    method = serializers.CharField()
    status = serializers.CharField()


class OrderReturnView(APIView):
    partner_kinds = {Partner.Kind.STOREFRONT}

    @extend_schema(request=ReturnIn, responses={201: ReturnOut})
    def post(self, request, number):
        return idempotent(request, "orders.return", lambda: self._return(request, number))

    def _return(self, request, number):
        data = validated(ReturnIn, request.data)
        lines = [(line["sku"], line["quantity"]) for line in data["lines"]] if "lines" in data else None
        refund = refunds.refund_return(order=scopes.order_for(request.auth, number), lines=lines, amount=data.get("amount"),
                                       reference=data["reference"], actor=Actor.partner(request.auth))
        return Response(ReturnOut(refund).data, status=201)
