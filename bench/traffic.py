"""Mixed partner traffic against a running server (``bench/soak.py`` and the fault suite).

Each client thread plays a storefront: places a card order (``POST /orders`` with an
``Idempotency-Key``), reads it back, and cancels every third one (a refund through the outbox and
a worker). A 503 or a dropped connection is retried with the same key and body, as a partner
following ``Retry-After`` would, so a retried placement can never become two orders. Every third
thread also plays a konbini terminal guessing wrong keys (the pickup throttle's cache path).

``Traffic.counts`` holds the answers by status; ``placed`` maps each idempotency key to the order
number it got; ``cancelled`` the numbers whose cancellation was answered 200.
"""

from __future__ import annotations

import http.client
import json
import threading
import time
from collections import Counter
from dataclasses import dataclass, field

RETRIES = 20  # a placement tries this many times (503 / connection lost) before it gives up


def order_body(sku: str, customer: int) -> dict:
    return {"customer": {"external_id": f"soak-{customer}", "email": f"soak{customer}@example.jp", "name": "負荷"},
            "items": [{"sku": sku, "quantity": 1}], "shipping_speed": "standard",
            "destination": {"type": "home", "postal_code": "100-0001", "prefecture": "東京都", "city": "千代田区",
                            "address_line": "千代田1-1", "recipient_name": "山田", "phone": "03-1234-5678"},
            "payment_method": "card", "card_token": "tok_visa"}


@dataclass
class Traffic:
    port: int
    storefront_key: str
    skus: list[str]
    chain_key: str = ""
    store_code: str = ""
    counts: Counter = field(default_factory=Counter)
    placed: dict[str, str] = field(default_factory=dict)
    cancelled: set[str] = field(default_factory=set)
    given_up: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def _send(self, conn, method: str, path: str, body: dict | None, headers: dict) -> tuple[int, dict]:
        conn.request(method, path, body=None if body is None else json.dumps(body).encode(), headers=headers)
        response = conn.getresponse()
        raw = response.read()
        try:
            payload = json.loads(raw) if raw else {}
        except ValueError:
            payload = {}
        return response.status, payload

    def _call(self, state: dict, method: str, path: str, body: dict | None, headers: dict,
              *, retry: bool) -> tuple[int | None, dict]:
        """One request; retried on 503 / connection loss when ``retry``. Every answer is counted."""
        for _ in range(RETRIES if retry else 1):
            try:
                status, payload = self._send(state["conn"], method, path, body, headers)
            except (OSError, http.client.HTTPException):
                state["conn"].close()
                state["conn"] = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
                with self.lock:
                    self.counts["connection_error"] += 1
                time.sleep(0.2)
                continue
            with self.lock:
                self.counts[status] += 1
            if status != 503:
                return status, payload
            time.sleep(0.2)  # Retry-After says seconds; the soak keeps it short to keep the pressure on
        return None, {}

    def storefront(self, index: int, stop: threading.Event) -> None:
        state = {"conn": http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)}
        headers = {"Authorization": f"Bearer {self.storefront_key}", "Content-Type": "application/json"}
        n = 0
        while not stop.is_set():
            n += 1
            key = f"soak-{index}-{n}"
            status, payload = self._call(state, "POST", "/api/v1/orders",
                                         order_body(self.skus[(index + n) % len(self.skus)], index * 7 + n % 7),
                                         {**headers, "Idempotency-Key": key}, retry=True)
            if status != 201:
                with self.lock:
                    self.given_up += status is None
                continue
            number = payload["order_number"]
            with self.lock:
                self.placed[key] = number
            self._call(state, "GET", f"/api/v1/orders/{number}", None, headers, retry=True)
            if n % 3 == 0:
                status, _ = self._call(state, "POST", f"/api/v1/orders/{number}/cancel",
                                       {"reason": "customer_request"}, headers, retry=True)
                if status == 200:
                    with self.lock:
                        self.cancelled.add(number)
        state["conn"].close()

    def terminal(self, stop: threading.Event) -> None:
        state = {"conn": http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)}
        headers = {"Authorization": f"Bearer {self.chain_key}", "Content-Type": "application/json"}
        n = 0
        while not stop.is_set():
            n += 1
            inquiry = f"{20_000_000_000 + n:011d}{(20_000_000_000 + n) % 7}"
            self._call(state, "POST", "/api/v1/pickup/tickets",
                       {"store_code": self.store_code, "inquiry_number": inquiry, "auth_number": "1234567"},
                       headers, retry=False)
            time.sleep(0.05)
        state["conn"].close()

    def run(self, *, clients: int, stop: threading.Event) -> list[threading.Thread]:
        threads = [threading.Thread(target=self.storefront, args=(i, stop), daemon=True) for i in range(clients)]
        if self.chain_key:
            threads.append(threading.Thread(target=self.terminal, args=(stop,), daemon=True))
        for thread in threads:
            thread.start()
        return threads

    def server_errors(self) -> int:
        return sum(count for status, count in self.counts.items() if isinstance(status, int) and status >= 500
                   and status != 503)


def reconcile() -> dict:
    """The money, counted twice: by our books (payments captured, refunds succeeded) and by what
    the (sandbox) card gateway saw (captures kept, refunds made). Equal when nothing was lost or
    made twice. Also: cancelled card orders whose captured money was not refunded (lost refunds)
    and payments refunded more than captured (doubles). Needs Django set up."""
    from django.db.models import F, OuterRef, Subquery, Sum

    from payments.models import Payment, Refund, SandboxGatewayCapture, SandboxGatewayRefund
    from shop.models import Order, OrderStatus

    def total(queryset, column: str = "amount") -> int:
        return queryset.aggregate(s=Sum(column))["s"] or 0

    captured = total(Payment.objects.filter(method="card"), "captured_amount")
    refunded = total(Refund.objects.filter(status=Refund.Status.SUCCEEDED, order__payment__method="card"))
    gateway_captured = total(SandboxGatewayCapture.objects.filter(status=SandboxGatewayCapture.Status.CAPTURED))
    gateway_refunded = total(SandboxGatewayRefund.objects.filter(status=SandboxGatewayRefund.Status.SUCCEEDED))
    cancelled_paid = Order.objects.filter(status=OrderStatus.CANCELLED, payment__method="card",
                                          payment__captured_amount__gt=0)
    lost = sum(1 for order in cancelled_paid.prefetch_related("refunds")
               if sum(r.amount for r in order.refunds.all() if r.status == Refund.Status.SUCCEEDED)
               != order.payment.captured_amount)
    doubled = Payment.objects.filter(refunded_amount__gt=F("captured_amount"), method="card").count()
    capture_amount = SandboxGatewayCapture.objects.filter(reference=OuterRef("charge_reference")).values("amount")[:1]
    doubled += (SandboxGatewayRefund.objects.filter(status=SandboxGatewayRefund.Status.SUCCEEDED)
                .values("charge_reference").annotate(s=Sum("amount"), cap=Subquery(capture_amount))
                .filter(s__gt=F("cap")).count())
    return {"captured": captured, "refunded": refunded, "net": captured - refunded,
            "gateway_captured": gateway_captured, "gateway_refunded": gateway_refunded,
            "gateway_net": gateway_captured - gateway_refunded, "lost_refunds": lost, "doubled": doubled}
