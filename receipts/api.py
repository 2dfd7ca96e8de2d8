"""Storefront endpoints: the receipt of an order as a PDF and as data (API.md "Receipts and
qualified invoices"). Each answer is one issue of the receipt: the first the original, every
later one 「再発行」."""

from __future__ import annotations

from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from backoffice.actors import Actor
from backoffice.api.fields import StrictCharField, validated
from backoffice.models import Partner
from receipts import pdf, services
from shop import scopes

K = Partner.Kind


class ReceiptQuery(serializers.Serializer):
    # Longer than the service's limits, so that the service gives the clear 400 with the field.
    addressee = StrictCharField(max_length=200, required=False, allow_blank=True, trim_whitespace=False)
    purpose = StrictCharField(max_length=200, required=False, allow_blank=True, trim_whitespace=False)


_PARAMS = [
    OpenApiParameter("addressee", OpenApiTypes.STR, description="宛名（40文字まで）。省略時はお客様のお名前＋様"),
    OpenApiParameter("purpose", OpenApiTypes.STR, description="但し書き（40文字まで）。省略時は「お品代として」"),
]


def _issue(request, number: str):
    query = validated(ReceiptQuery, request.query_params.dict())
    order = scopes.order_for(request.auth, number)
    return services.issue(order=order, channel=services.Channel.STOREFRONT, actor=str(Actor.partner(request.auth)),
                          addressee=query.get("addressee"), purpose=query.get("purpose"))


class ReceiptPdfView(APIView):
    partner_kinds = {K.STOREFRONT}

    @extend_schema(parameters=_PARAMS, responses={(200, "application/pdf"): OpenApiTypes.BINARY})
    def get(self, request, number):
        issued = _issue(request, number)
        response = HttpResponse(pdf.render(issued.content), content_type="application/pdf")
        response["Content-Disposition"] = f'inline; filename="receipt-{issued.content["receipt_number"]}.pdf"'
        return response


class ReceiptJsonView(APIView):
    partner_kinds = {K.STOREFRONT}

    @extend_schema(parameters=_PARAMS, responses={200: dict})
    def get(self, request, number):
        return Response(_issue(request, number).content)
