"""Django admin for payments/: refunds (and the failed-refunds queue), transfer batches, the
gift-card ledger per customer and refund bank accounts. Actions call the services."""

from __future__ import annotations

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.shortcuts import redirect
from django.urls import path

from backoffice import actors, formtokens
from backoffice.actors import Actor
from backoffice.admin_tools import ReadOnlyAdmin, ReadOnlyInline, run_each
from payments.models import (
    BankAccount,
    FailedRefund,
    GiftCardAccount,
    GiftCardEntry,
    Payment,
    PointsAccount,
    PointsEntry,
    Refund,
    Return,
    ReturnLine,
    TransferBatch,
    TransferItem,
)
from payments.selectors import with_refund_totals
from payments.services import bank, refunds


def _staff(request) -> Actor:
    return actors.of_request(request)


@admin.register(Payment)
class PaymentAdmin(ReadOnlyAdmin):
    """「返金済み」 is succeeded refunds only; in-progress and failed ones are shown apart
    (``payments.selectors``). ``refunded_amount`` is what refunds hold, whatever their state."""

    list_display = ("order", "method", "status", "amount", "captured_amount", "refund_succeeded",
                    "refund_in_progress", "refund_failed", "refunded_amount", "deadline", "paid_at")
    list_filter = ("method", "status")
    search_fields = ("order__number", "gateway_reference")
    list_select_related = ("order",)

    def get_queryset(self, request):
        return with_refund_totals(super().get_queryset(request))

    @admin.display(description="返金済み（円）", ordering="refund_succeeded")
    def refund_succeeded(self, obj: Payment) -> int:
        return obj.refund_succeeded

    @admin.display(description="返金処理中（円）", ordering="refund_in_progress")
    def refund_in_progress(self, obj: Payment) -> int:
        return obj.refund_in_progress

    @admin.display(description="返金失敗（円）", ordering="refund_failed")
    def refund_failed(self, obj: Payment) -> int:
        return obj.refund_failed


class RefundAdminBase(ReadOnlyAdmin):
    list_display = ("__str__", "order", "amount", "method", "status", "attempts", "last_error_code", "last_error",
                    "reason", "created_at", "completed_at")
    list_filter = ("status", "method", "reason")
    search_fields = ("order__number", "order__customer__external_id", "order__customer__email", "gateway_reference")
    list_select_related = ("order",)
    date_hierarchy = "created_at"
    readonly_fields = ("order", "payment", "amount", "method", "status", "reason", "cause", "attempts",
                       "last_error_code", "last_error", "gateway_reference", "created_at", "updated_at", "completed_at")
    actions = ("retry_refunds", "reissue_to_gift_card")

    @admin.action(description="失敗した返金を再試行する", permissions=["operate"])
    def retry_refunds(self, request, queryset):
        run_each(self, request, queryset, lambda r: refunds.retry(refund_id=r.pk, actor=_staff(request)),
                  "の返金を再試行に回しました。")

    @admin.action(description="失敗した返金をギフト券残高で返金し直す", permissions=["operate"])
    def reissue_to_gift_card(self, request, queryset):
        run_each(self, request, queryset,
                  lambda r: refunds.retry(refund_id=r.pk, actor=_staff(request), to_gift_card=True),
                  "の返金をギフト券残高での返金に切り替えました。")


@admin.register(Refund)
class RefundAdmin(RefundAdminBase):
    pass


@admin.register(FailedRefund)
class FailedRefundAdmin(RefundAdminBase):
    """The failed-refunds queue: oldest first."""

    list_filter = ("method", "reason")

    def get_queryset(self, request):
        return refunds.failed_queue(super().get_queryset(request))


class ReturnLineInline(ReadOnlyInline):
    model = ReturnLine
    fields = readonly_fields = ("order_line", "quantity")


@admin.register(Return)
class ReturnAdmin(ReadOnlyAdmin):
    list_display = ("id", "order", "reference", "amount", "refund", "actor", "created_at")
    search_fields = ("order__number", "reference")
    list_select_related = ("order", "refund")
    inlines = [ReturnLineInline]


class TransferItemInline(ReadOnlyInline):
    model = TransferItem
    fields = readonly_fields = ("refund", "amount", "bank_code", "branch_code", "account_type", "account_number",
                                "holder_kana")


