"""Django admin for fraud/: reports with their timeline and checklist, the review queue,
risk rules and weights, address reputation, login events, account actions.

Every button and action calls a service (fraud.services.*); nothing here writes a model
directly except the rule weights, which are plain data.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join

from backoffice.errors import DomainError
from backoffice.timeutil import local
from fraud.models import (
    AccountAction,
    AddressReputation,
    CustomerAccount,
    HeldOrder,
    LoginEvent,
    Report,
    ReportEvent,
    RiskRule,
)
from fraud.services import accounts, addresses, logins, playbook, reports, review
from shop.models import OrderStatus


class ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class ReportEventInline(ReadOnlyInline):
    model = ReportEvent
    fields = readonly_fields = ("at", "kind", "actor", "note", "order")
    verbose_name_plural = "対応履歴（タイムライン）"


def _run(modeladmin, request, label: str, func) -> bool:
    """Call one service; its DomainError becomes a message instead of a 500."""
    try:
        func()
    except DomainError as exc:
        modeladmin.message_user(request, f"{label}: {exc.message}", messages.ERROR)
        return False
    return True


def _reason_page(modeladmin, request, queryset, *, action: str, title: str, help_text: str):
    """An intermediate page asking for the reason of a bulk action (Django's delete pattern)."""
    return TemplateResponse(request, "admin/fraud/reason.html", {
        **modeladmin.admin_site.each_context(request), "title": title, "help_text": help_text,
        "objects": queryset, "action": action, "opts": modeladmin.model._meta,
        "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME,
    })


# --- reports --------------------------------------------------------------------------------

@admin.register(Report)
class ReportAdmin(admin.ModelAdmin):
    list_display = ("id", "type", "status", "priority", "customer", "seller", "assignee", "checklist_progress",
                    "created_at")
    list_filter = ("status", "type", "priority", "assignee")
    search_fields = ("=id", "customer__external_id", "customer__email", "customer__name", "orders__number",
                     "address_key", "seller__name")
    list_select_related = ("customer", "seller", "assignee")
    inlines = [ReportEventInline]
    actions = ["start_reports", "secure_accounts"]
    readonly_fields = ("type", "status", "priority", "assignee", "customer", "seller", "address_key", "filed_by",
                       "description", "created_at", "secured_at", "gift_card_frozen", "closed_at", "resolution",
                       "work_panel", "checklist_panel", "orders_panel", "login_events_panel", "linked_panel")
    fieldsets = (
        (None, {"fields": ("type", "status", "priority", "assignee", "customer", "seller", "address_key",
                           "filed_by", "description", "created_at")}),
        ("対応", {"fields": ("work_panel", "checklist_panel")}),
        ("対象の注文と注文前72時間のログイン履歴", {"fields": ("orders_panel", "login_events_panel", "linked_panel")}),
        ("結果", {"fields": ("secured_at", "gift_card_frozen", "closed_at", "resolution")}),
    )

    raw_id_fields = ("customer", "seller", "orders")
    add_fieldsets = ((None, {"fields": ("type", "customer", "seller", "orders", "description")}),)

    # Staff file a report here too (by phone, seed 004); filing goes through reports.open_report.
    def get_readonly_fields(self, request, obj=None):
        return () if obj is None else self.readonly_fields

    def get_fieldsets(self, request, obj=None):
        return self.add_fieldsets if obj is None else self.fieldsets

    def get_inlines(self, request, obj):
        return [] if obj is None else self.inlines

    def save_model(self, request, obj, form, change):
        if change:
            return  # everything on an existing report changes through the buttons (services)
        report = reports.open_report(
            type=form.cleaned_data["type"], customer=form.cleaned_data.get("customer"),
            seller=form.cleaned_data.get("seller"), orders=list(form.cleaned_data.get("orders") or []),
            description=form.cleaned_data.get("description", ""), actor=request.user,
        )
        obj.pk = report.pk

    def save_related(self, request, form, formsets, change):
        pass  # the orders were linked by open_report

    def has_delete_permission(self, request, obj=None):
        return False

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("checks")

    @admin.display(description="チェックリスト")
    def checklist_progress(self, obj: Report) -> str:
        total = len(reports.checklist(obj.type))
        return f"{len(obj.checks.all())}/{total}"

    # Buttons inside the change form post the whole form to a per-action URL (formaction).
    def _button(self, obj: Report, action: str, label: str, value: str = "") -> str:
        url = reverse("admin:fraud_report_do", args=[obj.pk, action])
        return format_html('<button type="submit" class="button" formaction="{}" name="value" value="{}" '
                           'style="margin:2px">{}</button>', url, value, label)

    @admin.display(description="操作")
    def work_panel(self, obj: Report) -> str:
        if not obj.pk or not obj.is_open:
            return "—（完了済み）"
        buttons = []
        if obj.status == "open":
            buttons.append(self._button(obj, "start", "対応開始（自分を担当者にする）"))
        if obj.type == "unauthorized_order" and obj.secured_at is None:
            buttons.append(self._button(obj, "secure", "アカウント保護を実行"))
        if obj.status == "in_progress":
            buttons.append(self._button(obj, "resolve", "解決済みにする"))
            buttons.append(self._button(obj, "dismiss", "対応不要として終了"))
        buttons.append(self._button(obj, "note", "メモを追加"))
        return format_html(
            '<textarea name="_note" rows="2" cols="60" placeholder="メモ・対応結果・対応不要の理由"></textarea><br>{}',
            format_html_join("", "{}", ((b,) for b in buttons)),
        )

    @admin.display(description="チェックリスト（すべて完了で解決可能）")
    def checklist_panel(self, obj: Report) -> str:
        rows = []
        for item in reports.checklist_state(obj):
            if item["done"]:
                state = format_html("✅ {}（{}）", item["label"], item["done_by"])
            elif obj.is_open:
                state = format_html("⬜ {} {}", item["label"], self._button(obj, "check", "完了にする", item["code"]))
            else:
                state = format_html("⬜ {}", item["label"])
            rows.append((state,))
        return format_html_join("", "<div>{}</div>", rows)

    @admin.display(description="対象の注文")
    def orders_panel(self, obj: Report) -> str:
        rows = [(reverse("admin:shop_order_change", args=[o.pk]), o.number, o.get_status_display(), o.total,
                 o.get_payment_method_display(), o.risk_score) for o in obj.orders.all()]
        return format_html_join("", '<div><a href="{}">{}</a> {} {}円 {} リスク{}</div>', rows) or "—"

    @admin.display(description="ログイン履歴（注文前72時間）")
    def login_events_panel(self, obj: Report) -> str:
        if not obj.customer_id:
            return "—"
        events = logins.logins_before(obj.customer_id, obj.orders.all())
        rows = [(f"{local(e.occurred_at):%Y-%m-%d %H:%M}", e.ip, e.device_id, "新しい端末" if e.new_device else "",
                 e.user_agent[:80]) for e in events]
        return format_html_join("", "<div>{} {} {} <strong>{}</strong> {}</div>", rows) or "ログイン履歴はありません"

    @admin.display(description="関連する報告")
    def linked_panel(self, obj: Report) -> str:
        rows = [(reverse("admin:fraud_report_change", args=[r.pk]), r.pk, r.get_type_display(), r.get_status_display())
                for r in obj.linked.all()]
        return format_html_join("、", '<a href="{}">#{} {}（{}）</a>', rows) or "—"

    def get_urls(self):
        return [path("<int:pk>/do/<str:action>/", self.admin_site.admin_view(self.do), name="fraud_report_do"),
                *super().get_urls()]

    def do(self, request, pk: int, action: str):
        """One button of the change page → one service call, then back to the page."""
        if request.method != "POST":
            raise PermissionDenied
        report = get_object_or_404(Report, pk=pk)
        if not self.has_change_permission(request, report):
            raise PermissionDenied
        note = request.POST.get("_note", "").strip()
        value = request.POST.get("value", "")
        user = request.user
        calls = {
            "start": ("対応開始", lambda: reports.start(report, actor=user)),
            "secure": ("アカウント保護", lambda: playbook.secure_account(report, actor=user)),
            "check": ("チェックリスト", lambda: reports.complete_check(report, code=value, actor=user)),
            "resolve": ("解決", lambda: reports.resolve(report, actor=user, note=note)),
            "dismiss": ("対応不要", lambda: reports.dismiss(report, actor=user, note=note)),
            "note": ("メモ", lambda: reports.add_note(report, note=note, actor=user)),
        }
        if action not in calls:
            raise PermissionDenied
        label, func = calls[action]
        if _run(self, request, label, func):
            self.message_user(request, f"{label}を記録しました。", messages.SUCCESS)
        return HttpResponseRedirect(reverse("admin:fraud_report_change", args=[pk]))

    @admin.action(description="対応開始（自分を担当者にする）")
    def start_reports(self, request, queryset):
        done = sum(_run(self, request, f"#{r.pk}", lambda r=r: reports.start(r, actor=request.user)) for r in queryset)
        self.message_user(request, f"{done}件の対応を開始しました。", messages.SUCCESS)

    @admin.action(description="アカウント保護を実行（身に覚えのない注文）")
    def secure_accounts(self, request, queryset):
        done = sum(_run(self, request, f"#{r.pk}", lambda r=r: playbook.secure_account(r, actor=request.user))
                   for r in queryset)
        self.message_user(request, f"{done}件のアカウント保護を実行しました。", messages.SUCCESS)


# --- review queue ---------------------------------------------------------------------------

@admin.register(HeldOrder)
class ReviewQueueAdmin(admin.ModelAdmin):
    list_display = ("number", "customer", "total", "payment_method", "risk_score", "rules_in_words", "placed_at")
    list_filter = ("payment_method",)
    search_fields = ("number", "customer__external_id", "customer__email", "address_key")
    list_select_related = ("customer",)
    ordering = ("-risk_score", "placed_at")
    actions = ["approve_orders", "reject_orders"]
    fields = readonly_fields = ("number", "customer", "status", "total", "payment_method", "risk_score",
                                "rules_in_words", "address_key", "placed_at")

    def get_queryset(self, request):
        return super().get_queryset(request).filter(status=OrderStatus.ON_HOLD)

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description="該当したルール")
    def rules_in_words(self, obj) -> str:
        return format_html_join("", "<div>{}（+{}）</div>",
                                ((r.get("description", r.get("code")), r.get("weight", 0)) for r in obj.risk_rules))

    @admin.action(description="承認する（本来の状態へ）")
    def approve_orders(self, request, queryset):
        done = sum(_run(self, request, o.number, lambda o=o: review.approve(o, actor=request.user)) for o in queryset)
        self.message_user(request, f"{done}件の注文を承認しました。", messages.SUCCESS)

    @admin.action(description="却下する（キャンセル・在庫戻し・返金）")
    def reject_orders(self, request, queryset):
        done = sum(_run(self, request, o.number, lambda o=o: review.reject(o, actor=request.user)) for o in queryset)
        self.message_user(request, f"{done}件の注文を却下しました。", messages.SUCCESS)


