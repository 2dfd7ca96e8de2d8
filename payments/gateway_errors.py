"""What the card gateway's error codes mean, in words support can read out (issue 17: the gateway
answers in English). One table: the staff order page, the failed-refunds queue and its CSV, the
retry confirm page, the order timeline and the retry refusal all read it. The gateway's own code
stays visible next to the words (support quotes it to the gateway's help desk).

``permanent`` says whether sending the same call again can succeed: a permanently refused card
refund is not retried to the card (``refunds.retry`` refuses and says what to do instead).
"""

from __future__ import annotations

from dataclasses import dataclass

from django.utils import translation
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _


@dataclass(frozen=True)
class GatewayErrorText:
    code: str
    message: Promise  # what happened, for the agent
    hint: Promise  # what to do about it
    permanent: bool


# The sandbox's codes (``payments.gateway.SandboxGateway``); a real adapter maps its gateway's
# codes onto these, or adds rows here.
REFUND_REFUSED = "refund_refused"
GATEWAY_TIMEOUT = "gateway_timeout"
CAPTURE_VOIDED = "capture_voided"
CAPTURE_TIMEOUT = "capture_timeout"
UNKNOWN = "unknown"

GATEWAY_ERRORS: dict[str, GatewayErrorText] = {row.code: row for row in (
    GatewayErrorText(
        REFUND_REFUSED, _("カード会社が返金を受け付けませんでした（カードの解約・有効期限切れなど）。"),
        _("同じカードへ再試行しても失敗します。「ギフト券残高への返金に切り替える」を選んで再試行してください。"),
        permanent=True),
    GatewayErrorText(
        GATEWAY_TIMEOUT, _("決済サービスが時間内に応答しませんでした（一時的なエラー）。"),
        _("時間をおいて再試行すると成功することがあります。"), permanent=False),
    GatewayErrorText(
        CAPTURE_VOIDED, _("このカード決済は既に取り消されています。"),
        _("取り消し済みの決済には返金も売上確定もできません。"), permanent=True),
    GatewayErrorText(
        CAPTURE_TIMEOUT, _("カード決済の応答が途中で失われました（一時的なエラー）。"),
        _("決済は自動で取り消されます。お客様にはもう一度ご注文いただくようご案内ください。"), permanent=False),
    GatewayErrorText(
        UNKNOWN, _("決済サービスでエラーが発生しました。"),
        _("小さく表示しているエラーコードと内容をシステム担当に伝えてください。"), permanent=False),
)}


def describe(code: str) -> GatewayErrorText:
    """The words for a gateway error code; an unknown (or empty, older) code gets the generic row."""
    return GATEWAY_ERRORS.get(code or UNKNOWN, GATEWAY_ERRORS[UNKNOWN])


def is_permanent(code: str) -> bool:
    return describe(code).permanent


def has_own_words(code: str) -> bool:
    """Whether the table says what this code means (the generic row does not)."""
    return code in GATEWAY_ERRORS and code != UNKNOWN


def quoted(code: str, raw: str = "") -> str:
    """What support quotes to the gateway's help desk next to the words: the code, and the
    gateway's own text too when the table has no words of its own for the code (or no code)."""
    return code if has_own_words(code) else ": ".join(part for part in (code, raw) if part)


def refusal_words(code: str) -> str:
    """A domain error's message (Japanese, translated where shown, like every ``DomainError``):
    what the gateway said and what to do instead."""
    with translation.override("ja"):
        text = describe(code)
        return f"{text.message}{text.hint}"
