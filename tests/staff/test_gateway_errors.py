"""Card gateway failures in Japanese (issue 17): the gateway answers in English; the console shows
what its code means (``payments.gateway_errors``, one table) with the code in small print, on the
failed-refunds queue, its CSV, the order page and its timeline; a permanently refused refund is
not sent to the card again, and the refusal says what to do instead."""

from __future__ import annotations

import csv
import io
import re

import pytest
from django.conf import settings
from django.utils import translation

from backoffice.errors import Conflict
from payments import gateway_errors
from payments.gateway import PaymentGatewayUnavailable
from payments.models import Refund, SandboxGatewayRefund
from payments.services import refunds
from shop.models import CancellationReason, Order
from shop.services import orders
from tests import factories
from tests.staff import scenario
from tests.staff.submit import submit
from tests.support import relay_through_backoff

pytestmark = pytest.mark.django_db

REFUSED_WORDS = "カード会社が返金を受け付けませんでした（カードの解約・有効期限切れなど）。"
RAW = "sandbox: refund refused (permanent)"
JAPANESE = re.compile(r"[\u3040-\u30ff\u3400-\u9fff]")


def _visible(html: str) -> str:
    """The page's text as a reader sees it (tags and their attributes dropped)."""
    return re.sub(r"<[^>]+>", " ", html.split("<main>", 1)[-1])


def test_the_failed_refund_is_stored_with_the_gateways_code_and_its_own_text():
    assert gateway_errors.describe("refund_refused").permanent and not gateway_errors.describe("gateway_timeout").permanent
    assert gateway_errors.describe("no_such_code") == gateway_errors.describe("") == gateway_errors.GATEWAY_ERRORS["unknown"]


def test_failed_refunds_queue_shows_the_error_in_japanese_with_the_code_in_small_print(
        finance, django_capture_on_commit_callbacks):
    refund = scenario.failed_card_refund(django_capture_on_commit_callbacks)
    assert (refund.last_error_code, refund.last_error) == ("refund_refused", RAW)
    html = finance.get("/staff/refunds/failed/").content.decode()
    row = re.search(rf'<tr data-refund="{refund.pk}".*?</tr>', html, re.S).group(0)
    assert REFUSED_WORDS in row
    assert re.search(r'<small class="mono muted" data-testid="gateway-code"[^>]*>refund_refused</small>', row)
    assert RAW not in _visible(row)  # the English text only on hover, for the gateway's help desk


def test_the_csv_has_the_words_and_the_code(finance, django_capture_on_commit_callbacks):
    scenario.failed_card_refund(django_capture_on_commit_callbacks)
    response = finance.get("/staff/refunds/failed/?format=csv")
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode("utf-8-sig"))))
    assert rows[0][-2:] == ["最後のエラー", "エラーコード"]
    assert rows[1][-2:] == [REFUSED_WORDS, "refund_refused"]


def test_the_order_page_and_its_timeline_show_the_same_words(agent, django_capture_on_commit_callbacks):
    refund = scenario.failed_card_refund(django_capture_on_commit_callbacks)
    html = agent.get(f"/staff/orders/{refund.order.number}/").content.decode()
    timeline = re.search(r'data-testid="timeline".*?</ol>', html, re.S).group(0)
    assert f"返金#{refund.pk} 失敗（1回試行）: {REFUSED_WORDS}（refund_refused）" in timeline
    assert html.count(REFUSED_WORDS) == 2  # the refunds table and the timeline
    assert RAW not in _visible(html)


def test_in_english_the_gateway_error_is_english_from_the_catalogue(agent, django_capture_on_commit_callbacks):
    refund = scenario.failed_card_refund(django_capture_on_commit_callbacks)
    agent.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    html = agent.get(f"/staff/orders/{refund.order.number}/").content.decode()
    assert "The card company did not accept the refund" in html and REFUSED_WORDS not in html


def test_a_permanently_refused_refund_is_not_sent_to_the_card_again_and_the_refusal_says_why(
        finance, django_capture_on_commit_callbacks):
    refund = scenario.failed_card_refund(django_capture_on_commit_callbacks)
    url = f"/staff/refunds/{refund.pk}/actions/retry/"
    confirm = finance.get(url).content.decode()
    assert f"前回の失敗：{REFUSED_WORDS}（refund_refused）" in confirm
    assert "同じカードへ再試行しても失敗します。「ギフト券残高への返金に切り替える」を選んで再試行してください。" in confirm

    calls = SandboxGatewayRefund.objects.get().calls
    with django_capture_on_commit_callbacks(execute=True):
        response = submit(finance, url, {})
    assert response.status_code == 409
    body = response.content.decode()
    assert 'data-code="refund_failed_permanently"' in body and "「ギフト券残高への返金に切り替える」を選んで" in body
    refund.refresh_from_db()
    assert refund.status == Refund.Status.FAILED and SandboxGatewayRefund.objects.get().calls == calls

    with django_capture_on_commit_callbacks(execute=True):
        assert submit(finance, url, {"to_gift_card": "on"}).status_code == 302
    refund.refresh_from_db()
    assert (refund.status, refund.method, refund.last_error_code) == ("succeeded", "gift_card", "")


