"""A dependency that is down answers 503 with ``Retry-After``, never a 500 (issue 19 item 3).

The database (PostgreSQL gone, or its backends terminated), the broker and the cache (Redis or
RabbitMQ gone) raise their drivers' connection errors; ``kind`` says which dependency an exception
means. Two places answer with ``response``: ``backoffice.api.errors.ApiExceptionMiddleware`` for
an exception raised by a view, and the ``handler500`` view (``server_error``) for one raised by a
middleware (sessions, axes) — the API's error body (code ``service_unavailable``) under
``/api/``, a plain page that needs no database elsewhere (the staff console, the admin).

Requests never talk to the broker (the outbox), and the pickup throttle falls back to the
database when the cache is away (``pickup.services.throttle``), so in practice only the database
reaches here.
"""

from __future__ import annotations

import logging
import sys

import kombu.exceptions
import redis.exceptions
from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template import loader
from django.views import defaults

from backoffice.errors import error_body

log = logging.getLogger(__name__)

# A client waits this long before trying again: a reconnect (CONN_HEALTH_CHECKS), a failover or
# a restarted Redis takes seconds, not minutes.
RETRY_AFTER_SECONDS = 5

CODE = "service_unavailable"
MESSAGE = "ただいまシステムが混み合っているか、一時的に利用できません。しばらくしてから再度お試しください。"

# A worker's task that meets the database away (PostgreSQL restarting, its backend terminated)
# is retried by Celery after a short backoff instead of failing — a failed late-acked task is
# acknowledged, so its refund or notice would wait for the sweep (10–30 minutes). Only while the
# database is away does the broker hold these countdowns; the stuck-refund and due-notice sweeps
# catch whatever outlives the retries.
TASK_RETRY = {"autoretry_for": (OperationalError, InterfaceError), "retry_backoff": 2, "retry_backoff_max": 60,
              "retry_jitter": False, "max_retries": 20}

_KINDS: tuple[tuple[type[BaseException] | tuple[type[BaseException], ...], str], ...] = (
    ((OperationalError, InterfaceError), "database"),
    (kombu.exceptions.OperationalError, "broker"),
    ((redis.exceptions.ConnectionError, redis.exceptions.TimeoutError), "cache"),
)


def kind(exc: BaseException | None) -> str | None:
    """``database``, ``broker`` or ``cache`` when ``exc`` (or what caused it) is that dependency
    being unreachable; None for anything else (a real bug stays a 500)."""
    seen = 0
    while exc is not None and seen < 5:
        for types, name in _KINDS:
            if isinstance(exc, types):
                return name
        exc, seen = exc.__cause__ or exc.__context__, seen + 1
    return None


def response(request: HttpRequest, exc: BaseException, dependency: str) -> HttpResponse:
    log.warning("%s unavailable on %s %s: %s: %s", dependency, request.method, request.path,
                type(exc).__name__, exc)
    headers = {"Retry-After": str(RETRY_AFTER_SECONDS)}
    if request.path.startswith("/api/"):
        return JsonResponse(error_body(CODE, MESSAGE), status=503, headers=headers)
    html = loader.render_to_string("503.html", {"retry_after": RETRY_AFTER_SECONDS})
    return HttpResponse(html, status=503, headers=headers)


def server_error(request: HttpRequest) -> HttpResponse:
    """``handler500``: an outage raised outside a view is still a 503; anything else a 500."""
    exc = sys.exc_info()[1]
    dependency = kind(exc)
    if dependency is not None:
        return response(request, exc, dependency)
    if request.path.startswith("/api/"):
        return JsonResponse(error_body("internal_error", "システムエラーが発生しました。時間をおいて再度お試しください。"),
                            status=500)
    return defaults.server_error(request)
