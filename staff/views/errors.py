"""Friendly error pages for people (issue 17): Japanese by default, no DEBUG hint, a way back.
The partner API keeps its JSON error bodies (``backoffice.api.errors``)."""

from __future__ import annotations

import sys

from django.http import HttpResponse
from django.shortcuts import render

from backoffice import outages
from backoffice.api.errors import api_not_found
from staff.views.base import activate_console_language


def not_found(request, exception=None) -> HttpResponse:
    if request.path.startswith("/api/"):
        return api_not_found(request, exception)
    activate_console_language(request)
    return render(request, "staff/404.html", status=404)


def permission_denied(request, exception=None) -> HttpResponse:
    activate_console_language(request)
    return render(request, "staff/403.html", status=403)


def csrf_failure(request, reason: str = "") -> HttpResponse:
    """A stale page (the session or the CSRF cookie changed since it was opened): say so and
    offer to reload it, instead of Django's developer page."""
    activate_console_language(request)
    return render(request, "staff/csrf_failed.html", {"back": request.META.get("HTTP_REFERER", "")}, status=403)


def server_error(request) -> HttpResponse:
    """``handler500``: a dependency outage is a 503 and an API error JSON (``backoffice.outages``);
    anything else on a console page the console's own 500 page."""
    if request.path.startswith("/api/") or outages.kind(sys.exc_info()[1]) is not None:
        return outages.server_error(request)
    activate_console_language(request)
    return render(request, "staff/500.html", status=500)
