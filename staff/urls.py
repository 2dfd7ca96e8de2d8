from django.urls import path

from staff.views import auth, customers, dashboard, orders, queues, search

app_name = "staff"

urlpatterns = [
    path("", dashboard.DashboardView.as_view(), name="dashboard"),
    path("login/", auth.LoginView.as_view(), name="login"),
    path("logout/", auth.LogoutView.as_view(), name="logout"),
    path("search/", search.SearchView.as_view(), name="search"),
    path("orders/<str:number>/", orders.OrderDetailView.as_view(), name="order"),
    path("orders/<str:number>/actions/<slug:action>/", orders.OrderActionView.as_view(), name="order_action"),
    path("customers/<int:pk>/", customers.CustomerDetailView.as_view(), name="customer"),
    path("callbacks/", queues.CallbackQueueView.as_view(), name="callbacks"),
    path("callbacks/<int:pk>/actions/<slug:action>/", queues.CallbackActionView.as_view(), name="callback_action"),
    path("refunds/failed/", queues.FailedRefundsView.as_view(), name="failed_refunds"),
]
urlpatterns += [
    path("review/", queues.ReviewQueueView.as_view(), name="review_queue"),
]
