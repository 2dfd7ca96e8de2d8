from django.urls import path

from shop.api import closure as c
from shop.api import views as v

urlpatterns = [
    path("orders", v.OrderCreateView.as_view()),
    path("orders/<str:number>", v.OrderDetailView.as_view()),
    path("orders/<str:number>/cancel", v.OrderCancelView.as_view()),
    path("orders/<str:number>/shipments", v.ShipmentCreateView.as_view()),
    path("shipments/<str:tracking_number>/events", v.CarrierEventView.as_view()),
    path("listings", v.ListingCreateView.as_view()),
    path("listings/<str:sku>", v.ListingUpdateView.as_view()),
    path("seller/settings", v.SellerSettingsView.as_view()),
    path("seller/orders", v.SellerOrdersView.as_view()),
    path("customers/<str:external_id>/orders", v.CustomerOrdersView.as_view()),
    path("customers/<str:external_id>/messages", v.CustomerMessagesView.as_view()),
    path("customers/<str:external_id>/gift-card", v.GiftCardView.as_view()),
    path("customers/<str:external_id>/gift-card/credits", v.GiftCardCreditView.as_view()),
    path("customers/<str:external_id>/callback-requests", v.CallbackRequestView.as_view()),
    path("customers/<str:external_id>/closure-check", c.ClosureCheckView.as_view()),
    path("customers/<str:external_id>/closure", c.ClosureView.as_view()),
    path("seller/closure-requests", c.SellerClosureRequestView.as_view()),
]
