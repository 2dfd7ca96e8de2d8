"""The README's verification helper, copied as a partner would, checks real deliveries; so does
an independent implementation (tests/webhooks/verify.py). Neither shares code with webhooks.signing."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from backoffice import outbox
from tests.webhooks.support import place_api, subscribe
from tests.webhooks.verify import signature_ok
from webhooks import signing

pytestmark = pytest.mark.django_db
README = Path(__file__).resolve().parents[2] / "README.md"


def readme_helper():
    text = README.read_text(encoding="utf-8")
    block = re.search(r"<!-- webhook-verify-helper -->\n```python\n(.*?)```", text, re.S).group(1)
    assert len(block.strip().splitlines()) <= 10
    namespace: dict = {}
    exec(compile(block, "README.md", "exec"), namespace)  # noqa: S102 - our own README
    return namespace["verify_konbini_signature"]


def test_the_readme_helper_and_an_independent_check_verify_real_deliveries(storefront, receiver):
    verify = readme_helper()
    hook = subscribe(storefront, receiver.url, ["order.placed", "order.paid"])
    place_api(storefront)
    outbox.drain()
    assert len(receiver.requests) == 2
    for r in receiver.requests:
        header = r.headers["Konbini-Signature"]
        assert verify(header, r.body, hook["secret"]) and signature_ok(header, r.body, hook["secret"])
        assert not verify(header, r.body + b" ", hook["secret"])  # the raw body, byte for byte
        assert not verify(header, r.body, hook["secret"][:-1] + "x")
        assert not signature_ok(header, r.body.replace(b'"order.', b'"0rder.'), hook["secret"])


def test_an_old_signature_is_refused_by_the_helper(storefront):
    verify = readme_helper()
    body = b'{"id":"evt_1"}'
    assert verify(signing.header(["whsec_a"], body), body, "whsec_a")
    assert not verify(signing.header(["whsec_a"], body, timestamp=1_000_000_000), body, "whsec_a")
    assert signature_ok(signing.header(["whsec_a"], body, timestamp=1_000_000_000), body, "whsec_a")
    assert verify("t=abc,v1=00", body, "whsec_a") is False


def test_the_signature_is_hmac_sha256_of_timestamp_dot_body():
    # Known answer from another implementation:
    #   printf '1700000000.{}' | openssl dgst -sha256 -hmac whsec_test
    known = "35495024f4ef3f94e5a93e22221544c4b75e9a42300cd965ab81cb85cd994e91"
    assert signing.header(["whsec_test"], b"{}", timestamp=1700000000) == f"t=1700000000,v1={known}"
    assert signing.verify(f"t=1700000000,v1={known}", b"{}", "whsec_test", at=1700000100)
    assert not signing.verify(f"t=1700000000,v1={known}", b"{}", "whsec_test", at=1700001000)
