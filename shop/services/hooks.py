"""Extension points other apps fill in (fraud/ listens for refused COD parcels).

Kept as explicit function calls, not signals: the call site shows what happens.
"""

from __future__ import annotations

from collections.abc import Callable

from shop.models import Order

_cod_refused: list[Callable[[Order], None]] = []


def on_cod_refused(listener: Callable[[Order], None]) -> None:
    _cod_refused.append(listener)


def cod_refused(order: Order) -> None:
    for listener in _cod_refused:
        listener(order)
