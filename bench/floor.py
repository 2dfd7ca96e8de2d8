"""The write floor (issue 16): the least any order placement must do, for ``bench/api.py``.

``POST /api/v1/bench/write-floor`` validates the body ``POST /orders`` takes (the same
serializer), then inserts an order, its two lines, its payment and its ``placed`` event in one
transaction — no customer upsert, no screening, no stock, no message. Placement's throughput is
printed as a share of this one's, measured side by side.

Mounted only when ``BENCH_WRITE_FLOOR=true`` (``settings.BENCH_WRITE_FLOOR``), which production
mode refuses: it is never in production URLs. The rows it writes reference a customer and two
listings the benchmark made, named in the body's ``floor`` object.
"""

from __future__ import annotations

from django.db import transaction
from django.urls import path
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from backoffice.actors import Actor
from backoffice.api.fields import validated
from backoffice.models import Partner
from backoffice.timeutil import now
from payments.models import Payment
from shop import events
from shop.api.serializers import OrderIn
from shop.models import Order, OrderLine, OrderStatus
from shop.services.orders import new_order_number


class FloorRows(serializers.Serializer):
    customer_id = serializers.IntegerField(min_value=1)
    listing_ids = serializers.ListField(child=serializers.IntegerField(min_value=1), min_length=2, max_length=2)


class WriteFloorIn(OrderIn):
    floor = FloorRows()


class WriteFloorView(APIView):
    """Validate a placement body; insert order, two lines, payment and event in one transaction."""

    partner_kinds = {Partner.Kind.STOREFRONT}

    @extend_schema(exclude=True)
    def post(self, request):
        data = validated(WriteFloorIn, request.data)
        rows = data["floor"]
        price = 1980
        with transaction.atomic():
            order = Order.objects.create(
                number=new_order_number(), customer_id=rows["customer_id"], status=OrderStatus.PENDING_PAYMENT,
                total=price * 2, shipping_speed=data["shipping_speed"], payment_method=data["payment_method"],
                destination_type=data["destination"]["type"], placed_at=now())
            OrderLine.objects.bulk_create(
                OrderLine(order=order, listing_id=listing_id, sku=f"FLOOR-{i}", title="floor", quantity=1,
                          unit_price=price) for i, listing_id in enumerate(rows["listing_ids"]))
            Payment.objects.create(order=order, method=order.payment_method, amount=order.total,
                                   status=Payment.Status.PENDING)
            events.placed(order=order, actor=Actor.partner(request.auth))
        return Response({"order_number": order.number, "status": order.status, "total": order.total}, status=201)


urlpatterns = [path("api/v1/bench/write-floor", WriteFloorView.as_view())]
