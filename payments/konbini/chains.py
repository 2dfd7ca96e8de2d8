"""The konbini chains (SPEC §3 table, seed 003). The one place their rules live."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from backoffice.timeutil import end_of_day_after

# seed 003: コンビニ支払いの上限額 — 30万円を超える商品はコンビニ払い不可 (300,000 itself is allowed).
KONBINI_MAX_TOTAL = 300_000
# seed 003: お支払い番号の有効期限は発行から6日間.
KONBINI_PAYMENT_DAYS = 6


def payment_deadline(issued_at: datetime) -> datetime:
    """SPEC §3: 23:59:59 JST on the issue date + ``KONBINI_PAYMENT_DAYS`` (placed 2026-11-23 10:00
    JST → 2026-11-29 23:59:59 JST). Placement and a held order's approval both issue with it."""
    return end_of_day_after(issued_at, KONBINI_PAYMENT_DAYS)


# seed 003: Loppi / Famiポート ask for the 確認番号 "8888", which people forget.
LOPPI_CHECK_CODE = "8888"
# seed 003: the merchant button on the Loppi / Famiポート menus (「Amazon.co.jp, Javari.jp」をタッチ).
TERMINAL_MERCHANT_BUTTON = "Amazon.co.jp, Javari.jp"
# seed 003: every chain takes cash only, without a fee; no cashless payment at the register.
CASH_ONLY_NOTE = (
    "お支払いは現金のみです（手数料は無料）。PayPay・d払い・交通系電子マネー・クレジットカードなどの"
    "キャッシュレス決済はご利用いただけません。"
)


@dataclass(frozen=True)
class Chain:
    """One chain of the SPEC §3 table. ``steps`` are the customer's steps at the store (seed 003),
    with ``{number}`` / ``{check_code}`` filled in by :meth:`instructions`."""

    code: str
    name: str
    number_name: str
    digits: int
    check_code: str | None
    terminal: str
    steps: tuple[str, ...] = field(default=())

    def instructions(self, payment_number: str) -> list[str]:
        """The steps for one payment number, ending with the cash-only note."""
        values = {"number": payment_number, "check_code": self.check_code or "", "digits": self.digits,
                  "number_name": self.number_name, "merchant": TERMINAL_MERCHANT_BUTTON}
        return [step.format(**values) for step in self.steps] + [CASH_ONLY_NOTE]


# seed 003 「ローソンかミニストップで支払う場合」: Loppi menu path, then 8888, then the slip to the clerk.
_LOPPI_STEPS = (
    "店内のLoppiで「各種代金・料金お支払い」をタッチしてください。",
    "「各種代金お支払い」をタッチしてください。",
    "「{merchant}」をタッチしてください。",
    "{digits}桁の{number_name}「{number}」を入力してください。",
    "確認番号「{check_code}」を入力してください（入力を忘れる方が多いのでご注意ください）。",
    "発行された申込券をレジの店員に渡し、代金をお支払いください。",
)

CHAINS: dict[str, Chain] = {
    c.code: c
    for c in (
        # seed 003: 13桁の払込票番号 — print the page or note the number and tell the clerk.
        Chain("seven_eleven", "セブン-イレブン", "払込票番号", 13, None, "レジ", (
            "このページを印刷するか、{digits}桁の{number_name}「{number}」をメモしてください。",
            "セブン-イレブンのレジで店員に「インターネット代金の支払い」と伝え、{number_name}をお伝えいただくか"
            "印刷したページをお見せください。",
            "レジで代金をお支払いください。",
        )),
        Chain("lawson", "ローソン", "お支払い番号", 11, LOPPI_CHECK_CODE, "Loppi", _LOPPI_STEPS),
        Chain("ministop", "ミニストップ", "お支払い番号", 11, LOPPI_CHECK_CODE, "Loppi", _LOPPI_STEPS),
        # seed 003 「ファミリーマートで支払う場合」: Famiポート menu path, 8888, 「同意して利用する」.
        Chain("familymart", "ファミリーマート", "お支払い番号", 11, LOPPI_CHECK_CODE, "Famiポート", (
            "店内のFamiポートで「代金支払い」をタッチしてください。",
            "「各種代金お支払い」をタッチしてください。",
            "「番号入力画面に進む」をタッチしてください。",
            "{digits}桁の{number_name}「{number}」を入力してください。",
            "確認番号「{check_code}」を入力してください（入力を忘れる方が多いのでご注意ください）。",
            "「同意して利用する」をタッチしてください。",
            "発行された申込券をレジの店員に渡し、代金をお支払いください。",
        )),
        # seed 003 「セイコーマートで支払う場合」: クラブステーション, 次に進む, 印刷.
        Chain("seicomart", "セイコーマート", "オンライン決済番号", 11, None, "クラブステーション", (
            "店内のクラブステーションで「各種支払い」をタッチしてください。",
            "{digits}桁の{number_name}「{number}」を入力してください。",
            "「次に進む」をタッチし、「印刷」をタッチしてください。",
            "発行された申込券をレジの店員に渡し、代金をお支払いください。",
        )),
        # seed 003 「デイリーヤマザキで支払う場合」: print or note the number, tell the clerk.
        Chain("daily_yamazaki", "デイリーヤマザキ", "オンライン決済番号", 11, None, "レジ", (
            "このページを印刷するか、{digits}桁の{number_name}「{number}」をメモしてください。",
            "デイリーヤマザキのレジで店員に{number_name}をお伝えいただくか、印刷したページをお見せください。",
            "レジで代金をお支払いください。",
        )),
    )
}
CHAIN_CHOICES = [(c.code, c.name) for c in CHAINS.values()]
