from django.urls import path

from fraud.api import views as v

urlpatterns = [
    path("fraud/reports", v.ReportCreateView.as_view()),
    path("customers/<str:external_id>", v.CustomerView.as_view()),
    path("customers/<str:external_id>/login-events", v.LoginEventCreateView.as_view()),
    path("customers/<str:external_id>/password-reset", v.PasswordResetView.as_view()),
]
