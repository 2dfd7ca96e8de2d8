"""``Konbini-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<raw body>")>`` (API.md).

During a rotation's grace period the header carries one ``v1`` per live secret (new first), as
Stripe's does, so a receiver still holding the old secret keeps verifying.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Iterable

HEADER = "Konbini-Signature"
# A receiver should refuse a signature older than this (replays); ``verify``'s default.
TOLERANCE_SECONDS = 300


def sign(secret: str, timestamp: int, body: bytes) -> str:
    return hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()


def header(secrets: Iterable[str], body: bytes, *, timestamp: int | None = None) -> str:
    t = int(time.time()) if timestamp is None else timestamp
    return ",".join([f"t={t}", *(f"v1={sign(s, t, body)}" for s in secrets)])


def verify(value: str, body: bytes, secret: str, *, tolerance: int = TOLERANCE_SECONDS,
           at: float | None = None) -> bool:
    """What a receiver does (the README's helper does the same in ten lines)."""
    parts = [p.split("=", 1) for p in value.split(",") if "=" in p]
    stamps = [v for k, v in parts if k == "t"]
    if len(stamps) != 1 or not stamps[0].isdigit():
        return False
    t = int(stamps[0])
    if abs((time.time() if at is None else at) - t) > tolerance:
        return False
    expected = sign(secret, t, body)
    return any(hmac.compare_digest(expected, v) for k, v in parts if k == "v1")
