from django.contrib import admin

from backoffice.admin_tools import ReadOnlyAdmin
from backoffice.models import IdempotencyRecord, OutboxTask, Partner, WorkerHeartbeat

admin.site.site_header = "コンビニ・バックオフィス 管理画面"
admin.site.site_title = "Konbini Back-Office"
admin.site.index_title = "データ管理"


@admin.register(Partner)
class PartnerAdmin(admin.ModelAdmin):
    list_display = ("name", "kind", "chain", "seller", "key_prefix", "active", "created_at")
    list_filter = ("kind", "chain", "active")
    search_fields = ("name", "key_prefix")
    readonly_fields = ("key_prefix", "created_at")
    exclude = ("key_digest",)

    def has_add_permission(self, request):
        return False  # keys are issued by `manage.py create_partner`, shown once


@admin.register(IdempotencyRecord)
class IdempotencyRecordAdmin(admin.ModelAdmin):
    list_display = ("created_at", "partner", "endpoint", "key", "status_code")
    list_filter = ("endpoint",)
    search_fields = ("key",)
    readonly_fields = ("partner", "endpoint", "key", "fingerprint", "status_code", "body", "created_at")


@admin.register(OutboxTask)
class OutboxTaskAdmin(ReadOnlyAdmin):
    """The task outbox: what waits for the broker (with the last publish error) and what went out."""

    list_display = ("id", "task", "args", "available_at", "published_at", "attempts", "last_error")
    list_filter = (("published_at", admin.EmptyFieldListFilter), "task")
    search_fields = ("task", "last_error")
    readonly_fields = ("task", "args", "created_at", "available_at", "published_at", "claim", "claimed_until",
                       "attempts", "last_error")
    ordering = ("-id",)


@admin.register(WorkerHeartbeat)
class WorkerHeartbeatAdmin(ReadOnlyAdmin):
    """The Celery workers' heartbeats (``/healthz`` reports the newest as ``worker: ok|stale``)."""

    list_display = ("hostname", "pid", "started_at", "beat_at")
    readonly_fields = ("hostname", "pid", "started_at", "beat_at")
    ordering = ("-beat_at",)
