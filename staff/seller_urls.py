"""Seller pages of the console: the seller and the closure request queue (seed 003)."""

from django.urls import path

from staff.views import sellers

urlpatterns = [
    path("sellers/<int:pk>/", sellers.SellerDetailView.as_view(), name="seller"),
    path("seller-closures/", sellers.SellerClosureQueueView.as_view(), name="seller_closures"),
    path("seller-closures/<int:pk>/actions/<slug:action>/", sellers.SellerClosureActionView.as_view(),
         name="seller_closure_action"),
]
