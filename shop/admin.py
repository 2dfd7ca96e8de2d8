"""Django admin for shop/: raw records, search and bulk actions that call the services."""

from __future__ import annotations

from urllib.parse import urlencode

from django.contrib import admin, messages
from django.db.models import Q
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone

from backoffice.admin_tools import ReadOnlyAdmin, ReadOnlyInline
from backoffice.errors import DomainError
from backoffice.normalize import SEPARATORS, nfkc, phone_e164
from shop.models import (
    CallbackRequest,
    Customer,
    CustomerClosure,
    Listing,
    Message,
    Order,
    OrderEvent,
    OrderLine,
    Seller,
    Shipment,
    ShipmentEvent,
)
from shop.services import customers, orders
from staff.views import bulk


def number_search_terms(term: str) -> list[str]:
    """What a person typed → the forms we store: NFKC (full-width digits), for a 17-digit order
    number typed without hyphens the hyphenated form, and for a phone number its +81 form
    (``backoffice.normalize.phone_e164``, the rule the API stores phones with)."""
    text = nfkc(term)
    compact = SEPARATORS.sub("", text)
    forms = {text}
    if compact.isdigit() and len(compact) == orders.ORDER_NUMBER_DIGITS:
        forms.add(orders.hyphenate_order_number(compact))
    try:
        forms.add(phone_e164(compact))
    except DomainError:
        pass  # not a phone number
    return sorted(forms)


class OrderEventInline(ReadOnlyInline):
    model = OrderEvent
    fields = readonly_fields = ("at", "kind", "from_status", "to_status", "actor", "note")
    verbose_name_plural = "タイムライン"


class OrderLineInline(ReadOnlyInline):
    model = OrderLine
    fields = readonly_fields = ("sku", "title", "quantity", "unit_price")


@admin.register(Order)
class OrderAdmin(admin.ModelAdmin):
    list_display = ("number", "status", "cancellation_reason", "total", "payment_method", "customer", "placed_at",
                    "risk_score")
    list_filter = ("status", "payment_method", "shipping_speed", "destination_type", "cancellation_reason")
    search_fields = ("number", "customer__email", "customer__phone", "customer__external_id",
                     "shipment__tracking_number", "recipient_phone")
    list_select_related = ("customer",)
    date_hierarchy = "placed_at"
    inlines = [OrderLineInline, OrderEventInline]
    actions = ["cancel_by_support"]
    show_full_result_count = False
    readonly_fields = [f.name for f in Order._meta.fields] + ["konbini_payment", "risk_and_logins"]

    def has_add_permission(self, request):
        return False

    @admin.display(description="コンビニ支払い（チェーン・お支払い番号・期限）")
    def konbini_payment(self, obj):
        from payments.konbini.chains import CHAINS
        from shop.selectors import konbini_code_of

        payment = getattr(obj, "payment", None)
        if payment is None or obj.payment_method != "konbini":
            return "-"
        code = konbini_code_of(obj)
        deadline = f"期限 {timezone.localtime(payment.deadline):%Y-%m-%d %H:%M:%S}" if payment.deadline else ""
        if code is None:
            return f"お支払い番号未発行 {deadline}"
        check = f" 確認番号 {code['check_code']}" if code["check_code"] else ""
        return f"{CHAINS[code['chain']].name} {code['payment_number']}{check} {deadline}"

    @admin.display(description="リスク判定と注文前72時間のログイン履歴")
    def risk_and_logins(self, obj):
        from fraud.admin import order_risk_panel

        return order_risk_panel(obj)

    def get_search_results(self, request, queryset, search_term):
        if not search_term:
            return super().get_search_results(request, queryset, search_term)
        q = Q()
        for form in number_search_terms(search_term):
            q |= (Q(number=form) | Q(shipment__tracking_number=form) | Q(customer__email__iexact=form)
                  | Q(customer__phone=form) | Q(customer__external_id=form) | Q(recipient_phone=form))
        return queryset.filter(q), False

    @admin.action(description="選択した注文をキャンセル（確認画面へ）", permissions=["change"])
    def cancel_by_support(self, request, queryset):
        """The console's confirm page shows what the cancellation core will do to each selected
        order and asks for the reason; nothing is cancelled from the list itself."""
        ids = ",".join(str(pk) for pk in queryset.order_by("pk").values_list("pk", flat=True)[:bulk.MAX_ORDERS])
        return redirect(f"{reverse('staff:bulk_cancel')}?{urlencode({'ids': ids})}")


