"""Admin: reports (timeline, checklist, buttons that call the services) and the review queue."""

from __future__ import annotations

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join

from backoffice import formtokens
from backoffice.admin_tools import ReadOnlyInline
from backoffice.timeutil import local
from fraud.admin.common import _run
from fraud.models import HeldOrder, Report, ReportEvent
from fraud.services import logins, playbook, reports, review
from shop.models import OrderStatus


class ReportEventInline(ReadOnlyInline):
    model = ReportEvent
    fields = readonly_fields = ("at", "kind", "actor", "note", "order")
    verbose_name_plural = "対応履歴（タイムライン）"


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
    change_form_template = "admin/fraud/report/change_form.html"
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

    # Buttons inside the change form post the whole form to a per-action URL (formaction). Each
    # button has a one-time token (a hidden field named by ``_token_field``): pressed twice, or
    # from two tabs, it runs once (backoffice.formtokens).
    @staticmethod
    def _token_field(action: str, value: str = "") -> str:
        return f"form_token:{action}:{value}"

    @staticmethod
    def _token_scope(pk: int, action: str, value: str = "") -> str:
        return f"admin:fraud.report:{pk}:{action}:{value}"

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        if obj is not None and obj.is_open:
            buttons = [(action, "") for action in ("start", "secure", "resolve", "dismiss", "note")]
            buttons += [("check", item["code"]) for item in reports.checklist_state(obj) if not item["done"]]
            scopes = {self._token_scope(obj.pk, a, v): self._token_field(a, v) for a, v in buttons}
            tokens = formtokens.issue_many(user=request.user, scopes=scopes)
            context["form_tokens"] = [(field, tokens[scope]) for scope, field in scopes.items()]
        return super().render_change_form(request, context, add=add, change=change, form_url=form_url, obj=obj)

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
        key = value if action == "check" else ""
        try:
            with formtokens.once(token=request.POST.get(self._token_field(action, key), ""), user=user,
                                 scope=self._token_scope(report.pk, action, key)):
                done = _run(self, request, label, func)
                if not done:
                    transaction.set_rollback(True)  # refused: the button may be pressed again
        except formtokens.FormTokenRefused as exc:
            self.message_user(request, f"{label}: {exc.message}（{exc.code}）", messages.WARNING)
            return HttpResponseRedirect(reverse("admin:fraud_report_change", args=[pk]))
        if done:
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
