"""Fraud reports: the open queue (high priority first) and a report with its fixed checklist."""

from __future__ import annotations

from django.http import Http404
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from backoffice.timeutil import local
from fraud.models import AddressReputation, Report, ReportPriority, ReportStatus, ReportType
from fraud.services import playbook, reports
from staff import exports, permissions, selectors
from staff.forms import NoteForm, ReportCheckForm, ReportUncheckForm, RequiredNoteForm
from staff.views.base import Action, ActionView, StaffView, with_item_tokens
from staff.views.orders import plan_words
from staff.views.work import notes_context


def _start(request, report: Report, data: dict) -> str:
    reports.start(report, actor=request.user)
    return _("不正報告 #%(id)s の対応を開始しました。") % {"id": report.pk}


def _check(request, report: Report, data: dict) -> str:
    reports.complete_check(report, code=data["code"], actor=request.user)
    return _("チェック項目を完了にしました。")


def _uncheck(request, report: Report, data: dict) -> str:
    reports.undo_check(report, code=data["code"], actor=request.user, reason=data["note"])
    return _("チェック項目の完了を取り消しました。")


def _uncheck_item(report: Report, values) -> list[str]:
    """Which tick will be undone, and who made it when (the confirm page's first line)."""
    code = values.get("code", "")
    item = next((i for i in reports.checklist_state(report) if i["code"] == code), None)
    if item is None:
        return []
    if not item["done"]:
        return [_("「%(label)s」はまだ完了していません（取り消すものはありません）。") % {"label": _(item["label"])}]
    return [_("「%(label)s」の完了（%(who)s・%(at)s）を取り消し、未完了に戻します。") % {
        "label": _(item["label"]), "who": item["done_by"], "at": f"{local(item['done_at']):%Y-%m-%d %H:%M}"}]


def _resolve(request, report: Report, data: dict) -> str:
    reports.resolve(report, actor=request.user, note=data.get("note", ""))
    return _("不正報告 #%(id)s を解決済みにしました。") % {"id": report.pk}


def _dismiss(request, report: Report, data: dict) -> str:
    reports.dismiss(report, actor=request.user, note=data["note"])
    return _("不正報告 #%(id)s を対応不要として終了しました。") % {"id": report.pk}


def _secure(request, report: Report, data: dict) -> str:
    result = playbook.secure_account(report, actor=request.user)
    return _("アカウント保護を実行しました（キャンセル%(n)s件・返金の受付%(yen)s円）。") % {
        "n": len(result.cancelled), "yen": f"{result.refunded:,}"}


def _secure_plan(report: Report) -> list[str]:
    """The playbook's plan, order by order, from the same reads the cancellation core makes."""
    plan = playbook.plan(report)
    lines = []
    for order_plan in plan.cancel:
        lines.append(_("注文 %(number)s：") % {"number": order_plan.number} + " ".join(plan_words(order_plan)))
    lines += [_("注文 %(number)s は既にキャンセル済みです（何もしません）。") % {"number": n} for n in plan.already_cancelled]
    lines += [_("注文 %(number)s は%(status)sのためキャンセルできません（そのまま残ります）。") % {"number": n, "status": _(s)}
              for n, s in plan.not_cancellable]
    refund = sum(p.refund_amount for p in plan.cancel if p.allowed)
    lines.append(_("返金の合計：%(yen)s円") % {"yen": f"{refund:,}"})
    lines.append(_("お客様のすべての端末のログインを無効にし、パスワードの再設定を求めます。"))
    lines.append(_("報告が完了するまでギフト券残高（%(yen)s円）を凍結します。") % {"yen": f"{plan.gift_card_balance:,}"})
    return lines


