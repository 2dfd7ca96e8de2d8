from django.urls import path

from webhooks import api as v

urlpatterns = [
    path("webhook-endpoints", v.EndpointListView.as_view()),
    path("webhook-endpoints/<str:endpoint_id>", v.EndpointDetailView.as_view()),
    path("webhook-endpoints/<str:endpoint_id>/test", v.EndpointTestView.as_view()),
    path("webhook-endpoints/<str:endpoint_id>/rotate-secret", v.EndpointRotateView.as_view()),
    path("webhook-endpoints/<str:endpoint_id>/deliveries", v.EndpointDeliveriesView.as_view()),
    path("webhook-deliveries/<str:event_id>/redeliver", v.RedeliverView.as_view()),
]
