from django.urls import path

from pickup.api import views

urlpatterns = [
    path("stores/<str:store_code>", views.StoreView.as_view()),
    path("pickup/tickets", views.TicketIssueView.as_view()),
    path("pickup/tickets/<str:ticket_number>/redeem", views.TicketRedeemView.as_view()),
]
