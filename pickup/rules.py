"""The rules of konbini pickup (SPEC §4). The one place each number lives, with its source.

``PICKUP_CHAINS`` (chain → terminal) lives in ``pickup.models``; the notice delay and the
auth-number source are settings (``PICKUP_NOTICE_DELAY``, ``PICKUP_AUTH_NUMBER_SOURCE``).
"""

from __future__ import annotations

from datetime import timedelta

from backoffice.checkdigits import TRACKING_NUMBER_DIGITS

# seed 001: お問い合わせ番号:12桁 — the shipment's 伝票番号 (7DR check digit, SPEC §2).
INQUIRY_NUMBER_DIGITS = TRACKING_NUMBER_DIGITS
# seeds 000/001: 認証番号:7桁 — 「認証番号は注文番号の下7桁です」.
AUTH_NUMBER_DIGITS = 7
# seed 001: 受取期間は、メールの受信日から11日以内 → 23:59:59 JST on notice date + 11 (SPEC §1, §4).
PICKUP_DAYS = 11
# SPEC §6: a reminder 3 days before the pickup deadline (seed 001: 受け取り期間にもよく注意).
REMINDER_BEFORE_DEADLINE = timedelta(days=3)
# seed 001: 「申し込み券」が出力されます。30分以内でレジに提示して荷物を受け取ってください.
TICKET_VALIDITY = timedelta(minutes=30)
# 申し込み券 number printed by the terminal (decision: 13 random digits, like a JAN barcode).
TICKET_NUMBER_DIGITS = 13

# Brute force (seed 000's 「ちょっと怖い仕様」: the keys can be guessed or leaked), SPEC §4:
# this many consecutive failed attempts lock the parcel until staff unlock it (423) ...
LOCK_AFTER_FAILURES = 5
# ... and more than this many failed attempts within the window at one store throttle the
# whole store (429) for STORE_THROTTLE_DURATION.
STORE_THROTTLE_FAILURES = 20
STORE_THROTTLE_WINDOW = timedelta(minutes=10)
STORE_THROTTLE_DURATION = timedelta(minutes=10)

# seed 001: 同様のキャンセルが何度もなされると、Amazonアカウントが停止されたり — the 3rd
# pickup no-show within 365 days opens an account-review case (SPEC §4).
NO_SHOW_REVIEW_THRESHOLD = 3
NO_SHOW_WINDOW = timedelta(days=365)

# seed 001 「店内端末で承認キーを入力する方法」: the steps at each terminal.
_TICKET_MINUTES = int(TICKET_VALIDITY.total_seconds() // 60)
_TICKET_STEP = f"「申し込み券」が出力されます。{_TICKET_MINUTES}分以内にレジに提示して商品をお受け取りください。"
TERMINAL_STEPS: dict[str, tuple[str, ...]] = {
    "Loppi": (
        "トップ画面の「各種番号をお持ちの方」をタッチします。",
        f"{INQUIRY_NUMBER_DIGITS}桁の「お問い合わせ番号」を入力します。",
        f"{AUTH_NUMBER_DIGITS}桁の「認証番号」を入力して「次へ」をタッチします。",
        "コンビニ受取サービスの画面で「了解」をタッチします。",
        _TICKET_STEP,
    ),
    "Famiポート": (
        "トップメニュー画面で「店頭受取サービス」をタッチします。",
        "「番号入力画面に進む」をタッチします。",
        f"{INQUIRY_NUMBER_DIGITS}桁の「お問い合わせ番号」を入力して「OK」をタッチします。",
        f"{AUTH_NUMBER_DIGITS}桁の「認証番号」を入力して「OK」をタッチします。",
        _TICKET_STEP,
    ),
}