REPORT_ACTIONS: dict[str, Action] = {
    "start": Action(name="report_start", label=gettext_lazy("対応を開始"), run=_start,
                    available=lambda r: r.status == ReportStatus.OPEN,
                    consequences=lambda r: [_("状態を「対応中」にし、担当者が未設定ならあなたを担当者にします。")]),
    "check": Action(name="report_check", label=gettext_lazy("チェック項目を完了"), run=_check, form_class=ReportCheckForm,
                    available=lambda r: r.is_open, once_per=("code",),
                    consequences=lambda r: [_("チェックリストの項目を完了として記録します。")]),
    "uncheck": Action(name="report_uncheck", label=gettext_lazy("チェック項目の完了を取り消す"), run=_uncheck,
                      form_class=ReportUncheckForm, available=lambda r: r.is_open, once_per=("code",),
                      item_consequences=_uncheck_item,
                      consequences=lambda r: [_("取り消しは理由とともに報告のタイムラインと操作履歴に残ります。")]),
    "resolve": Action(name="report_resolve", label=gettext_lazy("解決済みにする"), run=_resolve, form_class=NoteForm,
                      available=lambda r: r.status == ReportStatus.IN_PROGRESS,
                      consequences=lambda r: [_("チェックリストがすべて完了していれば「解決済み」にします。"),
                                              _("凍結中のギフト券残高があれば凍結を解除します。")]),
    "dismiss": Action(name="report_dismiss", label=gettext_lazy("対応不要として終了"), run=_dismiss,
                      form_class=RequiredNoteForm, available=lambda r: r.status == ReportStatus.IN_PROGRESS,
                      consequences=lambda r: [_("理由を記録して「対応不要」にします。"),
                                              _("凍結中のギフト券残高があれば凍結を解除します。")]),
    "secure-account": Action(
        name="secure_account", label=gettext_lazy("アカウント保護"), run=_secure, danger=True,
        available=lambda r: r.type == ReportType.UNAUTHORIZED_ORDER and r.is_open and r.secured_at is None,
        consequences=lambda r: _secure_plan(r)),
}


class ReportListView(StaffView):
    page = "reports"

    def get(self, request):
        priority = request.GET.get("priority", "")
        report_type = request.GET.get("type", "")
        queryset = selectors.open_reports()
        if priority in ("high", "normal"):
            queryset = queryset.filter(priority=ReportPriority.HIGH if priority == "high" else ReportPriority.NORMAL)
        if report_type in ReportType.values:
            queryset = queryset.filter(type=report_type)
        if exports.wants_csv(request):
            return exports.export(request, "reports", queryset, [
                ("#", lambda r: r.pk), (_("種別"), lambda r: _(r.get_type_display())),
                (_("優先度"), lambda r: _(r.get_priority_display())), (_("状態"), lambda r: _(r.get_status_display())),
                (_("お客様"), lambda r: r.customer.name if r.customer else ""),
                (_("出品者"), lambda r: r.seller.name if r.seller else ""),
                (_("担当者"), lambda r: r.assignee.get_username() if r.assignee else ""),
                (_("報告者"), lambda r: r.filed_by), (_("受付日時"), lambda r: r.created_at)])
        return render(request, "staff/reports.html", {
            "page_obj": selectors.paginate(queryset, request.GET.get("page")),
            "priority": priority, "type": report_type, "types": ReportType.choices,
            "query": selectors.query_without_page(request.GET),
        })


class ReportDetailView(StaffView):
    page = "reports"

    def get(self, request, pk: int):
        report = selectors.report_detail(pk)
        if report is None:
            raise Http404
        orders = list(report.orders.all())
        can_check = permissions.can_run(request.user, "report_check") and report.is_open
        check_url = reverse("staff:report_action", args=[report.pk, "check"])
        checklist = reports.checklist_state(report)
        if can_check:
            checklist = with_item_tokens(request, check_url, REPORT_ACTIONS["check"], checklist)
        return render(request, "staff/report.html", {
            **notes_context(request, report),
            "report": report,
            "address": (AddressReputation.objects.filter(key=report.address_key).first()
                        or AddressReputation(key=report.address_key)) if report.address_key else None,
            "orders": orders,
            "checklist": checklist,
            "events": list(report.events.all()),
            "linked": list(report.linked.all()),
            "login_events": (selectors.logins_before_orders(report.customer_id, orders)
                             if report.customer_id and orders else []),
            "can_check": can_check,
            "can_uncheck": permissions.can_run(request.user, "report_uncheck") and report.is_open,
            "check_url": check_url,
            "actions": [
                (action, reverse("staff:report_action", args=[report.pk, key]))
                for key, action in REPORT_ACTIONS.items()
                if key not in ("check", "uncheck") and permissions.can_run(request.user, action.name) and action.available(report)
            ],
        })


class ReportActionView(ActionView):
    page = "reports"
    actions = REPORT_ACTIONS

    def get_object(self, pk: int, **kwargs) -> Report:
        report = selectors.report_detail(pk)
        if report is None:
            raise Http404
        return report

    def object_url(self, report) -> str:
        return reverse("staff:report", args=[report.pk])

    def object_label(self, report) -> str:
        return _("不正報告 #%(id)s") % {"id": report.pk}