# --- rules, addresses, logins, account actions ----------------------------------------------

class RiskRuleForm(forms.ModelForm):
    weight = forms.IntegerField(label="重み（点）", min_value=0, max_value=100)

    class Meta:
        model = RiskRule
        fields = ("weight", "enabled")


@admin.register(RiskRule)
class RiskRuleAdmin(admin.ModelAdmin):
    form = RiskRuleForm
    list_display = ("code", "description", "weight", "enabled", "updated_at")
    list_editable = ("weight", "enabled")
    readonly_fields = ("code", "description", "updated_at")
    fields = ("code", "description", "weight", "enabled", "updated_at")

    def has_add_permission(self, request):
        return False  # the codes are fixed by fraud.rules; only weights and on/off are data

    def has_delete_permission(self, request, obj=None):
        return False


class ReasonForm(forms.Form):
    reason = forms.CharField(label="理由", max_length=500)


@admin.register(AddressReputation)
class AddressReputationAdmin(admin.ModelAdmin):
    list_display = ("key", "cod_refusals", "last_refusal_at", "cod_blocked", "cod_blocked_at", "block_lifted_at",
                    "block_lifted_by")
    list_filter = ("cod_blocked",)
    search_fields = ("key",)
    actions = ["lift_blocks"]
    readonly_fields = ("key", "cod_refusals", "last_refusal_at", "cod_blocked", "cod_blocked_at", "block_lifted_at",
                       "block_lifted_by", "block_lift_reason", "updated_at")

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.action(description="代引き停止を解除する")
    def lift_blocks(self, request, queryset):
        if "apply" not in request.POST:
            return _reason_page(self, request, queryset, action="lift_blocks", title="代引き停止の解除",
                                help_text="解除の理由（例：住人の方と電話で確認済み）を入力してください。")
        form = ReasonForm(request.POST)
        if not form.is_valid():
            self.message_user(request, "理由を入力してください。", messages.ERROR)
            return None
        reason = form.cleaned_data["reason"]
        done = sum(_run(self, request, rep.key,
                        lambda rep=rep: addresses.lift_cod_block(rep, actor=request.user, reason=reason))
                   for rep in queryset)
        self.message_user(request, f"{done}件の住所の代引き停止を解除しました。", messages.SUCCESS)
        return None


