"""Partner webhooks: endpoints (failing first), an endpoint's deliveries (failed first) with the
excerpts of the last request and response, redelivery and re-enabling through the confirm page."""

from __future__ import annotations

from django.http import Http404
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from staff import selectors
from staff.views.base import Action, ActionView, StaffView
from webhooks import selectors as webhook_selectors
from webhooks import services as webhook_services
from webhooks.models import Delivery, Endpoint


class WebhookEndpointListView(StaffView):
    page = "webhooks"

    def get(self, request):
        return render(request, "staff/webhooks.html", {
            "page_obj": selectors.paginate(webhook_selectors.endpoints(), request.GET.get("page")),
        })


class WebhookEndpointView(StaffView):
    page = "webhooks"

    def get(self, request, pk: int):
        endpoint = webhook_selectors.endpoint(pk)
        if endpoint is None:
            raise Http404
        return render(request, "staff/webhook_endpoint.html", {
            "endpoint": endpoint,
            "page_obj": selectors.paginate(webhook_selectors.deliveries(endpoint), request.GET.get("page")),
        })


def _redeliver(request, delivery: Delivery, data: dict) -> str:
    webhook_services.redeliver(Delivery.objects.filter(pk=delivery.pk))
    return _("イベント %(event)s を再送します。") % {"event": delivery.event.public_id}


DELIVERY_ACTIONS = {
    "redeliver": Action(
        name="redeliver_webhook", label=gettext_lazy("Webhookを再送"), run=_redeliver,
        available=lambda d: d.endpoint.active,
        consequences=lambda d: [
            _("イベント %(event)s（%(type)s）を %(url)s にもう一度送信します。本文とイベントIDは前回と同じです。")
            % {"event": d.event.public_id, "type": d.event.type, "url": d.endpoint.url},
            _("受信側が同じイベントIDを既に処理していれば、受信側では重複として扱われます。"),
        ]),
}


class WebhookDeliveryActionView(ActionView):
    page = "webhooks"
    actions = DELIVERY_ACTIONS

    def get_object(self, pk: int, **kwargs) -> Delivery:
        delivery = webhook_selectors.delivery(pk)
        if delivery is None:
            raise Http404
        return delivery

    def object_url(self, delivery) -> str:
        return reverse("staff:webhook_endpoint", args=[delivery.endpoint_id])

    def object_label(self, delivery) -> str:
        return _("Webhook配信 %(event)s（%(partner)s）") % {"event": delivery.event.public_id,
                                                          "partner": delivery.endpoint.partner.name}


def _reenable(request, endpoint: Endpoint, data: dict) -> str:
    parked = webhook_services.reenable(endpoint)
    return _("エンドポイントを再開しました。停止中の配信%(n)s件を送信します。") % {"n": parked}


ENDPOINT_ACTIONS = {
    "reenable": Action(
        name="reenable_webhook", label=gettext_lazy("Webhookエンドポイントを再開"), run=_reenable,
        available=lambda e: not e.active and e.deleted_at is None,
        consequences=lambda e: [
            _("%(url)s への配信を再開し、連続失敗の記録を消去します。") % {"url": e.url},
            _("停止中に溜まった配信をすべて送信します（各配信の再試行期間はここから72時間です）。"),
            _("受信側が復旧していない場合、また失敗が続くと自動的に停止します。"),
        ]),
}


class WebhookEndpointActionView(ActionView):
    page = "webhooks"
    actions = ENDPOINT_ACTIONS

    def get_object(self, pk: int, **kwargs) -> Endpoint:
        endpoint = webhook_selectors.endpoint(pk)
        if endpoint is None:
            raise Http404
        return endpoint

    def object_url(self, endpoint) -> str:
        return reverse("staff:webhook_endpoint", args=[endpoint.pk])

    def object_label(self, endpoint) -> str:
        return _("Webhookエンドポイント #%(id)s（%(partner)s）") % {"id": endpoint.pk, "partner": endpoint.partner.name}