@admin.register(TransferBatch)
class TransferBatchAdmin(ReadOnlyAdmin):
    list_display = ("__str__", "status", "transfer_date", "count", "total", "created_at", "downloaded_at",
                    "downloaded_by", "transferred_at", "transferred_by")
    list_filter = ("status",)
    readonly_fields = ("status", "transfer_date", "count", "total", "sha256", "created_at", "downloaded_at",
                       "downloaded_by", "transferred_at", "transferred_by")
    exclude = ("content",)
    inlines = [TransferItemInline]
    actions = ("download_file", "mark_transferred", "discard_batches")
    change_list_template = "admin/payments/transferbatch/change_list.html"

    def get_queryset(self, request):
        # The file itself can be large: only download_file reads it (through bank.download).
        return super().get_queryset(request).defer("content")

    def get_urls(self):
        return [path("create-now/", self.admin_site.admin_view(self.create_now_view),
                     name="payments_transferbatch_create_now"), *super().get_urls()]

    CREATE_NOW_SCOPE = "admin:payments.transferbatch:create_now"

    def changelist_view(self, request, extra_context=None):
        can_create = self.has_operate_permission(request)
        extra = {"can_create_batch": can_create, **(extra_context or {})}
        if can_create:  # the button's one-time token: pressed twice, it creates one batch
            extra["create_now_token"] = formtokens.issue(user=request.user, scope=self.CREATE_NOW_SCOPE)
        return super().changelist_view(request, extra_context=extra)

    def create_now_view(self, request):
        """Finance: batch the waiting bank-transfer refunds now instead of at the daily run."""
        if request.method != "POST" or not self.has_operate_permission(request):
            raise PermissionDenied
        try:
            with formtokens.once(token=request.POST.get(formtokens.FIELD, ""), user=request.user,
                                 scope=self.CREATE_NOW_SCOPE):
                batch = bank.create_batch(actor=_staff(request))
        except formtokens.FormTokenRefused as exc:
            self.message_user(request, f"{exc.message}（{exc.code}）", messages.WARNING)
            return redirect("admin:payments_transferbatch_changelist")
        if batch is None:
            self.message_user(request, "振込待ちの返金はありません。", messages.INFO)
        else:
            self.message_user(request, f"{batch}を作成しました（{batch.count}件、{batch.total:,}円）。", messages.SUCCESS)
        return redirect("admin:payments_transferbatch_changelist")

    @admin.action(description="振込ファイル（全銀）をダウンロードする", permissions=["operate"])
    def download_file(self, request, queryset):
        pks = list(queryset.values_list("pk", flat=True)[:2])
        if len(pks) != 1:
            self.message_user(request, "ダウンロードするバッチを1件だけ選んでください。", messages.ERROR)
            return None
        filename, content = bank.download(batch_id=pks[0], actor=_staff(request))  # the one read of the file
        response = HttpResponse(content, content_type="text/plain; charset=Shift_JIS")
        response["Content-Disposition"] = f'attachment; filename="{filename}"'
        return response

    @admin.action(description="ダウンロード前のバッチを取り消す（返金は振込待ちに戻る）", permissions=["operate"])
    def discard_batches(self, request, queryset):
        run_each(self, request, list(queryset), lambda b: bank.discard(batch_id=b.pk, actor=_staff(request)),
                  "のバッチを取り消しました。")

    @admin.action(description="振込完了にする（返金を完了させる）", permissions=["operate"])
    def mark_transferred(self, request, queryset):
        run_each(self, request, queryset, lambda b: bank.mark_transferred(batch_id=b.pk, actor=_staff(request)),
                  "のバッチを振込完了にしました。")


class GiftCardEntryInline(ReadOnlyInline):
    model = GiftCardEntry
    fields = readonly_fields = ("created_at", "kind", "amount", "reference", "order")
    ordering = ("-created_at", "-id")
    verbose_name_plural = "利用履歴（台帳）"


@admin.register(GiftCardAccount)
class GiftCardAccountAdmin(ReadOnlyAdmin):
    """The gift-card ledger per customer (seed 004: usage history, refunds included)."""

    list_display = ("customer", "balance", "frozen", "frozen_reason")
    list_filter = ("frozen",)
    search_fields = ("customer__external_id", "customer__email", "customer__name")
    list_select_related = ("customer",)
    readonly_fields = ("customer", "balance", "frozen", "frozen_reason")
    inlines = [GiftCardEntryInline]


@admin.register(GiftCardEntry)
class GiftCardEntryAdmin(ReadOnlyAdmin):
    list_display = ("created_at", "account", "kind", "amount", "reference", "order")
    list_filter = ("kind",)
    search_fields = ("account__customer__external_id", "account__customer__email", "reference", "order__number")
    list_select_related = ("account__customer", "order")


class PointsEntryInline(ReadOnlyInline):
    model = PointsEntry
    fields = readonly_fields = ("created_at", "kind", "points", "reference", "note", "actor")
    ordering = ("-created_at", "-id")
    verbose_name_plural = "ポイント履歴（台帳）"


@admin.register(PointsAccount)
class PointsAccountAdmin(ReadOnlyAdmin):
    """The points ledger per customer (seed 003: a gift-card charge earns points)."""

    list_display = ("customer", "balance")
    search_fields = ("customer__external_id", "customer__email", "customer__name")
    list_select_related = ("customer",)
    readonly_fields = ("customer", "balance")
    inlines = [PointsEntryInline]


@admin.register(BankAccount)
class BankAccountAdmin(ReadOnlyAdmin):
    list_display = ("customer", "bank_code", "bank_name", "branch_code", "branch_name", "account_type",
                    "account_number", "holder_kana", "use_for_refunds", "updated_at")
    list_filter = ("use_for_refunds", "account_type")
    search_fields = ("customer__external_id", "customer__email", "holder_kana", "account_number")
    list_select_related = ("customer",)
