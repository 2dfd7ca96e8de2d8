"""Cross-cutting endpoints: the floor endpoint for benchmarks and the health check."""

from __future__ import annotations

from django.db import connection
from django.http import JsonResponse
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from backoffice.models import Partner


class PingView(APIView):
    """Authenticated, one primary-key read: the floor the benchmarks compare against."""

    @extend_schema(responses=inline_serializer("Ping", {"partner": serializers.CharField(), "kind": serializers.CharField()}))
    def get(self, request):
        partner = Partner.objects.only("name", "kind").get(pk=request.auth.pk)
        return Response({"partner": partner.name, "kind": partner.kind})


def healthz(request):
    """Database and broker reachability; 503 when either is down."""
    checks = {}
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        checks["database"] = "ok"
    except Exception as exc:  # noqa: BLE001 - any failure means unhealthy
        checks["database"] = f"error: {exc.__class__.__name__}"
    try:
        from backoffice.celery import app

        with app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, timeout=2)
        checks["broker"] = "ok"
    except Exception as exc:  # noqa: BLE001
        checks["broker"] = f"error: {exc.__class__.__name__}"
    healthy = all(v == "ok" for v in checks.values())
    return JsonResponse({"status": "ok" if healthy else "error", **checks}, status=200 if healthy else 503)
