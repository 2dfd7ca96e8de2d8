"""Sending one delivery (the Celery task ``webhooks.deliver``, published by the outbox relay).

An attempt: claim the delivery (a conditional UPDATE: a duplicate task does nothing), ask the
endpoint's circuit breaker, resolve and check the target (``targets``: public addresses only),
``POST`` the stored body signed (``signing``) with a 10 s timeout and no redirects, then record the
outcome, in one transaction with the next attempt's outbox row:

- any 2xx: ``delivered``; the endpoint's breaker closes;
- anything else (an error status, a timeout, a refused connection or target): the next attempt is
  due after an exponential backoff with jitter (``retry_delay``: 1 min, 2, 4 … at most 6 h) until
  ``RETRY_FOR`` (72 h) has passed since the first attempt, then ``failed`` (staff or the partner
  may redeliver it).

**The circuit breaker** is per endpoint: after ``BREAKER_THRESHOLD`` failures in a row (across its
deliveries) nothing is sent to it for a pause that doubles with every further failure
(``breaker_pause``: 1 min … 1 h); the deliveries due meanwhile wait for the pause's end without
counting an attempt, and when it ends a single delivery goes as the probe (a conditional UPDATE
decides which) — no request storm. A success closes the breaker. An endpoint that has failed for
``DISABLE_AFTER`` (3 days) is disabled, its contact e-mailed (through the outbox) and its
deliveries parked until staff re-enable it (``endpoints.reenable``).
"""

from __future__ import annotations

import logging
import random
from dataclasses import dataclass
from datetime import datetime, timedelta

import httpx
from django.db import transaction
from django.db.models import F, Q
from django.db.models.functions import Coalesce

from backoffice import outbox
from backoffice.timeutil import now
from webhooks import signing, targets
from webhooks.models import Delivery, Endpoint

log = logging.getLogger(__name__)

DELIVER_TASK = "webhooks.deliver"
NOTIFY_DISABLED_TASK = "webhooks.notify_disabled"
TIMEOUT_SECONDS = 10  # API.md: any 2xx within 10 s is delivered
RETRY_BASE = timedelta(minutes=1)
RETRY_MAX = timedelta(hours=6)
RETRY_FOR = timedelta(hours=72)  # API.md: retried for at least 72 h, then failed
JITTER = 0.2  # each wait is lengthened by up to 20%, so that retries of a batch spread out
BREAKER_THRESHOLD = 5
BREAKER_BASE = timedelta(minutes=1)
BREAKER_MAX = timedelta(hours=1)
DISABLE_AFTER = timedelta(days=3)
# An attempt in flight holds its delivery this long (a worker that died loses it then).
CLAIM = timedelta(seconds=60)
EXCERPT_CHARS = 2000
USER_AGENT = "Konbini-Webhooks/1.0"

S = Delivery.Status


def _jittered(delay: timedelta) -> timedelta:
    return delay * (1 + random.random() * JITTER)  # noqa: S311 - spreading retries, not a secret


def retry_delay(attempts: int) -> timedelta:
    """The wait after the ``attempts``-th failed attempt of a delivery (before jitter)."""
    return min(RETRY_BASE * 2 ** max(attempts - 1, 0), RETRY_MAX)


def breaker_pause(failures_in_a_row: int) -> timedelta:
    """The endpoint's pause once it has failed ``failures_in_a_row`` ≥ ``BREAKER_THRESHOLD`` times."""
    return min(BREAKER_BASE * 2 ** max(failures_in_a_row - BREAKER_THRESHOLD, 0), BREAKER_MAX)


