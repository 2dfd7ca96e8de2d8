"""Cross-cutting endpoints: the floor endpoint for benchmarks and the health check."""

from __future__ import annotations

from django.core.cache import cache
from django.db import connection
from django.http import JsonResponse
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from backoffice import heartbeat, outages, outbox
from backoffice.celery import app
from backoffice.models import Partner


class PingView(APIView):
    """Authenticated, one primary-key read: the floor the benchmarks compare against."""

    @extend_schema(responses=inline_serializer("Ping", {"partner": serializers.CharField(), "kind": serializers.CharField()}))
    def get(self, request):
        partner = Partner.objects.only("name", "kind").get(pk=request.auth.pk)
        return Response({"partner": partner.name, "kind": partner.kind})


def _check(func) -> str:
    try:
        func()
        return "ok"
    except Exception as exc:  # noqa: BLE001 - any failure means that dependency is down
        return f"error: {exc.__class__.__name__}"


def _database() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")


def _broker() -> None:
    with app.connection_for_write() as conn:
        conn.ensure_connection(max_retries=1, timeout=2)


def _cache() -> None:
    cache.get("healthz")  # a miss is fine; an unreachable cache raises


def healthz(request):
    """What a deployment needs to know (README "Running it for real").

    ``database``, ``broker``, ``cache``: reachable or not. Only the database down is a 503 (this
    process cannot serve: take it out of rotation). Requests need neither the broker (their tasks
    wait in the outbox) nor the cache (the pickup throttle counts from the database), so either of
    them down — or ``worker: stale``, no Celery worker's heartbeat lately (``backoffice.heartbeat``)
    — is ``status: degraded`` with 200: alert, but keep serving. ``outbox_oldest_due_seconds``: how
    long the oldest due outbox row has waited (null when none waits): minutes mean the relay or the
    broker is stuck."""
    checks = {"database": _check(_database), "broker": _check(_broker), "cache": _check(_cache)}
    body = {"status": "ok", **checks, "worker": "stale", "worker_last_beat_seconds": None,
            "outbox_oldest_due_seconds": None}
    down = checks["database"] != "ok"
    if not down:
        worker, age = heartbeat.status()
        oldest = outbox.oldest_due_age()
        body.update(worker=worker, worker_last_beat_seconds=None if age is None else int(age.total_seconds()),
                    outbox_oldest_due_seconds=None if oldest is None else int(oldest.total_seconds()))
    if down:
        body["status"] = "error"
    elif any(checks[name] != "ok" for name in ("broker", "cache")) or body["worker"] != "ok":
        body["status"] = "degraded"
    return JsonResponse(body, status=503 if down else 200,
                        headers={"Retry-After": str(outages.RETRY_AFTER_SECONDS)} if down else None)
