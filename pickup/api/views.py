"""Pickup endpoints of the partner API (API.md "Konbini chain"): the chain's store master, the
terminal and the register. One class per operation: validate → scope → one service."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from backoffice import limits
from backoffice.actors import Actor
from backoffice.api.fields import NumberStringField, StrictBooleanField, StrictCharField, limit, validated
from backoffice.models import Partner
from backoffice.timeutil import local
from pickup.services import stores, terminal

K = Partner.Kind



def _actor(request) -> str:
    """The partner's label, as the attempt log stores it."""
    return Actor.partner(request.auth).label


class StoreIn(serializers.Serializer):
    name = StrictCharField(max_length=100)
    prefecture = StrictCharField(max_length=10)

    def validate_prefecture(self, value):
        return limit(limits.check_prefecture, value)

    address = StrictCharField(max_length=200)
    active = StrictBooleanField(default=True)


class StoreOut(serializers.Serializer):
    store_code = serializers.CharField(source="code")
    chain = serializers.CharField()
    terminal = serializers.CharField()
    name = serializers.CharField()
    prefecture = serializers.CharField()
    address = serializers.CharField()
    active = serializers.BooleanField()


class StoreView(APIView):
    """``PUT /stores/{store_code}``: a pickup chain maintains its own store master."""

    partner_kinds = {K.KONBINI_CHAIN}

    @extend_schema(request=StoreIn, responses={200: StoreOut, 201: StoreOut})
    def put(self, request, store_code):
        stores.ensure_pickup_chain(request.auth.chain)
        data = validated(StoreIn, request.data)
        store, created = stores.upsert(chain=request.auth.chain, code=store_code, **data)
        return Response(StoreOut(store).data, status=201 if created else 200)


class TicketIn(serializers.Serializer):
    store_code = NumberStringField(max_length=20)
    inquiry_number = NumberStringField(max_length=40)
    auth_number = NumberStringField(max_length=20)


class TicketOut(serializers.Serializer):
    ticket_number = serializers.CharField()
    expires_at = serializers.DateTimeField()


class TicketIssueView(APIView):
    """``POST /pickup/tickets``: the terminal (Loppi / Famiポート) prints an 申し込み券."""

    partner_kinds = {K.KONBINI_CHAIN}

    @extend_schema(request=TicketIn, responses={201: TicketOut})
    def post(self, request):
        data = validated(TicketIn, request.data)
        issued = terminal.issue_ticket(chain=request.auth.chain, store_code=data["store_code"],
                                       inquiry_number=data["inquiry_number"], auth_number=data["auth_number"],
                                       partner=_actor(request))
        return Response({"ticket_number": issued.ticket.number,
                         "expires_at": local(issued.ticket.expires_at).isoformat()}, status=201)


class RedeemIn(serializers.Serializer):
    store_code = NumberStringField(max_length=20)


class RedeemOut(serializers.Serializer):
    status = serializers.CharField()


class TicketRedeemView(APIView):
    """``POST /pickup/tickets/{ticket_number}/redeem``: the register hands the parcel over."""

    partner_kinds = {K.KONBINI_CHAIN}

    @extend_schema(request=RedeemIn, responses={200: RedeemOut})
    def post(self, request, ticket_number):
        data = validated(RedeemIn, request.data)
        pickup = terminal.redeem(chain=request.auth.chain, ticket_number=ticket_number, store_code=data["store_code"],
                                 actor=Actor.partner(request.auth))
        return Response({"status": pickup.status})
