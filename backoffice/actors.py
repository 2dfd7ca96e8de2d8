"""Who did it: one value for every timeline and audit record (Zulip's ``acting_user``).

An ``Actor`` is a kind (system job, staff user, API partner) plus a reference (the user's or the
partner's id). Its ``label`` — the one way its stored name is built — is what timelines show and
keep if the user or partner is later deleted; ``str(actor)`` is the label, so records that only
store a name (fraud report events) take it as they are.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import models


class PartnerKind(models.TextChoices):
    """The kinds of API partner (``backoffice.models.Partner.Kind``; a partner actor's label starts with one)."""

    STOREFRONT = "storefront", "ストアフロント"
    KONBINI_CHAIN = "konbini_chain", "コンビニチェーン"
    CARRIER = "carrier", "配送業者"
    WAREHOUSE = "warehouse", "倉庫"
    SELLER = "seller", "出品者"


PARTNER_KINDS = frozenset(PartnerKind.values)


class ActorKind(models.TextChoices):
    SYSTEM = "system", "システム"
    STAFF = "staff", "スタッフ"
    PARTNER = "partner", "APIパートナー"


@dataclass(frozen=True)
class Actor:
    kind: str
    name: str = ""
    user_id: int | None = None
    partner_id: int | None = None
    partner_kind: str = ""
    verbatim: bool = False  # a bare name given as a string (tests, the demo data): its label is the name

    @classmethod
    def system(cls, job: str = "") -> Actor:
        """The system itself, or one of its jobs (``konbini_expiry``, ``pickup_expiry``...)."""
        return cls(ActorKind.SYSTEM, job)

    @classmethod
    def staff(cls, user) -> Actor:
        return cls(ActorKind.STAFF, user.get_username(), user_id=user.pk)

    @classmethod
    def partner(cls, partner) -> Actor:
        return cls(ActorKind.PARTNER, partner.name, partner_id=partner.pk, partner_kind=partner.kind)

    @classmethod
    def of(cls, value: Actor | str | object) -> Actor:
        """An ``Actor`` as it is; a staff user becomes one; a bare name (tests, the demo data,
        management commands) is taken as a system actor of that name."""
        if isinstance(value, Actor):
            return value
        if isinstance(value, str):  # a label read back (``staff:agent``, ``system:pickup_expiry``)
            head, sep, tail = value.partition(":")
            if sep and head == ActorKind.STAFF:
                return cls(ActorKind.STAFF, tail)
            if sep and head in PARTNER_KINDS:
                return cls(ActorKind.PARTNER, tail, partner_kind=head)
            if sep and head == ActorKind.SYSTEM:
                return cls.system(tail)
            return cls(ActorKind.SYSTEM, value, verbatim=True)
        if hasattr(value, "get_username"):
            return cls.staff(value)
        raise TypeError(f"not an actor: {value!r}")

    @property
    def label(self) -> str:
        """``system``, ``system:<job>``, ``staff:<username>``, ``<partner kind>:<partner name>``."""
        if self.verbatim:
            return self.name
        if self.kind == ActorKind.STAFF:
            return f"staff:{self.name}"
        if self.kind == ActorKind.PARTNER:
            return f"{self.partner_kind}:{self.name}"
        return f"system:{self.name}" if self.name and self.name != "system" else "system"

    def __str__(self) -> str:
        return self.label

    def fields(self) -> dict:
        """The columns of a record's actor (``actor``, ``actor_kind``, ``actor_user_id``, ``actor_partner_id``)."""
        return {"actor": self.label[:100], "actor_kind": self.kind, "actor_user_id": self.user_id,
                "actor_partner_id": self.partner_id}


SYSTEM = Actor.system()


def of_request(request) -> Actor:
    """The logged-in staff user of a console page or an admin action."""
    return Actor.staff(request.user)
