"""Admin: risk rules and weights, address reputation (unblock), login events, suspension."""

from __future__ import annotations

from django import forms
from django.contrib import admin

from backoffice.admin_tools import ReadOnlyAdmin, ReadOnlyInline
from fraud.admin.common import with_reason
from fraud.models import AccountAction, AddressReputation, CustomerAccount, LoginEvent, RiskRule, SessionRevocation
from fraud.services import accounts, addresses


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
        return with_reason(self, request, queryset, action="lift_blocks", title="代引き停止の解除",
                           help_text="解除の理由（例：住人の方と電話で確認済み）を入力してください。",
                           func=lambda rep, reason: addresses.lift_cod_block(rep, actor=request.user, reason=reason),
                           label=lambda rep: rep.key, done="{n}件の住所の代引き停止を解除しました。")


@admin.register(LoginEvent)
class LoginEventAdmin(ReadOnlyAdmin):
    list_display = ("customer", "occurred_at", "ip", "device_id", "new_device", "user_agent")
    list_filter = ("new_device",)
    search_fields = ("customer__external_id", "customer__email", "ip", "device_id")
    list_select_related = ("customer",)
    date_hierarchy = "occurred_at"


@admin.register(AccountAction)
class AccountActionAdmin(ReadOnlyAdmin):
    list_display = ("customer", "kind", "reason", "actor", "at", "report")
    list_filter = ("kind",)
    search_fields = ("customer__external_id", "customer__email", "reason")
    list_select_related = ("customer", "report")


class SessionRevocationInline(ReadOnlyInline):
    """Every "log out every device" of the customer: when, by whom, why (issue 17)."""

    model = SessionRevocation
    fields = readonly_fields = ("revoked_at", "cause", "actor", "report", "epoch")


@admin.register(CustomerAccount)
class CustomerAccountAdmin(admin.ModelAdmin):
    """Suspend and reinstate customers (recorded with the reason as an AccountAction)."""

    inlines = [SessionRevocationInline]
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

    def _with_reason(self, request, queryset, action: str, title: str, func):
        return with_reason(self, request, queryset, action=action, title=title,
                           help_text="理由を入力してください（記録に残ります）。",
                           func=lambda c, reason: func(c, reason=reason, actor=request.user),
                           label=lambda c: c.external_id, done=title + ": {n}件")

    @admin.action(description="利用停止にする")
    def suspend_customers(self, request, queryset):
        return self._with_reason(request, queryset, "suspend_customers", "利用停止", accounts.suspend)

    @admin.action(description="利用を再開する")
    def reinstate_customers(self, request, queryset):
        return self._with_reason(request, queryset, "reinstate_customers", "利用再開", accounts.reinstate)
