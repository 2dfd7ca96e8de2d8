"""Webhook endpoints of the partner API (API.md "Webhooks", every partner kind). One class per
operation: validate → the partner's own endpoints (``shop.scopes``) → one service."""

from __future__ import annotations

from datetime import timedelta

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from backoffice.api.fields import StrictCharField, StrictIntegerField, validated
from backoffice.errors import NotFound
from backoffice.timeutil import local
from shop import scopes
from webhooks import services


def _iso(dt) -> str | None:
    return local(dt).isoformat() if dt else None


class EndpointIn(serializers.Serializer):
    url = StrictCharField(max_length=500)
    events = serializers.ListField(child=StrictCharField(max_length=40), max_length=20)
    contact_email = serializers.EmailField(required=False, allow_blank=True, max_length=254)


class EndpointOut(serializers.Serializer):
    id = serializers.IntegerField()
    url = serializers.CharField()
    events = serializers.ListField(child=serializers.CharField())
    active = serializers.BooleanField()
    contact_email = serializers.CharField()
    created_at = serializers.DateTimeField()
    failing_since = serializers.DateTimeField(allow_null=True)
    disabled_at = serializers.DateTimeField(allow_null=True)


class EndpointCreated(EndpointOut):
    secret = serializers.CharField()


class RotateIn(serializers.Serializer):
    grace_period_hours = StrictIntegerField(min_value=0, max_value=168, required=False)


class RotatedOut(EndpointCreated):
    previous_secret_expires_at = serializers.DateTimeField(allow_null=True)


class DeliveryOut(serializers.Serializer):
    event_id = serializers.CharField()
    type = serializers.CharField()
    status = serializers.CharField()
    attempts = serializers.IntegerField()
    last_response_status = serializers.IntegerField(allow_null=True)
    next_attempt_at = serializers.DateTimeField(allow_null=True)
    created_at = serializers.DateTimeField()
    delivered_at = serializers.DateTimeField(allow_null=True)


def endpoint_out(endpoint, *, secret: bool = False) -> dict:
    body = {"id": endpoint.pk, "url": endpoint.url, "events": endpoint.events, "active": endpoint.active,
            "contact_email": endpoint.contact_email, "created_at": _iso(endpoint.created_at),
            "failing_since": _iso(endpoint.failing_since), "disabled_at": _iso(endpoint.disabled_at)}
    if secret:
        body["secret"] = endpoint.secret
    return body


class EndpointListView(APIView):
    @extend_schema(request=EndpointIn, responses={201: EndpointCreated})
    def post(self, request):
        data = validated(EndpointIn, request.data)
        endpoint = services.create(partner=request.auth, url=data["url"], event_types=data["events"],
                                   contact_email=data.get("contact_email", ""))
        return Response(endpoint_out(endpoint, secret=True), status=201)

    @extend_schema(responses={200: EndpointOut(many=True)})
    def get(self, request):
        endpoints = scopes.webhook_endpoints_for_partner(request.auth).order_by("pk")
        return Response([endpoint_out(e) for e in endpoints])


class EndpointDetailView(APIView):
    @extend_schema(responses={200: EndpointOut})
    def delete(self, request, endpoint_id):
        """→ 200 with the endpoint as it now is (inactive); its delivery log stays for staff."""
        endpoint = services.delete(scopes.webhook_endpoint_for(request.auth, endpoint_id))
        return Response(endpoint_out(endpoint))


class EndpointTestView(APIView):
    @extend_schema(request=None, responses={202: DeliveryOut})
    def post(self, request, endpoint_id):
        delivery = services.send_ping(scopes.webhook_endpoint_for(request.auth, endpoint_id))
        return Response(delivery_out(delivery), status=202)


class EndpointRotateView(APIView):
    @extend_schema(request=RotateIn, responses={200: RotatedOut})
    def post(self, request, endpoint_id):
        data = validated(RotateIn, request.data or {})
        endpoint = scopes.webhook_endpoint_for(request.auth, endpoint_id)
        grace = timedelta(hours=data["grace_period_hours"]) if "grace_period_hours" in data else services.ROTATION_GRACE
        endpoint = services.rotate_secret(endpoint, grace=grace)
        return Response({**endpoint_out(endpoint, secret=True),
                         "previous_secret_expires_at": _iso(endpoint.previous_secret_until)})


def delivery_out(delivery) -> dict:
    return {"event_id": delivery.event.public_id, "type": delivery.event.type, "status": delivery.status,
            "attempts": delivery.attempts, "last_response_status": delivery.last_response_status,
            "next_attempt_at": _iso(delivery.next_attempt_at) if delivery.status == "pending" else None,
            "created_at": _iso(delivery.created_at), "delivered_at": _iso(delivery.delivered_at)}


DELIVERIES_SHOWN = 100


class EndpointDeliveriesView(APIView):
    @extend_schema(responses={200: DeliveryOut(many=True)})
    def get(self, request, endpoint_id):
        endpoint = scopes.webhook_endpoint_for(request.auth, endpoint_id)
        deliveries = (scopes.webhook_deliveries_for_partner(request.auth).filter(endpoint=endpoint)
                      .select_related("event").order_by("-created_at", "-id")[:DELIVERIES_SHOWN])
        return Response([delivery_out(d) for d in deliveries])


class RedeliverView(APIView):
    @extend_schema(request=None, responses={202: DeliveryOut(many=True)})
    def post(self, request, event_id):
        deliveries = scopes.webhook_deliveries_for_partner(request.auth).filter(event__public_id=str(event_id)[:40])
        if not services.redeliver(deliveries):
            raise NotFound("イベントが見つかりません。", code="webhook_event_not_found")
        return Response([delivery_out(d) for d in deliveries.select_related("event")], status=202)
