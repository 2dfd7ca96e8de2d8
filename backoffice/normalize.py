"""Normalising what people type (SPEC §1): full-width digits, hyphens and spaces."""

from __future__ import annotations

import re
import unicodedata

from backoffice.errors import InvalidInput

# Hyphen-like characters people type between digit groups (ASCII, full-width, dashes, ー).
SEPARATORS = re.compile(r"[\s\-‐‑‒–—―−ーｰ－]")


def nfkc(value: str) -> str:
    return unicodedata.normalize("NFKC", value).strip()


def digits(value: object, *, field: str, length: int | tuple[int, ...] | None = None,
           code: str = "invalid_number", message: str | None = None, params: dict | None = None) -> str:
    """Return the digits of ``value`` (full-width accepted, hyphens/spaces dropped) or raise
    (``message``: a msgid, its ``%(name)s`` placeholders filled from ``params``)."""
    if not isinstance(value, str | int) or isinstance(value, bool):
        raise InvalidInput(message or "番号の形式が正しくありません。", params=params if message else None, code=code,
                           field=field)
    text = SEPARATORS.sub("", nfkc(str(value)))
    lengths = (length,) if isinstance(length, int) else length
    if not text.isascii() or not text.isdigit() or (lengths and len(text) not in lengths):
        if lengths:
            default, values = "%(n)s桁の数字で入力してください。", {"n": "・".join(str(n) for n in lengths)}
        else:
            default, values = "数字で入力してください。", {}
        raise InvalidInput(message or default, params=params if message else values, code=code, field=field)
    return text


def phone_e164(value: str, *, field: str = "phone") -> str:
    """Japanese phone number to +81 form (drop the leading 0). 090-1234-5678 → +819012345678."""
    text = SEPARATORS.sub("", nfkc(str(value))).replace("(", "").replace(")", "")
    if text.startswith("+81"):
        national = text[3:]
    elif text.startswith("0"):
        national = text[1:]
    else:
        raise InvalidInput("電話番号は0から始まる番号で入力してください。", code="invalid_phone", field=field)
    if not national.isascii() or not national.isdigit() or not 9 <= len(national) <= 10:
        raise InvalidInput("電話番号の形式が正しくありません。", code="invalid_phone", field=field)
    return "+81" + national
