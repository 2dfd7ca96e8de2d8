"""Staff groups and what each may do. Applied after every migrate (idempotent)."""

from __future__ import annotations

# app_label → model names; each group gets view on everything it lists and change where marked.
GROUPS: dict[str, dict[str, list[str]]] = {
    "support_agent": {
        "view": ["shop.*", "payments.payment", "payments.refund", "payments.giftcardaccount", "payments.giftcardentry",
                 "konbini.*", "pickup.*", "fraud.*", "receipts.*"],
        "change": ["shop.order", "shop.callbackrequest", "shop.customer", "pickup.*"],
        "add": ["fraud.*"],
    },
    "fraud_analyst": {
        "view": ["shop.*", "payments.*", "konbini.*", "pickup.*", "fraud.*", "backoffice.partner"],
        "change": ["shop.order", "shop.customer", "payments.giftcardaccount", "fraud.*"],
        "add": ["fraud.*"],
    },
    "finance": {
        "view": ["shop.order", "shop.customer", "payments.*", "konbini.*", "receipts.*"],
        "change": ["payments.*"],
        "add": [],
    },
}


def ensure_groups(**kwargs) -> None:
    from django.contrib.auth.models import Group, Permission

    for group_name, grants in GROUPS.items():
        group, _ = Group.objects.get_or_create(name=group_name)
        perms = []
        for action, patterns in grants.items():
            for pattern in patterns:
                app_label, model = pattern.split(".")
                qs = Permission.objects.filter(content_type__app_label=app_label, codename__startswith=f"{action}_")
                if model != "*":
                    qs = qs.filter(content_type__model=model)
                perms.extend(qs)
        group.permissions.set(perms)
