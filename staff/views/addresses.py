"""COD address blocks (seed 004): find an address as the order page prints it, see its state
(refusals, block, who lifted it and why), block COD by hand and lift a block with a reason."""

from __future__ import annotations

from django import forms
from django.http import Http404
from django.shortcuts import render
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from fraud.models import AddressReputation
from fraud.services import addresses
from staff import permissions, selectors
from staff.views.base import Action, ActionView, StaffView, actor_of


class AddressReasonForm(forms.Form):
    key = forms.CharField(widget=forms.HiddenInput, max_length=300)
    reason = forms.CharField(label=gettext_lazy("理由（記録に残ります）"), max_length=500,
                             widget=forms.Textarea(attrs={"rows": 2}))


def address_url(key: str) -> str:
    return reverse("staff:address") + "?" + urlencode({"key": key})


def _block(request, rep: AddressReputation, data: dict) -> str:
    saved = addresses.block_cod(rep.key, actor=actor_of(request), reason=data["reason"])
    rep.pk = saved.pk
    return _("この住所への代引きを停止しました。")


def _lift(request, rep: AddressReputation, data: dict) -> str:
    addresses.lift_cod_block(rep, actor=actor_of(request), reason=data["reason"])
    return _("この住所の代引き停止を解除しました。")


ADDRESS_ACTIONS = {
    "block": Action(
        name="block_address", label=gettext_lazy("代引きを停止"), run=_block, form_class=AddressReasonForm,
        danger=True, once_per=("key",), available=lambda rep: not rep.cod_blocked,
        consequences=lambda rep: [
            _("この住所（%(key)s）宛ての新しい代引き注文を受け付けなくなります（address_cod_blocked）。") % {"key": rep.key},
            _("既にある注文はそのままです。カード・コンビニ払いの注文は受け付けます。"),
        ]),
    "lift": Action(
        name="lift_address_block", label=gettext_lazy("代引き停止を解除"), run=_lift, form_class=AddressReasonForm,
        once_per=("key",), available=lambda rep: rep.cod_blocked,
        consequences=lambda rep: [
            _("この住所（%(key)s）宛ての代引きを再び受け付けます。") % {"key": rep.key},
            _("これまでの受取拒否は、新しい停止の判定に数えなくなります。"),
        ]),
}


def _reputation(key: str) -> AddressReputation:
    """The address's row, or an unsaved one (an address nobody refused yet has none)."""
    key = (key or "").strip()
    if not key:
        raise Http404
    return AddressReputation.objects.filter(key=key).first() or AddressReputation(key=key)


class AddressListView(StaffView):
    """Blocked addresses (``?blocked=1``) or the addresses matching what was typed (``?q=``)."""

    page = "addresses"

    def get(self, request):
        query = request.GET.get("q", "").strip()
        keys = addresses.find_keys(query) if query else []
        found = {rep.key: rep for rep in AddressReputation.objects.filter(key__in=keys)}
        return render(request, "staff/addresses.html", {
            "query": query,
            "results": [(key, found.get(key), address_url(key)) for key in keys],
            "blocked": selectors.paginate(AddressReputation.objects.filter(cod_blocked=True)
                                          .order_by("cod_blocked_at", "id"), request.GET.get("page")),
        })


class AddressDetailView(StaffView):
    page = "addresses"

    def get(self, request):
        rep = _reputation(request.GET.get("key", ""))
        return render(request, "staff/address.html", {
            "rep": rep, **selectors.address_detail(rep.key),
            "actions": [(action, reverse("staff:address_action", args=[name]) + "?" + urlencode({"key": rep.key}))
                        for name, action in ADDRESS_ACTIONS.items()
                        if action.available(rep) and permissions.can_run(request.user, action.name)],
        })


class AddressActionView(ActionView):
    page = "addresses"
    actions = ADDRESS_ACTIONS

    def get_object(self, **kwargs) -> AddressReputation:
        values = self.request.POST if self.request.method == "POST" else self.request.GET
        return _reputation(values.get("key", ""))

    def object_url(self, rep) -> str:
        return address_url(rep.key)

    def object_label(self, rep) -> str:
        return _("住所 %(key)s") % {"key": rep.key}
