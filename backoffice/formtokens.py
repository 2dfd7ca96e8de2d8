"""One-time tokens for staff forms: a double submit does the action once (issue 11).

A double click, the same confirm page open in two tabs, or the browser resubmitting a POST
would otherwise run a staff action twice (two partial refunds). The confirm page carries a
token (``issue``); the POST spends it with one conditional UPDATE in the transaction that runs
the action (``spend``). The database, not the session, decides:

- two submits at once: the second UPDATE waits on the first one's row lock and, once that
  commits, matches no row (the token is spent) → ``FormAlreadyUsed``, nothing run;
- an action refused with a ``DomainError`` rolls back with the UPDATE: the token stays
  unspent and the agent can correct the form and submit again;
- a token older than ``FORM_TOKEN_TTL`` → ``FormExpired``; unknown, another user's or another
  form's → ``FormTokenInvalid``. Each is a coded error with a Japanese message, never a 500.

A user has one unspent token per form (``scope``): every tab showing that form gets the same
one, so two tabs submitting the confirm page run the action once.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import timedelta

from django.db import transaction
from django.utils.translation import gettext_lazy as _

from backoffice.errors import DomainError
from backoffice.models import FormToken
from backoffice.timeutil import now

# Decision (the seeds and SPEC are silent): a confirm page stays valid for one working shift;
# after that the agent reopens it (its consequences may have changed anyway). Spent tokens are
# kept as long, so a late resubmit still says "already done" instead of "unknown".
FORM_TOKEN_TTL = timedelta(hours=8)

# The POST field that carries the token.
FIELD = "form_token"


class FormTokenRefused(DomainError):
    """The submit was not run because of its token (not because of the action's rules)."""


class FormAlreadyUsed(FormTokenRefused):
    status = 409
    code = "form_already_used"
    message = _("この操作は既に実行されました。")


class FormExpired(FormTokenRefused):
    status = 410
    code = "form_expired"
    message = _("この画面の有効期限が切れました。画面を開き直してから、もう一度実行してください。")


class FormTokenInvalid(FormTokenRefused):
    status = 400
    code = "form_token_invalid"
    message = _("この送信は確認画面からのものではないため実行しませんでした。画面を開き直してから、もう一度実行してください。")


def issue_many(*, user, scopes: Iterable[str]) -> dict[str, str]:
    """The user's unspent token for each form (``scope``), created where there is none: a page
    with several forms (a checklist) issues them in a fixed number of queries."""
    scopes = sorted(set(scopes))
    if not scopes:
        return {}
    cutoff = now() - FORM_TOKEN_TTL
    unspent = FormToken.objects.filter(user=user, scope__in=scopes, used_at__isnull=True)
    with transaction.atomic():
        # An expired unspent token gives way to a new one (the unique constraint allows one).
        unspent.filter(created_at__lt=cutoff).delete()
        tokens = dict(unspent.values_list("scope", "token"))
        missing = [s for s in scopes if s not in tokens]
        if missing:
            # Two tabs opening the same page at once: the constraint keeps one row, both read it.
            FormToken.objects.bulk_create(
                [FormToken(user=user, scope=s, token=secrets.token_urlsafe(32)) for s in missing],
                ignore_conflicts=True)
            tokens = dict(unspent.values_list("scope", "token"))
    return tokens


def issue(*, user, scope: str) -> str:
    return issue_many(user=user, scopes=[scope])[scope]


def spend(*, token: str, user, scope: str) -> None:
    """Spend the token in the caller's transaction, or raise why not. The UPDATE is the guard:
    of two concurrent submits exactly one matches the unspent row."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("spend() must run in the transaction of the action it guards")
    at = now()
    if token and FormToken.objects.filter(token=token, user=user, scope=scope, used_at__isnull=True,
                                          created_at__gte=at - FORM_TOKEN_TTL).update(used_at=at):
        return
    row = FormToken.objects.filter(token=token, user=user, scope=scope).first() if token else None
    if row is None:
        raise FormTokenInvalid
    if row.used_at is not None:
        raise FormAlreadyUsed
    raise FormExpired


@contextmanager
def once(*, token: str, user, scope: str) -> Iterator[None]:
    """``with once(...): run the action`` — one transaction that spends the token and runs the
    action; an exception from the action rolls both back (the token stays usable)."""
    with transaction.atomic():
        spend(token=token, user=user, scope=scope)
        yield


def purge() -> int:
    """Delete tokens older than ``FORM_TOKEN_TTL`` (spent or not): by then a submit of them is
    refused as expired or unknown either way."""
    deleted, _rows = FormToken.objects.filter(created_at__lt=now() - FORM_TOKEN_TTL).delete()
    return deleted
