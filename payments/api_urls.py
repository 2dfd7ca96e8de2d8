from django.urls import path

from payments import api

urlpatterns = [
    path("customers/<str:external_id>/bank-account", api.BankAccountView.as_view()),
    path("orders/<str:number>/returns", api.OrderReturnView.as_view()),
    path("customers/<str:external_id>/gift-card/charges", api.GiftCardChargeView.as_view()),
    path("customers/<str:external_id>/points", api.PointsView.as_view()),
    path("seller/bank-account", api.SellerPayoutAccountView.as_view()),
]
