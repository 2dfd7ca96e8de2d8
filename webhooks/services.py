"""Writes on endpoints and deliveries: register, delete, rotate the secret, ping, redeliver,
re-enable. The partner API and the staff console call these."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction

from backoffice import outbox
from backoffice.errors import Conflict, InvalidInput
from backoffice.models import Partner
from backoffice.timeutil import now
from webhooks import payloads, targets, types
from webhooks.delivery import DELIVER_TASK
from webhooks.fanout import new_delivery
from webhooks.models import Delivery, Endpoint, Event, new_secret

MAX_ENDPOINTS_PER_PARTNER = 10
# A rotated secret keeps signing this long by default (both signatures are sent meanwhile).
ROTATION_GRACE = timedelta(hours=24)
ROTATION_GRACE_MAX = timedelta(days=7)
S = Delivery.Status


def check_event_types(partner: Partner, event_types: list) -> list[str]:
    allowed = types.SUBSCRIBABLE.get(partner.kind, frozenset())
    if not isinstance(event_types, list) or not event_types:
        raise InvalidInput("イベント種別を1つ以上指定してください。", code="invalid_event_type", field="events")
    for value in event_types:
        if not isinstance(value, str) or value not in Event.Type.values or value == Event.Type.PING:
            raise InvalidInput("イベント種別「%(type)s」はありません。", params={"type": str(value)[:40]},
                               code="invalid_event_type",
                               field="events")
        if value not in allowed:
            raise InvalidInput("イベント種別「%(type)s」はこのパートナーでは購読できません。", params={"type": value},
                               code="invalid_event_type",
                               field="events")
    return list(dict.fromkeys(event_types))


def check_url(url: str) -> str:
    try:
        targets.parse(url)
    except targets.TargetRefused as exc:
        raise InvalidInput(str(exc), code="invalid_url", field="url") from exc
    return url


def create(*, partner: Partner, url: str, event_types: list, contact_email: str = "") -> Endpoint:
    """A new endpoint with a new secret (the caller shows it once)."""
    url = check_url(url)
    event_types = check_event_types(partner, event_types)
    with transaction.atomic():
        Partner.objects.select_for_update().filter(pk=partner.pk).first()  # one count at a time per partner
        if Endpoint.objects.filter(partner=partner, deleted_at__isnull=True).count() >= MAX_ENDPOINTS_PER_PARTNER:
            raise Conflict("エンドポイントは%(n)s件まで登録できます。", params={"n": MAX_ENDPOINTS_PER_PARTNER},
                           code="too_many_endpoints")
        return Endpoint.objects.create(partner=partner, url=url, event_types=Endpoint.event_types_of(event_types),
                                       contact_email=contact_email or "", secret=new_secret(), created_at=now())


def delete(endpoint: Endpoint) -> Endpoint:
    """Stop sending (its log stays for staff); its pending deliveries fail when next due."""
    at = now()
    Endpoint.objects.filter(pk=endpoint.pk, deleted_at__isnull=True).update(deleted_at=at, active=False)
    endpoint.deleted_at, endpoint.active = at, False
    return endpoint


def rotate_secret(endpoint: Endpoint, *, grace: timedelta = ROTATION_GRACE) -> Endpoint:
    """A new secret; the old one keeps signing (a second ``v1``) for ``grace``."""
    if grace < timedelta(0) or grace > ROTATION_GRACE_MAX:
        raise InvalidInput("猶予期間は0〜168時間で指定してください。", code="invalid_grace_period",
                           field="grace_period_hours")
    with transaction.atomic():
        endpoint = Endpoint.objects.select_for_update().get(pk=endpoint.pk)
        endpoint.previous_secret, endpoint.previous_secret_until = endpoint.secret, now() + grace
        endpoint.secret = new_secret()
        endpoint.save(update_fields=["secret", "previous_secret", "previous_secret_until"])
    return endpoint


def send_ping(endpoint: Endpoint) -> Delivery:
    """``POST /webhook-endpoints/{id}/test``: a ``ping`` event for this endpoint alone."""
    at = now()
    with transaction.atomic():
        event = Event.objects.create(type=Event.Type.PING, endpoint=endpoint, created_at=at, fanned_out_at=at)
        delivery = new_delivery(event, endpoint, payloads.ping_body(event), at)
        delivery.save(force_insert=True)
        outbox.enqueue(DELIVER_TASK, delivery.pk)
    return delivery


def redeliver(deliveries) -> int:
    """Send these deliveries again now (delivered or failed alike; the same event id and body),
    with a new 72-hour window. One that is pending is simply made due now."""
    at = now()
    with transaction.atomic():
        ids = list(deliveries.select_for_update().values_list("pk", flat=True))
        if not ids:
            return 0
        if Delivery.objects.filter(pk__in=ids, endpoint__active=False).exists():
            raise Conflict("停止中のエンドポイントには再送できません。", code="endpoint_disabled")
        Delivery.objects.filter(pk__in=ids).update(status=S.PENDING, next_attempt_at=at, window_started_at=at)
        outbox.enqueue_many(DELIVER_TASK, ([pk] for pk in ids))
    return len(ids)


def reenable(endpoint: Endpoint) -> int:
    """Staff: turn a disabled endpoint back on, its breaker closed; the deliveries parked while it
    was off go out again. Returns how many."""
    at = now()
    with transaction.atomic():
        if not Endpoint.objects.filter(pk=endpoint.pk, active=False, deleted_at__isnull=True).update(
                active=True, disabled_at=None, disabled_reason="", failures_in_a_row=0, failing_since=None,
                paused_until=None):
            raise Conflict("このエンドポイントは停止していません。", code="endpoint_not_disabled")
        parked = Delivery.objects.filter(endpoint=endpoint, status=S.PENDING, next_attempt_at__isnull=True)
        ids = list(parked.values_list("pk", flat=True))
        Delivery.objects.filter(pk__in=ids).update(next_attempt_at=at, window_started_at=at)
        outbox.enqueue_many(DELIVER_TASK, ([pk] for pk in ids))
    return len(ids)


def requeue_stranded(*, older_than: timedelta = timedelta(minutes=10), limit: int = 1000) -> int:
    """Safety net (a job): pending deliveries long past due whose task was lost get a new one."""
    at = now()
    with transaction.atomic():
        ids = list(Delivery.objects.select_for_update(skip_locked=True).filter(
            status=S.PENDING, next_attempt_at__lt=at - older_than).order_by("next_attempt_at")
            .values_list("pk", flat=True)[:limit])
        Delivery.objects.filter(pk__in=ids).update(next_attempt_at=at)
        outbox.enqueue_many(DELIVER_TASK, ([pk] for pk in ids))
    return len(ids)


def notify_disabled(endpoint_id: int) -> bool:
    """E-mail the endpoint's contact that it was disabled (a task: after the commit)."""
    endpoint = Endpoint.objects.select_related("partner").filter(pk=endpoint_id).first()
    if endpoint is None or not endpoint.contact_email or endpoint.active:
        return False
    send_mail(
        subject="【コンビニバックオフィス】Webhookエンドポイントを停止しました",
        message=(f"{endpoint.partner.name} 様\n\nWebhookエンドポイント {endpoint.url} への配信が3日間失敗し続けたため、"
                 "配信を停止しました。受信側を復旧のうえ、サポートに再開をご依頼ください。"
                 "停止中のイベントは再開後にまとめて送信されます。\n"),
        from_email=settings.DEFAULT_FROM_EMAIL, recipient_list=[endpoint.contact_email])
    return True
