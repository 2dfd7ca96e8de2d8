"""The konbini chains (SPEC §3 table, seed 003). The one place their rules live."""

from __future__ import annotations

from dataclasses import dataclass, field

# seed 003: コンビニ支払いの上限額 — 30万円を超える商品はコンビニ払い不可 (300,000 itself is allowed).
KONBINI_MAX_TOTAL = 300_000
# seed 003: お支払い番号の有効期限は発行から6日間.
KONBINI_PAYMENT_DAYS = 6
# seed 003: Loppi / Famiポート ask for the 確認番号 "8888", which people forget.
LOPPI_CHECK_CODE = "8888"


@dataclass(frozen=True)
class Chain:
    code: str
    name: str
    number_name: str
    digits: int
    check_code: str | None
    terminal: str
    steps: tuple[str, ...] = field(default=())


CHAINS: dict[str, Chain] = {
    c.code: c
    for c in (
        Chain("seven_eleven", "セブン-イレブン", "払込票番号", 13, None, "レジ"),
        Chain("lawson", "ローソン", "お支払い番号", 11, LOPPI_CHECK_CODE, "Loppi"),
        Chain("ministop", "ミニストップ", "お支払い番号", 11, LOPPI_CHECK_CODE, "Loppi"),
        Chain("familymart", "ファミリーマート", "お支払い番号", 11, LOPPI_CHECK_CODE, "Famiポート"),
        Chain("seicomart", "セイコーマート", "オンライン決済番号", 11, None, "クラブステーション"),
        Chain("daily_yamazaki", "デイリーヤマザキ", "オンライン決済番号", 11, None, "レジ"),
    )
}
CHAIN_CHOICES = [(c.code, c.name) for c in CHAINS.values()]
