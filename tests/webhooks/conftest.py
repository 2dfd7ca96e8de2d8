from __future__ import annotations

import pytest

from tests.webhooks.receiver import Receiver


@pytest.fixture(autouse=True)
def _private_targets(settings):
    """The receivers listen on 127.0.0.1 (``WEBHOOK_ALLOW_PRIVATE_TARGETS``, as in the demo)."""
    settings.WEBHOOK_ALLOW_PRIVATE_TARGETS = True


@pytest.fixture
def receiver():
    r = Receiver()
    yield r
    r.stop()


@pytest.fixture
def make_receiver():
    made: list[Receiver] = []

    def make(**kwargs) -> Receiver:
        made.append(Receiver(**kwargs))
        return made[-1]

    yield make
    for r in made:
        try:
            r.stop()
        except OSError:
            pass
