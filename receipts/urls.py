from django.urls import path

from receipts import api

urlpatterns = [
    path("orders/<str:number>/receipt", api.ReceiptPdfView.as_view()),
    path("orders/<str:number>/receipt.json", api.ReceiptJsonView.as_view()),
]
