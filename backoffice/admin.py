from django.contrib import admin

from backoffice.models import IdempotencyRecord, Partner

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
