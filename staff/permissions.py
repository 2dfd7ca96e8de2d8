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
    "review_queue": frozenset({FRAUD, SUPPORT}),
    "reports": frozenset({FRAUD, SUPPORT}),
    "pickups": frozenset({SUPPORT, FRAUD}),
    "seller": EVERYONE,
    "seller_closures": frozenset({SUPPORT}),  # issue 15: seller closure is a request to support (seed 003)
    "webhooks": frozenset({SUPPORT}),  # issue 13: partners' webhook endpoints and deliveries
}

# action name → groups that may run it (from whichever page offers it).
ACTIONS: dict[str, frozenset[str]] = {
    "cancel": frozenset({SUPPORT, FRAUD}),
    "refund": frozenset({SUPPORT, FINANCE}),  # partial refund of a delivered order (返品)
    "complete_callback": frozenset({SUPPORT}),
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
    "report_start": frozenset({FRAUD, SUPPORT}),
    "report_resolve": frozenset({FRAUD}),
    "report_dismiss": frozenset({FRAUD}),
    "close_customer": frozenset({SUPPORT}),  # 退会 on the customer's behalf (seed 003: by phone or chat)
    "adjust_points": frozenset({SUPPORT, FINANCE}),
    "seller_closure_check": frozenset({SUPPORT}),
    "close_seller": frozenset({SUPPORT}),
    "issue_receipt": frozenset({SUPPORT, FINANCE}),  # issue 18: 領収書の発行・再発行
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
