"""The address reputation row (SPEC §5, seed 004): one per normalised address key, created on
first use. COD checks and report filing lock it (``lock=True``) to serialise on one address.

Its own module so that ``addresses`` (which files reports) and ``reports`` (which locks the
address when filing) both use it without importing each other.
"""

from __future__ import annotations

from django.db import IntegrityError, transaction

from fraud.models import AddressReputation


def reputation(key: str, *, lock: bool = False) -> AddressReputation:
    rep = AddressReputation.objects.filter(key=key).first()
    if rep is None:
        try:
            with transaction.atomic():
                rep = AddressReputation.objects.create(key=key)
        except IntegrityError:
            rep = AddressReputation.objects.get(key=key)
    if lock:
        rep = AddressReputation.objects.select_for_update(no_key=True).get(pk=rep.pk)
    return rep
