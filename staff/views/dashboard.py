"""The dashboard: what needs a person now."""

from __future__ import annotations

from django.shortcuts import render

from staff import selectors
from staff.views.base import StaffView


class DashboardView(StaffView):
    page = "dashboard"

    def get(self, request):
        return render(request, "staff/dashboard.html", selectors.dashboard(request.user))