@dataclass
class Outcome:
    status_code: int | None = None
    error: str = ""
    response_excerpt: str = ""
    request_excerpt: str = ""

    @property
    def ok(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


_clients: dict[str, httpx.Client] = {}


def _client(host: str) -> httpx.Client:
    """One keep-alive client per host name (a pooled TLS connection is never reused for another
    name that happens to share the address)."""
    client = _clients.get(host)
    if client is None:
        if len(_clients) > 256:
            for old in _clients.values():
                old.close()
            _clients.clear()
        client = _clients[host] = httpx.Client(timeout=TIMEOUT_SECONDS, follow_redirects=False,
                                                headers={"User-Agent": USER_AGENT})
    return client


def live_secrets(endpoint: Endpoint, at: datetime) -> list[str]:
    """The secrets that sign now: the current one, and the previous one during its grace period."""
    keep_old = endpoint.previous_secret and endpoint.previous_secret_until and endpoint.previous_secret_until > at
    return [endpoint.secret, endpoint.previous_secret] if keep_old else [endpoint.secret]


def post(endpoint: Endpoint, delivery: Delivery, at: datetime) -> Outcome:
    """One signed POST of the delivery's body to the endpoint, with the SSRF guard."""
    body = delivery.body.encode()
    headers = {
        "Content-Type": "application/json; charset=utf-8",
        "Konbini-Event-Id": delivery.event.public_id,
        "Konbini-Event-Type": delivery.event.type,
        "Konbini-Delivery-Attempt": str(delivery.attempts + 1),
        signing.HEADER: signing.header(live_secrets(endpoint, at), body, timestamp=int(at.timestamp())),
    }
    outcome = Outcome(request_excerpt=_excerpt_of(f"POST {endpoint.url}", headers, delivery.body))
    try:
        target = targets.resolve(endpoint.url)
    except targets.TargetRefused as exc:
        outcome.error = str(exc)
        return outcome
    extensions = {"sni_hostname": target.host} if target.scheme == "https" else {}
    try:
        with _client(target.host).stream("POST", target.pinned_url, content=body, extensions=extensions,
                                         headers={**headers, "Host": target.host_header}) as response:
            outcome.status_code = response.status_code
            outcome.response_excerpt = _read_excerpt(response)
    except httpx.HTTPError as exc:
        outcome.error = f"{type(exc).__name__}: {exc}"[:300]
    return outcome


def _excerpt_of(line: str, headers: dict, body: str) -> str:
    head = "\n".join([line, *(f"{k}: {v}" for k, v in headers.items())])
    return f"{head}\n\n{body[:EXCERPT_CHARS]}"


def _read_excerpt(response: httpx.Response) -> str:
    chunks, size = [], 0
    for chunk in response.iter_bytes():
        chunks.append(chunk)
        size += len(chunk)
        if size >= EXCERPT_CHARS:
            break
    return b"".join(chunks)[:EXCERPT_CHARS].decode(errors="replace")


def deliver(delivery_id: int) -> str:
    """One attempt of one delivery. Returns what happened (for logs and tests)."""
    at = now()
    if not Delivery.objects.filter(pk=delivery_id, status__still=S.PENDING, next_attempt_at__lte=at).update(
            next_attempt_at=at + CLAIM):
        return "skipped"  # delivered, failed, parked, not due, or another worker has it
    delivery = Delivery.objects.select_related("endpoint", "event").get(pk=delivery_id)
    endpoint = delivery.endpoint
    if not delivery.body:  # erased with the customer's personal data (shop.services.erasure)
        Delivery.objects.filter(pk=delivery_id).update(status=S.FAILED, next_attempt_at=None,
                                                       last_error="個人情報の削除により送信を中止しました。")
        return "failed"
    if endpoint.deleted_at is not None:
        Delivery.objects.filter(pk=delivery_id).update(status=S.FAILED, next_attempt_at=None,
                                                       last_error="エンドポイントが削除されました。")
        return "failed"
    if not endpoint.active:  # disabled: parked until staff re-enable the endpoint
        Delivery.objects.filter(pk=delivery_id).update(next_attempt_at=None)
        return "parked"
    wait_until = _breaker_wait(endpoint, at)
    if wait_until is not None:
        _postpone(delivery_id, wait_until)
        return "paused"
    outcome = post(endpoint, delivery, at)
    if outcome.ok:  # one UPDATE (the happy path writes nothing else)
        _delivered(delivery, outcome, at)
    else:
        with transaction.atomic():  # the retry's outbox row with the outcome
            _failed(delivery, outcome, at)
    return "delivered" if outcome.ok else "retry" if delivery.status == S.PENDING else "failed"


def _breaker_wait(endpoint: Endpoint, at: datetime) -> datetime | None:
    """None when this attempt may go; else until when it waits (the breaker is open, or another
    delivery is the half-open probe)."""
    if endpoint.paused_until and endpoint.paused_until > at:
        return endpoint.paused_until
    if endpoint.failures_in_a_row < BREAKER_THRESHOLD:
        return None
    # Half-open: exactly one delivery probes; it holds the pause while in flight.
    won = Endpoint.objects.filter(pk=endpoint.pk, failures_in_a_row__gte=BREAKER_THRESHOLD).filter(
        Q(paused_until__isnull=True) | Q(paused_until__lte=at)).update(paused_until=at + CLAIM)
    return None if won else at + CLAIM


def _postpone(delivery_id: int, until: datetime) -> None:
    """Wait for the breaker without counting an attempt (spread over a tenth of the wait)."""
    wake = until + (until - now()) * random.random() * 0.1 + timedelta(seconds=random.random())  # noqa: S311
    with transaction.atomic():
        Delivery.objects.filter(pk=delivery_id, status__still=S.PENDING).update(next_attempt_at=wake)
        outbox.enqueue(DELIVER_TASK, delivery_id, at=wake)


def _record(delivery: Delivery, outcome: Outcome, at: datetime, **fields) -> None:
    Delivery.objects.filter(pk=delivery.pk).update(
        attempts=F("attempts") + 1, last_attempt_at=at, last_response_status=outcome.status_code,
        last_error=outcome.error if not outcome.ok and outcome.error else
        ("" if outcome.ok else f"HTTP {outcome.status_code}"),
        request_excerpt=outcome.request_excerpt, response_excerpt=outcome.response_excerpt, **fields)
    delivery.attempts += 1
    for name, value in fields.items():
        setattr(delivery, name, value)


def _delivered(delivery: Delivery, outcome: Outcome, at: datetime) -> None:
    _record(delivery, outcome, at, status=S.DELIVERED, delivered_at=at, next_attempt_at=None)
    endpoint = delivery.endpoint
    if endpoint.failures_in_a_row or endpoint.failing_since or endpoint.paused_until:
        Endpoint.objects.filter(pk=endpoint.pk).update(failures_in_a_row=0, failing_since=None, paused_until=None)


def _failed(delivery: Delivery, outcome: Outcome, at: datetime) -> None:
    disabled = _trip(delivery.endpoint, at)
    if at >= delivery.window_started_at + RETRY_FOR:  # API.md: at least 72 h, then failed
        _record(delivery, outcome, at, status=S.FAILED, next_attempt_at=None)
    elif disabled:  # this failure disabled the endpoint: parked with the others
        _record(delivery, outcome, at, next_attempt_at=None)
    else:
        due = at + _jittered(retry_delay(delivery.attempts + 1))
        _record(delivery, outcome, at, next_attempt_at=due)
        outbox.enqueue(DELIVER_TASK, delivery.pk, at=due)


def _trip(endpoint: Endpoint, at: datetime) -> bool:
    """Count a failure on the endpoint; open its breaker, or disable it after three days (→ True)."""
    Endpoint.objects.filter(pk=endpoint.pk).update(failures_in_a_row=F("failures_in_a_row") + 1,
                                                   failing_since=Coalesce("failing_since", at))
    failures, since = Endpoint.objects.values_list("failures_in_a_row", "failing_since").get(pk=endpoint.pk)
    if since is not None and at - since >= DISABLE_AFTER:
        return disable(endpoint, at)
    if failures >= BREAKER_THRESHOLD:
        Endpoint.objects.filter(pk=endpoint.pk).update(paused_until=at + _jittered(breaker_pause(failures)))
    return False


def disable(endpoint: Endpoint, at: datetime) -> bool:
    """Stop sending to an endpoint that has failed for ``DISABLE_AFTER`` and tell its contact."""
    if not Endpoint.objects.filter(pk=endpoint.pk, active=True).update(
            active=False, disabled_at=at, paused_until=None,
            disabled_reason="3日間配信に失敗し続けたため、自動的に停止しました。"):
        return False
    log.warning("webhook endpoint %s disabled after %s of failures", endpoint.pk, DISABLE_AFTER)
    if endpoint.contact_email:
        outbox.enqueue(NOTIFY_DISABLED_TASK, endpoint.pk)
    return True
