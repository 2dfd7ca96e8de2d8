"""Input limits: the one place every bound on what a partner may send lives (issue 12).

API.md "Basics": malformed input, overlong strings and absurd values are a coded 400, never a
500. The HTTP-level limits (body size, JSON nesting, control characters in the path and the
headers) are enforced by ``backoffice.api.guards`` before a view runs; the value-level limits
below are checked by the serializers' fields and the services that own the rule.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import datetime, timedelta

from backoffice.errors import InvalidInput
from backoffice.timeutil import now

# --- HTTP level -------------------------------------------------------------------------------
# Decision: the largest legitimate body is a chain's daily settlement report (確報) or an order of
# 100 lines, well under 1 MiB; anything larger is refused with 413 before it is read.
MAX_BODY_BYTES = 1024 * 1024
# Issue 14: finance uploads a chain's settlement file (確報, a day's sales: 100,000 lines are ~6 MB)
# from the staff console; that one form (staff log-in, group and one-time token checked) takes more.
MAX_UPLOAD_BYTES = 20 * 1024 * 1024
LARGE_UPLOAD_PATHS = frozenset({"/staff/settlement/actions/upload/"})
# Decision: our deepest legitimate document nests 4 levels ({"items": [{"sku": ...}]}); 32 leaves
# room and keeps a hostile 100,000-deep array from reaching the recursive parser.
MAX_JSON_DEPTH = 32
# A path segment longer than this is no identifier of ours (the longest, an order number with
# hyphens, is 19 characters; an external id at most 64).
MAX_PATH_SEGMENT_LENGTH = 100
# C0 controls (NUL included) and DEL never belong in a path, a header or a text field; a header
# value may contain a tab (HTTP allows it), free text also line feed and carriage return.
CONTROL_CHARACTERS = re.compile(r"[\x00-\x1f\x7f]")
HEADER_CONTROL_CHARACTERS = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")
TEXT_CONTROL_CHARACTERS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")

# --- times partners report -------------------------------------------------------------------
# Decision: a partner's clock may run a little ahead of ours; further in the future is wrong data.
MAX_CLOCK_SKEW = timedelta(minutes=10)
# Decision: a konbini payment code lives 6 days + the late-payment grace (SPEC §3, seed 003), so
# a register's paid_at older than a month is a wrong value, not a late report.
PAYMENT_REPORT_MAX_AGE = timedelta(days=31)
# Decision: a carrier may upload a late batch of scans (out-of-order events are expected, SPEC §2),
# but never a year late: the parcel has long been closed by then.
CARRIER_EVENT_MAX_AGE = timedelta(days=365)

# --- identifiers and places -------------------------------------------------------------------
# Decision: a SKU is letters, digits, '.', '_' and '-', starting with a letter or digit, at most 64
# characters, so that it is one path segment of ``PATCH /listings/{sku}`` as typed.
SKU_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
# The 47 prefectures of Japan (都道府県), the only values an address's prefecture may take.
PREFECTURES: tuple[str, ...] = (
    "北海道", "青森県", "岩手県", "宮城県", "秋田県", "山形県", "福島県",
    "茨城県", "栃木県", "群馬県", "埼玉県", "千葉県", "東京都", "神奈川県",
    "新潟県", "富山県", "石川県", "福井県", "山梨県", "長野県", "岐阜県", "静岡県", "愛知県",
    "三重県", "滋賀県", "京都府", "大阪府", "兵庫県", "奈良県", "和歌山県",
    "鳥取県", "島根県", "岡山県", "広島県", "山口県",
    "徳島県", "香川県", "愛媛県", "高知県",
    "福岡県", "佐賀県", "長崎県", "熊本県", "大分県", "宮崎県", "鹿児島県", "沖縄県",
)


def check_time_window(value: datetime, *, field: str, max_age: timedelta) -> datetime:
    """``value`` if it lies within [now − max_age, now + MAX_CLOCK_SKEW], else 400 ``time_out_of_range``."""
    current = now()
    if value > current + MAX_CLOCK_SKEW:
        raise InvalidInput("%(field)s が未来の日時です。", params={"field": field}, code="time_out_of_range", field=field)
    if value < current - max_age:
        raise InvalidInput("%(field)s が古すぎます（%(days)s日以内の日時を指定してください）。",
                           params={"field": field, "days": max_age.days},
                           code="time_out_of_range", field=field)
    return value


def check_prefecture(value: str, *, field: str = "prefecture") -> str:
    """One of the 47 prefectures (full-width/half-width variants normalised), else 400 ``invalid_prefecture``."""
    name = unicodedata.normalize("NFKC", value or "").strip()
    if name not in PREFECTURES:
        raise InvalidInput("都道府県名が正しくありません（例: 東京都、大阪府、北海道）。", code="invalid_prefecture",
                           field=field)
    return name


def check_sku(value: str, *, field: str = "sku") -> str:
    if not SKU_PATTERN.match(value or ""):
        raise InvalidInput("SKUは英数字と「.」「_」「-」の64文字以内で指定してください。", code="invalid_sku", field=field)
    return value