@admin.register(LoginEvent)
class LoginEventAdmin(admin.ModelAdmin):
    list_display = ("customer", "occurred_at", "ip", "device_id", "new_device", "user_agent")
    list_filter = ("new_device",)
    search_fields = ("customer__external_id", "customer__email", "ip", "device_id")
    list_select_related = ("customer",)
    date_hierarchy = "occurred_at"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(AccountAction)
class AccountActionAdmin(admin.ModelAdmin):
    list_display = ("customer", "kind", "reason", "actor", "at", "report")
    list_filter = ("kind",)
    search_fields = ("customer__external_id", "customer__email", "reason")
    list_select_related = ("customer", "report")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(CustomerAccount)
class CustomerAccountAdmin(admin.ModelAdmin):
    """Suspend and reinstate customers (recorded with the reason as an AccountAction)."""

    list_display = ("external_id", "name", "email", "suspended", "suspended_reason", "session_epoch")
    list_filter = ("suspended",)
    search_fields = ("external_id", "email", "name", "phone")
    actions = ["suspend_customers", "reinstate_customers"]
    fields = readonly_fields = ("external_id", "name", "email", "phone", "suspended", "suspended_reason",
                                "session_epoch", "created_at")

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def _with_reason(self, request, queryset, action: str, title: str, func) -> None:
        if "apply" not in request.POST:
            return _reason_page(self, request, queryset, action=action, title=title,
                                help_text="理由を入力してください（記録に残ります）。")
        form = ReasonForm(request.POST)
        if not form.is_valid():
            self.message_user(request, "理由を入力してください。", messages.ERROR)
            return None
        reason = form.cleaned_data["reason"]
        done = sum(_run(self, request, c.external_id, lambda c=c: func(c, reason=reason, actor=request.user))
                   for c in queryset)
        self.message_user(request, f"{title}: {done}件", messages.SUCCESS)
        return None

    @admin.action(description="利用停止にする")
    def suspend_customers(self, request, queryset):
        return self._with_reason(request, queryset, "suspend_customers", "利用停止", accounts.suspend)

    @admin.action(description="利用を再開する")
    def reinstate_customers(self, request, queryset):
        return self._with_reason(request, queryset, "reinstate_customers", "利用再開", accounts.reinstate)


def order_risk_panel(order) -> str:
    """For the order's admin page (shop/admin.py): the rules that fired, in words, and the
    customer's logins in the 72 hours before the order (seed 002)."""
    rule_rows = ((r.get("description", r.get("code")), r.get("weight", 0)) for r in order.risk_rules)
    events = logins.logins_before(order.customer_id, [order])
    login_rows = ((f"{local(e.occurred_at):%Y-%m-%d %H:%M}", e.ip, e.device_id, "新しい端末" if e.new_device else "",
                   e.user_agent[:80]) for e in events)
    return format_html(
        "<div>リスクスコア {}</div>{}<div style='margin-top:6px'>{}</div>",
        order.risk_score,
        format_html_join("", "<div>・{}（+{}）</div>", rule_rows),
        format_html_join("", "<div>{} {} {} <strong>{}</strong> {}</div>", login_rows) or "ログイン履歴はありません",
    )
