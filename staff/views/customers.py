"""The customer page: orders, gift-card balance and usage history, no-shows, suspension."""

from __future__ import annotations

from django.shortcuts import get_object_or_404, render

from shop.models import Customer
from staff import selectors
from staff.views.base import StaffView


class CustomerDetailView(StaffView):
    page = "customer"

    def get(self, request, pk: int):
        customer = get_object_or_404(Customer, pk=pk)
        account = selectors.customer_gift_card(customer)
        return render(request, "staff/customer.html", {
            "customer": customer,
            "orders": selectors.paginate(selectors.customer_orders(customer), request.GET.get("page")),
            "stats": selectors.customer_stats(customer),
            "gift_card": account,
            "gift_entries": (selectors.paginate(selectors.gift_card_entries(account), request.GET.get("gpage"))
                             if account else None),
        })
