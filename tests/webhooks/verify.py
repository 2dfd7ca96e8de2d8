"""An independent check of ``Konbini-Signature`` (what a partner writes from API.md alone; it
shares no code with ``webhooks.signing``)."""

from __future__ import annotations

import hashlib
import hmac


def signature_ok(header: str, body: bytes, secret: str) -> bool:
    fields: dict[str, list[str]] = {}
    for item in header.split(","):
        key, _, value = item.strip().partition("=")
        fields.setdefault(key, []).append(value)
    (t,) = fields["t"]
    expected = hmac.new(secret.encode("utf-8"), t.encode("ascii") + b"." + body, hashlib.sha256).hexdigest()
    return any(hmac.compare_digest(expected, v1) for v1 in fields.get("v1", []))
