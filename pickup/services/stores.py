"""The pickup store master, maintained by each chain through ``PUT /stores/{store_code}``."""

from __future__ import annotations

import re

from django.db import IntegrityError, transaction

from backoffice.errors import Forbidden, InvalidInput, NotFound
from backoffice.normalize import nfkc
from pickup.models import PICKUP_CHAINS, Store

_STORE_CODE = re.compile(r"^[A-Za-z0-9\-]{1,20}$")


def normalize_store_code(value: object, *, field: str = "store_code") -> str:
    """Store codes are letters, digits and hyphens (full-width accepted), at most 20 characters."""
    text = nfkc(value) if isinstance(value, str) else ""
    if not _STORE_CODE.match(text):
        raise InvalidInput("店舗コードは英数字20文字以内で指定してください。", code="invalid_store_code", field=field)
    return text


def ensure_pickup_chain(chain: str) -> None:
    if chain not in PICKUP_CHAINS:
        raise Forbidden("このチェーンはコンビニ受取に対応していません。", code="forbidden")


def upsert(*, chain: str, code: str, name: str, prefecture: str, address: str, active: bool) -> tuple[Store, bool]:
    """Create or replace a store of ``chain``. Returns (store, created).

    A store code that belongs to another chain is refused (403): a chain only maintains its own
    stores (API.md "Konbini chain (its own chain only)").
    """
    ensure_pickup_chain(chain)
    code = normalize_store_code(code)
    fields = {"name": name, "prefecture": prefecture, "address": address, "active": active}
    with transaction.atomic():
        store = Store.objects.select_for_update().filter(code=code).first()
        if store is None:
            try:
                with transaction.atomic():
                    return Store.objects.create(chain=chain, code=code, **fields), True
            except IntegrityError:  # created concurrently: update it below
                store = Store.objects.select_for_update().get(code=code)
        if store.chain != chain:
            raise Forbidden("この店舗は別のチェーンの店舗です。", code="forbidden", field="store_code")
        for name_, value in fields.items():
            setattr(store, name_, value)
        store.save()
    return store, False


def store_of_chain(chain: str, code: object, *, field: str = "store_code") -> Store:
    """The store a terminal or register speaks for: it must be one of the partner's own chain."""
    ensure_pickup_chain(chain)
    code = normalize_store_code(code, field=field)
    store = Store.objects.filter(code=code, chain=chain).first()
    if store is None:
        raise NotFound("店舗が見つかりません。", code="store_not_found", field=field)
    return store