def test_a_refund_that_ran_out_of_transient_retries_may_go_to_the_card_again(django_capture_on_commit_callbacks):
    order = factories.place(factories.ListingFactory(), card_token="tok_refund_timeout")
    with django_capture_on_commit_callbacks(execute=True):
        orders.cancel(order, reason=CancellationReason.CUSTOMER_REQUEST, actor="storefront")
    relay_through_backoff()
    refund = order.refunds.get()
    assert (refund.status, refund.last_error_code) == ("failed", "gateway_timeout")
    with django_capture_on_commit_callbacks(execute=False):
        assert refunds.retry(refund_id=refund.pk, actor="staff:finance").status == "requested"


def test_the_service_refuses_the_same_card_retry_with_a_coded_error(django_capture_on_commit_callbacks):
    refund = scenario.failed_card_refund(django_capture_on_commit_callbacks)
    with pytest.raises(Conflict) as refused:
        refunds.retry(refund_id=refund.pk, actor="staff:finance")
    assert refused.value.code == "refund_failed_permanently" and refused.value.reasons == ["refund_refused"]


def test_a_capture_the_gateway_never_answered_shows_its_words_and_code_on_the_order_timeline(agent):
    with pytest.raises(PaymentGatewayUnavailable):
        factories.place(factories.ListingFactory(price=5_000), card_token="tok_capture_timeout")
    order = Order.objects.get()
    html = agent.get(f"/staff/orders/{order.number}/").content.decode()
    timeline = re.search(r'data-testid="timeline".*?</ol>', html, re.S).group(0)
    assert "決済サービスの応答がありませんでした" in timeline
    assert "カード決済の応答が途中で失われました（一時的なエラー）。（capture_timeout）" in timeline
    assert "sandbox:" not in timeline


def test_in_english_the_refusal_of_a_card_retry_is_english_too(finance, django_capture_on_commit_callbacks):
    """The refusal is the service's message (what the gateway said and what to do, as one
    sentence): the confirm page translates it whole, so each permanent code's refusal is a msgid."""
    refund = scenario.failed_card_refund(django_capture_on_commit_callbacks)
    finance.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    response = submit(finance, f"/staff/refunds/{refund.pk}/actions/retry/", {})
    body = response.content.decode()
    assert response.status_code == 409
    assert "The card company did not accept the refund" in body and "Retrying to the same card will fail again" in body
    assert REFUSED_WORDS not in body


def test_every_permanent_codes_refusal_has_an_english_translation():
    catalogue = {}
    with translation.override("en"):
        for code, row in gateway_errors.GATEWAY_ERRORS.items():
            if row.permanent:
                catalogue[code] = translation.gettext(gateway_errors.refusal_words(code))
    assert catalogue and not [code for code, text in catalogue.items() if JAPANESE.search(text)], catalogue


@pytest.mark.parametrize("code", ["issuer_blocked", "unknown"])
def test_a_code_the_table_does_not_know_is_shown_with_the_gateways_text_for_the_system_team(
        finance, django_capture_on_commit_callbacks, code):
    """The generic words ask support to pass on "the code and the text in small print": both are
    there when a gateway answers with a code the table has no row for (or with ``unknown``)."""
    refund = scenario.failed_card_refund(django_capture_on_commit_callbacks)
    Refund.objects.filter(pk=refund.pk).update(last_error_code=code, last_error="Card blocked by issuer")
    row = re.search(rf'<tr data-refund="{refund.pk}".*?</tr>', finance.get("/staff/refunds/failed/").content.decode(),
                    re.S).group(0)
    text = _visible(row)
    assert str(gateway_errors.GATEWAY_ERRORS["unknown"].message) in text
    assert code in text and "Card blocked by issuer" in text
    confirm = finance.get(f"/staff/refunds/{refund.pk}/actions/retry/").content.decode()
    assert f"（{code}: Card blocked by issuer）" in confirm
    response = finance.get("/staff/refunds/failed/?format=csv")
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode("utf-8-sig"))))
    assert rows[1][-1] == f"{code}: Card blocked by issuer"
