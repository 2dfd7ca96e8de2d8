from django.urls import path

from payments import api

urlpatterns = [
    path("customers/<str:external_id>/bank-account", api.BankAccountView.as_view()),
]
