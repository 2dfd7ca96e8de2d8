"""The customer page: orders, gift-card balance and usage history, no-shows, suspension, logins."""

from __future__ import annotations

from django.http import Http404
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from fraud.services import accounts
from receipts import selectors as receipt_selectors
from shop.models import Customer
from staff import permissions, selectors
from staff.forms import RequiredNoteForm
from staff.views.base import Action, ActionView, StaffView, actor_of


def _suspend(request, customer: Customer, data: dict) -> str:
    accounts.suspend(customer, reason=data["note"], actor=actor_of(request))
    return _("%(name)s 様のアカウントを利用停止にしました。") % {"name": customer.name}


def _reinstate(request, customer: Customer, data: dict) -> str:
    accounts.reinstate(customer, reason=data["note"], actor=actor_of(request))
    return _("%(name)s 様のアカウントの利用停止を解除しました。") % {"name": customer.name}


CUSTOMER_ACTIONS: dict[str, Action] = {
    "suspend": Action(
        name="suspend_customer", label=gettext_lazy("アカウントを利用停止"), run=_suspend, form_class=RequiredNoteForm,
        danger=True, available=lambda c: not c.suspended,
        consequences=lambda c: [
            _("新しい注文を受け付けなくなります（ストアは「このアカウントは現在ご利用いただけません」と表示）。"),
            _("すべての端末のログインを無効にします。"),
            _("理由は記録に残ります。"),
        ]),
    "reinstate": Action(
        name="reinstate_customer", label=gettext_lazy("利用停止を解除"), run=_reinstate, form_class=RequiredNoteForm,
        available=lambda c: c.suspended,
        consequences=lambda c: [_("再び注文できるようになります。理由は記録に残ります。")]),
}


class CustomerDetailView(StaffView):
    page = "customer"

    def get(self, request, pk: int):
        customer = get_object_or_404(Customer, pk=pk)
        account = selectors.customer_gift_card(customer)
        return render(request, "staff/customer.html", {
            "customer": customer,
            "orders": selectors.paginate(selectors.customer_orders(customer), request.GET.get("page")),
            "stats": selectors.customer_stats(customer),
            "gift_card": account,
            "gift_entries": (selectors.paginate(selectors.gift_card_entries(account), request.GET.get("gpage"))
                             if account else None),
            "login_events": selectors.customer_logins(customer),
            "reports": selectors.customer_reports(customer),
            "receipt_issues": selectors.paginate(receipt_selectors.issues_of_customer(customer),
                                                 request.GET.get("rpage")),
            "customer_actions": [
                (action, reverse("staff:customer_action", args=[customer.pk, key]))
                for key, action in CUSTOMER_ACTIONS.items()
                if permissions.can_run(request.user, action.name) and action.available(customer)
            ],
        })


class CustomerActionView(ActionView):
    page = "customer"
    actions = CUSTOMER_ACTIONS

    def get_object(self, pk: int, **kwargs) -> Customer:
        customer = Customer.objects.filter(pk=pk).first()
        if customer is None:
            raise Http404
        return customer

    def object_url(self, customer: Customer) -> str:
        return reverse("staff:customer", args=[customer.pk])

    def object_label(self, customer: Customer) -> str:
        return _("%(name)s 様（%(id)s）") % {"name": customer.name, "id": customer.external_id}
