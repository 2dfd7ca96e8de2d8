"""Django admin for konbini payment: payment requests, codes and receipts, searchable by
payment number (full-width digits and hyphens accepted). Actions call the services."""

from __future__ import annotations

import unicodedata

from django.contrib import admin, messages
from django.db.models import Q

from backoffice import actors
from backoffice.admin_tools import ReadOnlyAdmin, ReadOnlyInline
from backoffice.timeutil import local, now
from payments.konbini import codes, confirmations
from payments.konbini.chains import CHAINS
from payments.konbini.expiry import expire_overdue_payments
from payments.konbini.maintenance import next_maintenance_window
from payments.konbini.models import KonbiniPaymentRequest, PaymentCode, PaymentReceipt
from shop.services.orders import ORDER_NUMBER_DIGITS, hyphenate_order_number

PAYMENT_NUMBER_LENGTHS = frozenset(chain.digits for chain in CHAINS.values())


def _digits(term: str) -> str:
    return "".join(ch for ch in unicodedata.normalize("NFKC", term) if ch.isdigit())


class PaymentCodeInline(ReadOnlyInline):
    model = PaymentCode
    fields = readonly_fields = ("chain", "number", "check_code", "status", "created_at", "voided_at")
    verbose_name_plural = "お支払い番号"


class PaymentReceiptInline(ReadOnlyInline):
    model = PaymentReceipt
    fk_name = "payment"
    fields = readonly_fields = ("chain", "receipt_number", "store_code", "amount", "paid_at", "late", "recorded_at")
    verbose_name_plural = "入金記録"


@admin.register(KonbiniPaymentRequest)
class KonbiniPaymentRequestAdmin(ReadOnlyAdmin):
    list_display = ("order", "amount", "status", "deadline", "payable_until", "live_code", "created_at")
    list_filter = ("status",)
    search_fields = ("order__number", "konbini_codes__number")
    list_select_related = ("order",)
    date_hierarchy = "deadline"
    inlines = [PaymentCodeInline, PaymentReceiptInline]
    readonly_fields = ("order", "method", "amount", "status", "captured_amount", "deadline", "paid_at", "created_at")
    fields = readonly_fields
    actions = ["expire_now"]
    show_full_result_count = False

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("konbini_codes")

    def get_search_results(self, request, queryset, search_term):
        number = _digits(search_term)
        if len(number) in PAYMENT_NUMBER_LENGTHS:  # a payment number, typed any way
            return queryset.filter(konbini_codes__number=number).distinct(), True
        if len(number) == ORDER_NUMBER_DIGITS:
            return queryset.filter(order__number=hyphenate_order_number(number)), False
        return super().get_search_results(request, queryset, search_term)

    @admin.display(description="支払い受付期限（猶予込み）")
    def payable_until(self, obj):
        return local(confirmations.payable_until(obj)) if obj.deadline else "-"

    @admin.display(description="お支払い番号")
    def live_code(self, obj):
        shown = [c for c in obj.konbini_codes.all() if c.status != PaymentCode.Status.VOID]
        return " / ".join(f"{c.get_chain_display()} {c.number}" for c in shown) or "-"

    def changelist_view(self, request, extra_context=None):
        window = next_maintenance_window(now())
        extra_context = {**(extra_context or {}),
                         "title": f"コンビニ支払い請求（次回のお支払い方法ページのメンテナンス: {window.label}）"}
        return super().changelist_view(request, extra_context)

    @admin.action(description="期限（＋猶予）を過ぎた選択中の注文を今すぐキャンセル", permissions=["operate"])
    def expire_now(self, request, queryset):
        result = expire_overdue_payments(order_ids=queryset.values_list("order_id", flat=True))
        self.message_user(request, f"{result['expired']}件の注文を支払い期限切れでキャンセルしました。",
                          messages.SUCCESS if result["expired"] else messages.INFO)


@admin.register(PaymentCode)
class PaymentCodeAdmin(ReadOnlyAdmin):
    list_display = ("number", "chain", "check_code", "status", "order_number", "deadline", "created_at", "voided_at")
    list_filter = ("chain", "status")
    search_fields = ("number", "payment__order__number")
    list_select_related = ("payment__order",)
    readonly_fields = ("payment", "chain", "number", "check_code", "status", "created_at", "voided_at")
    actions = ["void_codes"]
    show_full_result_count = False

    def get_search_results(self, request, queryset, search_term):
        number = _digits(search_term)
        if len(number) in PAYMENT_NUMBER_LENGTHS:
            return queryset.filter(number=number), False
        if len(number) == ORDER_NUMBER_DIGITS:
            return queryset.filter(payment__order__number=hyphenate_order_number(number)), False
        return super().get_search_results(request, queryset, search_term)

    @admin.display(description="注文番号", ordering="payment__order__number")
    def order_number(self, obj):
        return obj.payment.order.number

    @admin.display(description="支払期限")
    def deadline(self, obj):
        return local(obj.payment.deadline) if obj.payment.deadline else "-"

    @admin.action(description="選択した有効なお支払い番号を無効化", permissions=["operate"])
    def void_codes(self, request, queryset):
        done = sum(codes.void(pk, actor=actors.of_request(request))
                   for pk in queryset.filter(status=PaymentCode.Status.LIVE).values_list("pk", flat=True))
        self.message_user(request, f"{done}件のお支払い番号を無効化しました。", messages.SUCCESS)


@admin.register(PaymentReceipt)
class PaymentReceiptAdmin(ReadOnlyAdmin):
    list_display = ("recorded_at", "chain", "receipt_number", "store_code", "amount", "paid_at", "late", "order_number")
    list_filter = ("chain", "late")
    search_fields = ("receipt_number", "code__number", "payment__order__number", "store_code")
    list_select_related = ("payment__order", "code")
    readonly_fields = [f.name for f in PaymentReceipt._meta.fields]

    def get_search_results(self, request, queryset, search_term):
        number = _digits(search_term)
        if len(number) in PAYMENT_NUMBER_LENGTHS:
            return queryset.filter(Q(code__number=number) | Q(receipt_number=search_term.strip())), False
        return super().get_search_results(request, queryset, search_term)

    @admin.display(description="注文番号")
    def order_number(self, obj):
        return obj.payment.order.number