class ShipmentEventInline(ReadOnlyInline):
    model = ShipmentEvent
    fields = readonly_fields = ("type", "occurred_at", "location", "store_code")


@admin.register(Shipment)
class ShipmentAdmin(admin.ModelAdmin):
    list_display = ("tracking_number", "carrier", "order", "created_at")
    list_filter = ("carrier",)
    search_fields = ("tracking_number", "order__number")
    list_select_related = ("order",)
    inlines = [ShipmentEventInline]
    readonly_fields = ("order", "carrier", "tracking_number", "created_at")


@admin.register(Customer)
class CustomerAdmin(admin.ModelAdmin):
    list_display = ("external_id", "name", "email", "phone", "prime", "suspended", "closed_at", "created_at")
    list_filter = ("suspended", "prime")
    search_fields = ("external_id", "name", "email", "phone")

    def get_search_results(self, request, queryset, search_term):
        found, dup = super().get_search_results(request, queryset, search_term)
        extra = [f for f in number_search_terms(search_term) if f.startswith("+81")]
        if extra:
            # ``queryset`` carries the list's filters: the phone form widens the search, not the filters.
            found = found | queryset.filter(phone__in=extra)
        return found, dup


@admin.register(CustomerClosure)
class CustomerClosureAdmin(ReadOnlyAdmin):
    """The closures and the erasure log: when, what was forfeited, when and how much was erased."""

    list_display = ("customer", "closed_at", "actor", "forfeited_gift_card", "forfeited_points", "erased_at",
                    "books_retained_until")
    search_fields = ("customer__external_id",)
    list_select_related = ("customer",)
    readonly_fields = ("customer", "closed_at", "actor", "forfeited_gift_card", "forfeited_points", "erased_at",
                       "erased_rows", "books_retained_until")


@admin.register(Seller)
class SellerAdmin(admin.ModelAdmin):
    list_display = ("name", "accept_cod_self_fulfilled", "accept_konbini_self_fulfilled", "created_at")
    search_fields = ("name",)


@admin.register(Listing)
class ListingAdmin(admin.ModelAdmin):
    list_display = ("sku", "title", "seller", "price", "tax_rate", "stock", "fulfilled_by", "digital")
    list_filter = ("fulfilled_by", "digital", "tax_rate")
    search_fields = ("sku", "title")
    list_select_related = ("seller",)


@admin.register(Message)
class MessageAdmin(admin.ModelAdmin):
    list_display = ("created_at", "kind", "customer", "order", "subject", "emailed_at", "send_attempts", "last_error")
    list_filter = ("kind", ("emailed_at", admin.EmptyFieldListFilter))
    search_fields = ("customer__email", "order__number", "subject")
    list_select_related = ("customer", "order")
    readonly_fields = ("customer", "order", "kind", "subject", "body", "dedupe_key", "created_at", "emailed_at",
                       "bulk", "send_attempts", "next_attempt_at", "last_error")


@admin.register(CallbackRequest)
class CallbackRequestAdmin(admin.ModelAdmin):
    list_display = ("created_at", "customer", "phone", "topic", "order", "status", "handled_by")
    list_filter = ("status",)
    search_fields = ("phone", "customer__email", "order__number")
    list_select_related = ("customer", "order")
    ordering = ("created_at",)
    actions = ["mark_done"]

    @admin.action(description="対応済みにする", permissions=["change"])
    def mark_done(self, request, queryset):
        for cb in queryset:
            customers.complete_callback(request_id=cb.pk, staff=request.user.username)
        self.message_user(request, "対応済みにしました。", messages.SUCCESS)
