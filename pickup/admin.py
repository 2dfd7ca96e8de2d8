"""Django admin for pickup/: stores, parcels (attempts and tickets inline), attempts, no-shows.
Actions call the services; nothing here writes on its own."""

from __future__ import annotations

from django.contrib import admin, messages

from backoffice import actors
from backoffice.actors import Actor
from backoffice.admin_tools import ReadOnlyInline
from backoffice.errors import DomainError
from pickup.models import Pickup, PickupAttempt, PickupNoShow, PickupTicket, Store
from pickup.services import parcels, terminal, throttle


def _staff(request) -> Actor:
    return actors.of_request(request)


def _run(modeladmin, request, queryset, action, done_message: str) -> None:
    done = 0
    for obj in queryset:
        try:
            action(obj, actor=_staff(request))
            done += 1
        except DomainError as exc:
            modeladmin.message_user(request, f"{obj}: {exc.message}", messages.WARNING)
    if done:
        modeladmin.message_user(request, done_message.format(n=done), messages.SUCCESS)


@admin.register(Store)
class StoreAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "chain", "prefecture", "active", "throttled_until", "updated_at")
    list_filter = ("chain", "active", "prefecture")
    search_fields = ("code", "name", "address")
    actions = ["lift_throttle"]

    @admin.action(description="店舗の端末制限（429）を解除", permissions=["change"])
    def lift_throttle(self, request, queryset):
        for store in queryset:
            throttle.lift(store)
        self.message_user(request, "端末制限を解除しました。", messages.SUCCESS)


class AttemptInline(ReadOnlyInline):
    model = PickupAttempt
    fields = readonly_fields = ("at", "store", "outcome", "inquiry_number", "partner")
    ordering = ("-at", "-id")
    verbose_name_plural = "受取端末の操作履歴（店舗・日時・結果）"


class TicketInline(ReadOnlyInline):
    model = PickupTicket
    fields = readonly_fields = ("number", "store", "issued_at", "expires_at", "voided_at", "redeemed_at")
    verbose_name_plural = "申し込み券"


@admin.register(Pickup)
class PickupAdmin(admin.ModelAdmin):
    list_display = ("inquiry_number", "order", "store", "status", "locked", "consecutive_failures", "arrived_at",
                    "noticed_at", "deadline", "reminder_sent_at")
    list_filter = ("status", "locked", "store__chain")
    search_fields = ("inquiry_number", "order__number", "order__customer__email", "store__code")
    list_select_related = ("order", "store")
    date_hierarchy = "deadline"
    inlines = [TicketInline, AttemptInline]
    readonly_fields = [f.name for f in Pickup._meta.fields]
    actions = ["unlock", "resend_notice"]
    show_full_result_count = False

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.action(description="ロックを解除（連続失敗）", permissions=["change"])
    def unlock(self, request, queryset):
        _run(self, request, queryset, terminal.unlock, "{n}件のロックを解除しました。")

    @admin.action(description="受取可能のお知らせを再送", permissions=["change"])
    def resend_notice(self, request, queryset):
        _run(self, request, queryset, parcels.resend_notice, "{n}件のお知らせを再送しました。")


@admin.register(PickupAttempt)
class PickupAttemptAdmin(admin.ModelAdmin):
    list_display = ("at", "store", "outcome", "inquiry_number", "pickup", "partner")
    list_filter = ("outcome", "store__chain")
    search_fields = ("inquiry_number", "store__code", "pickup__order__number")
    list_select_related = ("store", "pickup")
    date_hierarchy = "at"
    readonly_fields = [f.name for f in PickupAttempt._meta.fields]
    show_full_result_count = False

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(PickupNoShow)
class PickupNoShowAdmin(admin.ModelAdmin):
    list_display = ("occurred_at", "customer", "order", "review_opened", "review_reference")
    list_filter = ("review_opened",)
    search_fields = ("customer__email", "customer__external_id", "order__number")
    list_select_related = ("customer", "order")
    readonly_fields = [f.name for f in PickupNoShow._meta.fields]

    def has_add_permission(self, request):
        return False
