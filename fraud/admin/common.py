"""Shared pieces of the fraud admin, and the panel shop's order page shows."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.template.response import TemplateResponse
from django.utils.html import format_html, format_html_join

from backoffice.errors import DomainError
from backoffice.timeutil import local
from fraud.services import logins


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


class ReasonForm(forms.Form):
    reason = forms.CharField(label="理由", max_length=500)


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
