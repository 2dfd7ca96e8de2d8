"""The console's own writes: the activity log (also Django admin's LogEntry, so the admin's
「最近行った操作」 shows console work too) and internal notes."""

from __future__ import annotations

from django.contrib.admin.models import CHANGE, LogEntry
from django.contrib.contenttypes.models import ContentType
from django.db import models, transaction

from backoffice.errors import InvalidInput
from backoffice.timeutil import now
from staff.models import Activity, Note, TargetKind

NOTE_MAX = 2000


def target_kind_of(obj) -> str:
    """The record's kind; a page's own object that is no model (finance's settlement book) is "other"."""
    name = obj._meta.model_name if isinstance(obj, models.Model) else ""
    return name if name in TargetKind.values else TargetKind.OTHER


def record_activity(*, user, action: str, obj: models.Model | None, label: str, url: str = "",
                    summary: str = "") -> Activity:
    """Log one console action; called inside the action's transaction (it is rolled back with it)."""
    at = now()
    entry = Activity.objects.create(
        at=at, user=user if getattr(user, "pk", None) else None, username=user.get_username()[:150],
        action=action[:40], target_kind=target_kind_of(obj),
        target_id=obj.pk if isinstance(obj, models.Model) else None,
        target_label=str(label)[:300], target_url=url[:300], summary=str(summary)[:1000],
    )
    if isinstance(obj, models.Model) and getattr(user, "pk", None):
        LogEntry.objects.create(
            user_id=user.pk, content_type=ContentType.objects.get_for_model(obj, for_concrete_model=False),
            object_id=str(obj.pk), object_repr=str(label)[:200], action_flag=CHANGE,
            change_message=f"[staff] {action}: {summary}"[:1000],
        )
    return entry


def add_note(*, obj: models.Model, body: str, user) -> Note:
    """An internal note on a record (order, customer, report, call-back)."""
    text = (body or "").strip()
    if not text:
        raise InvalidInput("メモを入力してください。", code="required", field="body")
    if len(text) > NOTE_MAX:
        raise InvalidInput("メモは%(n)s文字以内で入力してください。", params={"n": NOTE_MAX}, code="too_long", field="body")
    with transaction.atomic():
        return Note.objects.create(target_kind=target_kind_of(obj), target_id=obj.pk, body=text, author=user,
                                   author_name=user.get_username()[:150], created_at=now())


def notes_for(obj: models.Model, limit: int = 50) -> list[Note]:
    return list(Note.objects.filter(target_kind=target_kind_of(obj), target_id=obj.pk)
                .order_by("-created_at", "-id")[:limit])
