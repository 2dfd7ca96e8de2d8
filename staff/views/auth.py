"""Log-in and log-out at /staff/login/ (Django auth, staff only)."""

from __future__ import annotations

from django.contrib.auth import views as auth_views
from django.urls import reverse_lazy

from staff.forms import StaffAuthenticationForm
from staff.views.base import activate_console_language


class LoginView(auth_views.LoginView):
    template_name = "staff/login.html"
    authentication_form = StaffAuthenticationForm
    redirect_authenticated_user = False
    next_page = reverse_lazy("staff:dashboard")

    def dispatch(self, request, *args, **kwargs):
        activate_console_language(request)
        return super().dispatch(request, *args, **kwargs)


class LogoutView(auth_views.LogoutView):
    next_page = reverse_lazy("staff:login")
