"""One search box: straight to the order (or customer) when the match is unique."""

from __future__ import annotations

from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from staff import exports, selectors
from staff.forms import SearchForm
from staff.views.base import StaffView


class SearchView(StaffView):
    page = "search"

    def get(self, request):
        form = SearchForm(request.GET)
        query = form.cleaned_data["q"] if form.is_valid() else ""
        result = selectors.search(query)
        if result.order_matches is None and result.customer_matches is None and result.unique_order is not None:
            return redirect("staff:order", number=result.unique_order.number)
        if result.unique_customer is not None:
            return redirect("staff:customer", pk=result.unique_customer.pk)
        if exports.wants_csv(request) and result.order_matches is not None:
            return exports.export(request, "search-orders", result.order_matches.queryset(),
                                  exports.ORDER_COLUMNS)
        if exports.wants_csv(request) and result.customer_matches is not None:
            return exports.export(request, "search-customers", result.customer_matches.queryset(), [
                (_("氏名"), lambda c: c.name), (_("メールアドレス"), lambda c: c.email),
                (_("電話番号"), lambda c: c.phone), (_("外部ID"), lambda c: c.external_id)])
        return render(request, "staff/search.html", {
            "form": form, "result": result, "search_query": query,
            "order_page": (selectors.paginate(result.order_matches, request.GET.get("page"))
                           if result.order_matches is not None else None),
            "customer_page": (selectors.paginate(result.customer_matches, request.GET.get("page"))
                              if result.customer_matches is not None else None),
            "limited": len(result.orders) >= selectors.SEARCH_LIMIT,
            "query": selectors.query_without_page(request.GET),
        })
