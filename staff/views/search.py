"""One search box: straight to the order (or customer) when the match is unique."""

from __future__ import annotations

from django.shortcuts import redirect, render

from staff import selectors
from staff.forms import SearchForm
from staff.views.base import StaffView


class SearchView(StaffView):
    page = "search"

    def get(self, request):
        form = SearchForm(request.GET)
        query = form.cleaned_data["q"] if form.is_valid() else ""
        result = selectors.search(query)
        if result.unique_order is not None:
            return redirect("staff:order", number=result.unique_order.number)
        if result.unique_customer is not None:
            return redirect("staff:customer", pk=result.unique_customer.pk)
        return render(request, "staff/search.html", {"form": form, "result": result})
