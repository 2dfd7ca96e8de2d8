"""Every fraud rule constant, in one place, with the seed it comes from (SPEC §5).

Risk-rule *weights* are data (``RiskRule`` rows, editable by staff in the admin); the defaults
below seed that table once (data migration ``0002``). Thresholds and windows are constants.
"""

from __future__ import annotations

from datetime import timedelta


def _hours(window: timedelta) -> int:
    """A window in whole hours, for the rule descriptions staff read."""
    return int(window.total_seconds() // 3600)


# --- risk score (SPEC §5 "Risk score") -------------------------------------------------------
RISK_MAX = 100
RISK_HOLD_AT = 70  # SPEC §5: score ≥ 70 → on_hold + a risk_review report
RISK_REJECT_AT = 90  # SPEC §5: score ≥ 90 → cancelled (risk_rejected)

# seed 002: the unauthorized purchase came right after someone used the account from elsewhere.
NEW_DEVICE_WINDOW = timedelta(hours=24)
# (decision) "high value": above this total an order is worth a second look.
HIGH_VALUE_TOTAL = 50_000
# (decision) order velocity: this many earlier orders by the same customer within the window.
ORDER_VELOCITY_COUNT = 3
ORDER_VELOCITY_WINDOW = timedelta(hours=1)

# --- COD harassment (seed 004) ---------------------------------------------------------------
# seed 004: harassment COD parcels to fictitious/unknowing addresses get refused. SPEC §5:
# 2 refused COD parcels to one address within 90 days block COD there until staff lift it.
COD_REFUSALS_TO_BLOCK = 2
COD_REFUSAL_WINDOW = timedelta(days=90)
# SPEC §5: 3 COD orders to one address from 2+ customers within 24 h → further ones on hold.
COD_ADDRESS_VELOCITY_ORDERS = 3
COD_ADDRESS_VELOCITY_CUSTOMERS = 2
COD_ADDRESS_VELOCITY_WINDOW = timedelta(hours=24)
COD_ADDRESS_VELOCITY_RULE = ("cod_address_velocity",
                             f"{_hours(COD_ADDRESS_VELOCITY_WINDOW)}時間以内に同じ住所へ複数の顧客から代引き注文が集中している")

# code → (Japanese description shown to staff, default weight). Seeded into RiskRule.
DEFAULT_RISK_RULES: dict[str, tuple[str, int]] = {
    "new_device_24h": (f"{_hours(NEW_DEVICE_WINDOW)}時間以内に新しい端末からのログインがある", 30),  # seed 002
    "new_address": ("この顧客にとって初めての配送先住所", 15),  # seed 004
    "cod": ("代金引換での注文", 10),  # seed 004
    "high_value": (f"高額注文（{HIGH_VALUE_TOTAL:,}円超）", 20),
    "address_unverified": ("郵便番号と都道府県・市区町村が一致しない住所", 40),  # seed 004 架空の住所
    "address_cod_refusals": (f"この住所で{COD_REFUSAL_WINDOW.days}日以内に代引きの受取拒否がある", 30),  # seed 004
    "order_velocity": (f"{int(ORDER_VELOCITY_WINDOW.total_seconds() // 60)}分以内に"
                       f"{ORDER_VELOCITY_COUNT}件以上の注文がある", 20),
    "open_report": ("この顧客に未解決の不正報告がある", 40),  # seeds 002, 004
    "digital_new_device": ("新しい端末からのデジタル商品の注文", 40),  # seed 002 (streamed video)
}

# --- reports (SPEC §5 "Reports") -------------------------------------------------------------
# seed 004「何度も粘り強く通報するのが大事」: the 3rd report about the same customer, address or
# seller raises the priority of all of them.
LINKED_REPORTS_FOR_HIGH_PRIORITY = 3

# issue 17: the priority a report starts at, by type. An order the customer did not place
# (seed 002: money and an account at stake) is high from the first minute; the others start at
# normal and rise with linked reports. Values are ``ReportPriority`` (1 normal, 2 high).
PRIORITY_BY_TYPE: dict[str, int] = {
    "unauthorized_order": 2,
    "cod_harassment": 1,
    "repeated_pickup_cancellation": 1,
    "risk_review": 1,
    "other": 1,
}

# seed 004「担当によって温度差がある」: each type has a fixed checklist that must be complete
# before a report can be resolved. code → (item code, Japanese label).
CHECKLISTS: dict[str, list[tuple[str, str]]] = {
    "unauthorized_order": [  # seed 002
        ("reviewed_logins", "注文前後のログイン履歴（端末・IP）を確認した"),
        ("secured_account", "アカウント保護（注文キャンセル・返金・ログアウト・パスワード再設定・ギフト券凍結）を実行した"),
        ("confirmed_refunds", "返金が完了したことを確認した"),
        ("contacted_customer", "お客様に対応結果を連絡した"),
    ],
    "cod_harassment": [  # seed 004
        ("checked_address", "配送先住所の実在（郵便番号・住所）を確認した"),
        ("reviewed_address_history", "同じ住所への代引き注文・受取拒否の履歴を確認した"),
        ("decided_cod_block", "この住所への代引き停止の要否を判断した"),
        ("contacted_seller", "出品者に対応結果を連絡した"),
    ],
    "repeated_pickup_cancellation": [
        ("reviewed_pickup_history", "コンビニ受取の未受取・キャンセル履歴を確認した"),
        ("decided_restriction", "受取方法の制限の要否を判断した"),
        ("contacted_customer", "お客様に連絡した"),
    ],
    "risk_review": [
        ("reviewed_rules", "該当したリスクルールと注文内容を確認した"),
        ("reviewed_logins", "注文前後のログイン履歴を確認した"),
        ("decided_order", "注文を承認または却下した"),
    ],
    "other": [
        ("recorded_findings", "調査結果を記録した"),
    ],
}

# --- login events and account security (seed 002) -------------------------------------------
# The report page shows the customer's logins in the 72 hours before the reported orders.
LOGINS_BEFORE_ORDERS = timedelta(hours=72)
# seed 002: support e-mailed a password-reset URL; ours is single-use and expires.
PASSWORD_RESET_TOKEN_TTL = timedelta(hours=24)
PASSWORD_RESET_URL = "https://shop.example.jp/account/password-reset?token={token}"
# (decision) a storefront's clock may run a little ahead of ours; a login further in the
# future is a wrong value and is refused.
LOGIN_MAX_CLOCK_SKEW = timedelta(minutes=10)
