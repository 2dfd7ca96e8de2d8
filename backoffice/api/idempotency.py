"""``Idempotency-Key`` (API.md): the same key and body replay the first response; the same key
with another body is 422 ``idempotency_key_reused``.

A key is scoped to the partner and the exact request path: the same key sent to
``POST /orders/A/returns`` and ``POST /orders/B/returns`` names two different requests (the
order number is part of what is asked), so B never replays A's refund.

The record is inserted first, inside the request's transaction. A concurrent request with the
same key blocks on the unique index until the first commits, then replays its response.

A handler that must not run inside one transaction (order placement: it commits, calls the card
gateway with no transaction open, then commits again) is run with ``atomic=False``: requests
with the same key are serialised by a lock that is not a transaction (a PostgreSQL session
advisory lock, freed by the server if the process dies), and the response is stored once the
handler is done. Such a handler gets a ``claim`` callable and calls it inside its first
transaction with what it opened (placement: ``{"order_number": ...}``), which is kept in the key's
record. If the process or its database connection dies after that commit and before the response
is stored (issue 19: PostgreSQL dropping connections), the client's retry finds the claim and
``resume(claim)`` answers from what the first attempt left — the order it placed, not a second
order charged again; ``resume`` returns None when nothing was kept (run the handler afresh).
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from django.db import IntegrityError, connection, transaction
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


def idempotent(request, endpoint: str, handler: Callable[..., Response], *, atomic: bool = True,
               resume: Callable[[dict], Response | None] | None = None) -> Response:
    """Run ``handler`` once per (partner, endpoint and path, key); store and replay its response.

    ``atomic=False``: the handler manages its own transactions and is called with a ``claim``
    callable; ``resume`` answers a retry whose first attempt claimed but never answered (see the
    module docstring)."""
    key = request.META.get(HEADER)
    if key is None:
        return handler(lambda value: None) if not atomic else handler()
    if not key or len(key) > MAX_KEY_LENGTH:
        raise InvalidInput("Idempotency-Keyは1〜255文字で指定してください。", code="invalid", field="Idempotency-Key")
    fingerprint = _fingerprint(request.data)
    lookup = {"partner": request.auth, "endpoint": _scope(endpoint, request.path), "key": key}
    existing = IdempotencyRecord.objects.filter(**lookup).first()
    if existing is not None and existing.status_code is not None:
        return _replay(existing, fingerprint)
    if not atomic:
        return _outside_transaction(lookup, fingerprint, handler, resume)
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


def _outside_transaction(lookup: dict, fingerprint: str, handler: Callable[..., Response],
                         resume: Callable[[dict], Response | None] | None) -> Response:
    with _serialised(lookup):
        record, _ = IdempotencyRecord.objects.get_or_create(**lookup, defaults={"fingerprint": fingerprint})
        if record.status_code is not None or record.fingerprint != fingerprint:  # the request we waited for
            return _replay(record, fingerprint)
        response = None
        resuming = bool(record.body) and resume is not None  # an earlier attempt claimed, never answered
        try:
            if resuming:
                response = resume(record.body)
            if response is None:
                resuming = False
                response = handler(lambda value: IdempotencyRecord.objects.filter(pk=record.pk).update(body=value))
        except DomainError as exc:
            response = Response(exc.as_body(), status=exc.status)
            if exc.headers:  # clock-dependent (maintenance, retry later): not stored
                if not resuming:  # the handler answered: what it opened was settled (cancelled, voided)
                    IdempotencyRecord.objects.filter(pk=record.pk, status_code__isnull=True).delete()
                for name, value in exc.headers.items():
                    response[name] = value
                return response
        if response.status_code >= 500:
            return response
        IdempotencyRecord.objects.filter(pk=record.pk).update(status_code=response.status_code, body=response.data)
        return response


_PROCESS_LOCK_STRIPES = 64  # keys share a few locks: bounded memory, rare harmless waits
_process_locks = [threading.Lock() for _ in range(_PROCESS_LOCK_STRIPES)]


@contextmanager
def _serialised(lookup: dict) -> Iterator[None]:
    """One request per key at a time, without holding a transaction open: a PostgreSQL session
    advisory lock (across processes; the server frees it if the process dies); elsewhere (the
    embedded SQLite default, one process) a lock in this process."""
    digest = hashlib.sha256(f"{lookup['partner'].pk}\0{lookup['endpoint']}\0{lookup['key']}".encode()).digest()
    if connection.vendor != "postgresql":
        with _process_locks[digest[0] % _PROCESS_LOCK_STRIPES]:
            yield
        return
    lock_id = int.from_bytes(digest[:8], "big", signed=True)
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_lock(%s)", [lock_id])
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock(%s)", [lock_id])
