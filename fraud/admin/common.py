"""Shared pieces of the fraud admin, and the panel shop's order page shows."""

from __future__ import annotations

import hashlib
from collections.abc import Callable

from django import forms
from django.contrib import admin, messages
from django.db import transaction
from django.template.response import TemplateResponse
from django.utils.html import format_html, format_html_join

from backoffice import formtokens
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


def _reason_scope(modeladmin, action: str, queryset) -> str:
    """The reason page's form: this model's action on exactly these objects."""
    pks = ",".join(str(pk) for pk in sorted(queryset.values_list("pk", flat=True)))
    return f"admin:{modeladmin.model._meta.label_lower}:{action}:{hashlib.sha256(pks.encode()).hexdigest()[:32]}"


def _reason_page(modeladmin, request, queryset, *, action: str, title: str, help_text: str):
    """An intermediate page asking for the reason of a bulk action (Django's delete pattern). Its
    form carries a one-time token (``backoffice.formtokens``): submitted twice, it runs once."""
    return TemplateResponse(request, "admin/fraud/reason.html", {
        **modeladmin.admin_site.each_context(request), "title": title, "help_text": help_text,
        "objects": queryset, "action": action, "opts": modeladmin.model._meta,
        "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME,
        "form_token": formtokens.issue(user=request.user, scope=_reason_scope(modeladmin, action, queryset)),
    })


def with_reason(modeladmin, request, queryset, *, action: str, title: str, help_text: str,
                func: Callable[..., object], label: Callable[[object], str], done: str):
    """A bulk action that asks for a reason first: the reason page, then ``func(obj, reason)`` for
    each object (a DomainError is reported for that object and the rest go on), the page's token
    spent in the same transaction. If no object succeeds the token stays usable. ``done`` is the
    success message with ``{n}`` for the count."""
    if "apply" not in request.POST:
        return _reason_page(modeladmin, request, queryset, action=action, title=title, help_text=help_text)
    form = ReasonForm(request.POST)
    if not form.is_valid():
        modeladmin.message_user(request, "理由を入力してください。", messages.ERROR)
        return None
    reason = form.cleaned_data["reason"]
    try:
        with formtokens.once(token=request.POST.get(formtokens.FIELD, ""), user=request.user,
                             scope=_reason_scope(modeladmin, action, queryset)):
            count = sum(_run(modeladmin, request, label(obj), lambda obj=obj: func(obj, reason)) for obj in queryset)
            if not count:
                transaction.set_rollback(True)  # nothing was done: the page may be submitted again
    except formtokens.FormTokenRefused as exc:
        modeladmin.message_user(request, f"{title}: {exc.message}（{exc.code}）", messages.WARNING)
        return None
    if count:
        modeladmin.message_user(request, done.format(n=count), messages.SUCCESS)
    return None


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
