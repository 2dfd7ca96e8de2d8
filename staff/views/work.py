"""Shift handover: internal notes on records, the staff activity log, and the konbini payments
due today (a dashboard tile's list)."""

from __future__ import annotations

from django.http import Http404
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from backoffice import formtokens
from fraud.models import Report
from shop.models import CallbackRequest, Customer, Order
from staff import exports, permissions, selectors
from staff import services as staff_services
from staff.forms import InternalNoteForm
from staff.models import TargetKind
from staff.views.base import Action, ActionView, StaffView


def _add_note(request, obj, data: dict) -> str:
    staff_services.add_note(obj=obj, body=data["body"], user=request.user)
    return _("社内メモを残しました。")


NOTE_ACTIONS = {
    "add": Action(name="add_note", label=gettext_lazy("社内メモを残す"), run=_add_note, form_class=InternalNoteForm,
                  consequences=lambda obj: [_("このメモはスタッフだけに表示され、お客様には送られません。")]),
}

# target kind → (model, page that must be open to the user, how to find it)
NOTE_TARGETS = {
    TargetKind.ORDER: (Order, "order"),
    TargetKind.CUSTOMER: (Customer, "customer"),
    TargetKind.REPORT: (Report, "reports"),
    TargetKind.CALLBACK: (CallbackRequest, "callbacks"),
}


def object_url(obj) -> str:
    if isinstance(obj, Order):
        return reverse("staff:order", args=[obj.number])
    if isinstance(obj, Customer):
        return reverse("staff:customer", args=[obj.pk])
    if isinstance(obj, Report):
        return reverse("staff:report", args=[obj.pk])
    show = "closed" if obj.status == CallbackRequest.Status.DONE else "open"
    return reverse("staff:callbacks") + f"?show={show}#callback-{obj.pk}"


def object_label(obj) -> str:
    if isinstance(obj, Order):
        return _("注文 %(number)s") % {"number": obj.number}
    if isinstance(obj, Customer):
        return _("%(name)s 様（%(id)s）") % {"name": obj.name, "id": obj.external_id}
    if isinstance(obj, Report):
        return _("不正報告 #%(id)s") % {"id": obj.pk}
    return _("折り返し電話 #%(id)s") % {"id": obj.pk}


def note_url(obj) -> str:
    return reverse("staff:note_action", args=[staff_services.target_kind_of(obj), obj.pk, "add"])


class NoteActionView(ActionView):
    page = "notes"
    actions = NOTE_ACTIONS

    def get_object(self, kind: str, pk: int, **kwargs):
        target = NOTE_TARGETS.get(kind)
        if target is None:
            raise Http404
        model, page = target
        if not permissions.can_view(self.request.user, page):
            raise Http404
        obj = model.objects.filter(pk=pk).first()
        if obj is None:
            raise Http404
        return obj

    def object_url(self, obj) -> str:
        return object_url(obj)

    def object_label(self, obj) -> str:
        return object_label(obj)


ACTIVITY_PAGE_SIZE = 50


class ActivityLogView(StaffView):
    """Who did what, when, to which record; filter by staff, action, record kind, day."""

    page = "activity"

    def get(self, request):
        filters = {key: request.GET.get(key, "").strip() for key in ("user", "action", "kind", "day", "target")}
        queryset = selectors.activities(**filters)
        if exports.wants_csv(request):
            return exports.export(request, "activity", queryset, [
                (_("日時"), lambda a: a.at), (_("スタッフ"), lambda a: a.username), (_("操作"), lambda a: a.action),
                (_("対象"), lambda a: a.target_label), (_("結果"), lambda a: a.summary)])
        return render(request, "staff/activity.html", {
            "filters": filters,
            "actions": sorted(permissions.ACTIONS),
            "kinds": TargetKind.choices,
            "page_obj": selectors.paginate(queryset, request.GET.get("page"), ACTIVITY_PAGE_SIZE),
            "query": selectors.query_without_page(request.GET),
        })


class KonbiniDueView(StaffView):
    page = "konbini_due"

    def get(self, request):
        if exports.wants_csv(request):
            return exports.export(request, "konbini-due-today", selectors.konbini_due_today_list(), [
                (_("注文番号"), lambda p: p.order.number), (_("お客様"), lambda p: p.order.customer.name),
                (_("金額"), lambda p: p.amount), (_("支払期限"), lambda p: p.deadline)])
        return render(request, "staff/konbini_due.html", {
            "page_obj": selectors.paginate(selectors.konbini_due_today_list(), request.GET.get("page")),
        })


def notes_context(request, obj) -> dict:
    """What ``staff/_notes.html`` shows on a record's page: its notes, the note form with its
    one-time token, and what staff did to the record."""
    url = note_url(obj)
    can_note = permissions.can_run(request.user, "add_note")
    return {
        "notes": staff_services.notes_for(obj),
        "note_url": url,
        "note_token": formtokens.issue(user=request.user, scope=url) if can_note else "",
        "activity": selectors.activity_of(obj),
    }
