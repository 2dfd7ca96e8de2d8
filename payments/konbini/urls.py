from django.urls import path

from payments.konbini import api

urlpatterns = [
    path("orders/<str:number>/konbini-payment", api.KonbiniPaymentView.as_view()),
    path("konbini/payments/lookup", api.KonbiniLookupView.as_view()),
    path("konbini/payments/confirm", api.KonbiniConfirmView.as_view()),
    path("konbini/payments/cancel-preliminary", api.KonbiniCancelPreliminaryView.as_view()),
    path("konbini/settlements", api.KonbiniSettlementView.as_view()),
]
