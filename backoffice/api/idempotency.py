"""``Idempotency-Key`` (API.md): the same key and body replay the first response; the same key
with another body is 422 ``idempotency_key_reused``.

A key is scoped to the partner and the exact request path: the same key sent to
``POST /orders/A/returns`` and ``POST /orders/B/returns`` names two different requests (the
order number is part of what is asked), so B never replays A's refund.

The record is inserted first, inside the request's transaction. A concurrent request with the
same key blocks on the unique index until the first commits, then replays its response.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable

from django.db import IntegrityError, transaction
from rest_framework.response import Response

from backoffice.errors import DomainError, InvalidInput
from backoffice.models import IdempotencyRecord

HEADER = "HTTP_IDEMPOTENCY_KEY"
MAX_KEY_LENGTH = 255


def _fingerprint(data) -> str:
    return hashlib.sha256(json.dumps(data, sort_keys=True, ensure_ascii=False, default=str).encode()).hexdigest()


def _replay(record: IdempotencyRecord, fingerprint: str) -> Response:
    if record.fingerprint != fingerprint:
        raise DomainError(
            "このIdempotency-Keyは別の内容のリクエストで使用済みです。",
            code="idempotency_key_reused", status=422, field="Idempotency-Key",
        )
    response = Response(record.body, status=record.status_code)
    response["Idempotent-Replayed"] = "true"
    return response


_SCOPE_MAX_LENGTH = IdempotencyRecord._meta.get_field("endpoint").max_length


def _scope(endpoint: str, path: str) -> str:
    """``endpoint`` + the request path (which names the resource), within the column's length."""
    scope = f"{endpoint} {path}"
    if len(scope) > _SCOPE_MAX_LENGTH:
        scope = f"{endpoint} sha256:{hashlib.sha256(path.encode()).hexdigest()}"
    return scope


def idempotent(request, endpoint: str, handler: Callable[[], Response]) -> Response:
    """Run ``handler`` once per (partner, endpoint and path, key); store and replay its response."""
    key = request.META.get(HEADER)
    if key is None:
        return handler()
    if not key or len(key) > MAX_KEY_LENGTH:
        raise InvalidInput("Idempotency-Keyは1〜255文字で指定してください。", code="invalid", field="Idempotency-Key")
    fingerprint = _fingerprint(request.data)
    lookup = {"partner": request.auth, "endpoint": _scope(endpoint, request.path), "key": key}
    existing = IdempotencyRecord.objects.filter(**lookup).first()
    if existing is not None and existing.status_code is not None:
        return _replay(existing, fingerprint)
    with transaction.atomic():
        try:
            with transaction.atomic():
                record = IdempotencyRecord.objects.create(fingerprint=fingerprint, **lookup)
        except IntegrityError:
            record = IdempotencyRecord.objects.get(**lookup)
            return _replay(record, fingerprint)
        try:
            with transaction.atomic():
                response = handler()
        except DomainError as exc:
            response = Response(exc.as_body(), status=exc.status)
            if exc.headers:
                # Responses that depend on the clock (e.g. maintenance) are not stored.
                transaction.set_rollback(True)
                for name, value in exc.headers.items():
                    response[name] = value
                return response
        if response.status_code >= 500:
            transaction.set_rollback(True)
            return response
        record.status_code = response.status_code
        record.body = response.data
        record.save(update_fields=["status_code", "body"])
        return response
