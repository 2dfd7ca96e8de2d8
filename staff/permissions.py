"""Who may open which console page and run which action: one table, by staff group.

The groups themselves (and their model permissions for the admin) live in
``backoffice.groups``. A superuser may do everything; a user who is not ``is_staff`` may not
log in at all.
"""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser

SUPPORT = "support_agent"
FRAUD = "fraud_analyst"
FINANCE = "finance"
EVERYONE = frozenset({SUPPORT, FRAUD, FINANCE})

# page name → groups that may open it.
PAGES: dict[str, frozenset[str]] = {
    "dashboard": EVERYONE,
    "search": EVERYONE,
    "order": EVERYONE,
    "customer": EVERYONE,
    "callbacks": frozenset({SUPPORT, FRAUD}),
    "failed_refunds": frozenset({SUPPORT, FINANCE}),
    "transfer_batches": frozenset({FINANCE}),  # issue 7: bank-transfer batches are finance only
    "settlement": frozenset({FINANCE}),  # issue 14: konbini reconciliation (速報・確報) is finance's
    "review_queue": frozenset({FRAUD, SUPPORT}),
    "reports": frozenset({FRAUD, SUPPORT}),
    "pickups": frozenset({SUPPORT, FRAUD}),
    "seller": EVERYONE,
    "seller_closures": frozenset({SUPPORT}),  # issue 15: seller closure is a request to support (seed 003)
    "konbini_due": frozenset({SUPPORT, FINANCE}),  # issue 17: konbini payments due today
    "activity": EVERYONE,  # issue 17: the staff activity log (shift handover)
    "notes": EVERYONE,  # internal notes; the note's record must be open to the user too
    "addresses": frozenset({FRAUD, SUPPORT}),  # issue 17: COD address blocks (seed 004)
    "webhooks": frozenset({SUPPORT}),  # issue 13: partners' webhook endpoints and deliveries
}

# action name → groups that may run it (from whichever page offers it).
ACTIONS: dict[str, frozenset[str]] = {
    "cancel": frozenset({SUPPORT, FRAUD}),
    "refund": frozenset({SUPPORT, FINANCE}),  # partial refund of a delivered order (返品)
    "claim_callback": frozenset({SUPPORT}),
    "complete_callback": frozenset({SUPPORT}),
    "add_note": EVERYONE,
    "block_address": frozenset({FRAUD}),  # COD to an address stopped by hand (seed 004)
    "lift_address_block": frozenset({FRAUD}),
    "retry_refund": frozenset({FINANCE}),
    "download_batch": frozenset({FINANCE}),
    "mark_transferred": frozenset({FINANCE}),
    "resend_pickup_notice": frozenset({SUPPORT}),
    "unlock_pickup": frozenset({SUPPORT}),
    "approve_hold": frozenset({FRAUD}),
    "reject_hold": frozenset({FRAUD}),
    "secure_account": frozenset({FRAUD, SUPPORT}),
    "suspend_customer": frozenset({FRAUD}),
    "reinstate_customer": frozenset({FRAUD}),
    "report_check": frozenset({FRAUD, SUPPORT}),
    "report_uncheck": frozenset({FRAUD, SUPPORT}),  # a tick made by mistake, undone with a reason
    "report_start": frozenset({FRAUD, SUPPORT}),
    "report_resolve": frozenset({FRAUD}),
    "report_dismiss": frozenset({FRAUD}),
    "close_customer": frozenset({SUPPORT}),  # 退会 on the customer's behalf (seed 003: by phone or chat)
    "adjust_points": frozenset({SUPPORT, FINANCE}),
    "seller_closure_check": frozenset({SUPPORT}),
    "close_seller": frozenset({SUPPORT}),
    "issue_receipt": frozenset({SUPPORT, FINANCE}),  # issue 18: 領収書の発行・再発行
    "resolve_settlement_case": frozenset({FINANCE}),  # issue 14
    "upload_settlement": frozenset({FINANCE}),
    "redeliver_webhook": frozenset({SUPPORT}),
    "reenable_webhook": frozenset({SUPPORT}),
}


def groups_of(user: AbstractBaseUser | AnonymousUser) -> frozenset[str]:
    """The user's group names, read once per request object."""
    cached = getattr(user, "_staff_groups", None)
    if cached is None:
        cached = frozenset(user.groups.values_list("name", flat=True)) if user.is_authenticated else frozenset()
        user._staff_groups = cached
    return cached


def _allowed(user, groups: frozenset[str]) -> bool:
    if not (user.is_authenticated and user.is_active and user.is_staff):
        return False
    return user.is_superuser or bool(groups_of(user) & groups)


def can_view(user, page: str) -> bool:
    return _allowed(user, PAGES[page])


def can_run(user, action: str) -> bool:
    return _allowed(user, ACTIONS[action])
