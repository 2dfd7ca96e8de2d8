"""Periodic jobs of staff/."""

from __future__ import annotations

from backoffice import formtokens
from backoffice.jobs import register


@register("purge_form_tokens", every_seconds=3600, description="期限切れのフォームトークンの削除")
def purge_form_tokens() -> dict:
    """Delete the staff forms' one-time tokens older than ``FORM_TOKEN_TTL``: a submit of one is
    refused by then either way, so the table holds one shift of forms."""
    return {"deleted": formtokens.purge()}
