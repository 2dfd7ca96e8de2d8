from django.urls import include, path

from staff.views import auth, bulk, customers, dashboard, orders, queues, reports, search, transfers, webhooks

app_name = "staff"

urlpatterns = [
    path("", dashboard.DashboardView.as_view(), name="dashboard"),
    path("login/", auth.LoginView.as_view(), name="login"),
    path("logout/", auth.LogoutView.as_view(), name="logout"),
    path("search/", search.SearchView.as_view(), name="search"),
    path("orders/cancel/", bulk.BulkCancelView.as_view(), name="bulk_cancel"),
    path("orders/<str:number>/", orders.OrderDetailView.as_view(), name="order"),
    path("orders/<str:number>/actions/<slug:action>/", orders.OrderActionView.as_view(), name="order_action"),
    path("orders/<str:number>/receipts/<int:issue_id>.pdf", orders.ReceiptPdfView.as_view(), name="receipt_pdf"),
    path("customers/<int:pk>/", customers.CustomerDetailView.as_view(), name="customer"),
    path("customers/<int:pk>/actions/<slug:action>/", customers.CustomerActionView.as_view(), name="customer_action"),
    path("callbacks/", queues.CallbackQueueView.as_view(), name="callbacks"),
    path("callbacks/<int:pk>/actions/<slug:action>/", queues.CallbackActionView.as_view(), name="callback_action"),
    path("review/", queues.ReviewQueueView.as_view(), name="review_queue"),
    path("pickups/", queues.PickupListView.as_view(), name="pickups"),
    path("refunds/failed/", queues.FailedRefundsView.as_view(), name="failed_refunds"),
    path("refunds/<int:pk>/actions/<slug:action>/", queues.RefundActionView.as_view(), name="refund_action"),
    path("transfers/", transfers.TransferBatchListView.as_view(), name="transfers"),
    path("transfers/<int:pk>/download/", transfers.TransferBatchDownloadView.as_view(), name="transfer_download"),
    path("transfers/<int:pk>/actions/<slug:action>/", transfers.TransferBatchActionView.as_view(),
         name="transfer_action"),
    path("reports/", reports.ReportListView.as_view(), name="reports"),
    path("reports/<int:pk>/", reports.ReportDetailView.as_view(), name="report"),
    path("reports/<int:pk>/actions/<slug:action>/", reports.ReportActionView.as_view(), name="report_action"),
    path("webhooks/", webhooks.WebhookEndpointListView.as_view(), name="webhooks"),
    path("webhooks/<int:pk>/", webhooks.WebhookEndpointView.as_view(), name="webhook_endpoint"),
    path("webhooks/<int:pk>/actions/<slug:action>/", webhooks.WebhookEndpointActionView.as_view(),
         name="webhook_endpoint_action"),
    path("webhooks/deliveries/<int:pk>/actions/<slug:action>/", webhooks.WebhookDeliveryActionView.as_view(),
         name="webhook_delivery_action"),
    path("", include("staff.seller_urls")),  # sellers and their closure requests (issue 15)
]
