"""What every console page shares: staff log-in, Japanese by default, the per-page group check,
and the action allow-list (django-oscar's ``OrderDetailView.order_actions``)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils import translation
from django.utils.translation import gettext as _
from django.views import View

from backoffice import actors
from backoffice.actors import Actor
from backoffice.errors import DomainError
from staff import permissions


def activate_console_language(request) -> None:
    """Japanese unless the agent chose another language with the switch (/i18n/setlang/);
    the browser's Accept-Language does not decide for them."""
    if settings.LANGUAGE_COOKIE_NAME not in request.COOKIES:
        translation.activate(settings.LANGUAGE_CODE)
        request.LANGUAGE_CODE = settings.LANGUAGE_CODE


def actor_of(request) -> Actor:
    """The console user as the actor of what they do (the admin's actions use the same)."""
    return actors.of_request(request)


def forbidden(request) -> HttpResponse:
    return render(request, "staff/403.html", status=403)


class StaffView(View):
    """A console page: logged-in staff whose group may open ``page``."""

    page: str = ""

    def dispatch(self, request, *args, **kwargs):
        activate_console_language(request)
        user = request.user
        if not user.is_authenticated or not user.is_staff:
            return redirect_to_login(request.get_full_path())
        if not permissions.can_view(user, self.page):
            return forbidden(request)
        request.staff_page = self.page
        return super().dispatch(request, *args, **kwargs)


@dataclass(frozen=True)
class Action:
    """One state-changing operation a page offers. ``run`` calls a service and returns the
    success message; ``consequences`` says, before the agent confirms, what will happen."""

    name: str  # a key of permissions.ACTIONS
    label: str
    run: Callable[..., str]
    consequences: Callable[..., list[str]] = lambda obj: []
    form_class: type[forms.Form] | None = None
    available: Callable[..., bool] = lambda obj: True
    danger: bool = False
    extra: dict = field(default_factory=dict)


class ActionView(StaffView):
    """GET: the confirm step (what will happen, the form). POST: run it through the allow-list.

    Subclasses set ``actions`` (the allow-list), ``get_object`` and ``object_url``. A name not
    in the list is a 404; a group not allowed to run it gets 403; a ``DomainError`` from the
    service is shown on the confirm page with nothing written.
    """

    actions: dict[str, Action] = {}

    def get_object(self, **kwargs):
        raise NotImplementedError

    def object_url(self, obj) -> str:
        raise NotImplementedError

    def object_label(self, obj) -> str:
        return str(obj)

    def _resolve(self, request, kwargs):
        action = self.actions.get(kwargs["action"])
        if action is None:
            raise Http404
        if not permissions.can_run(request.user, action.name):
            return action, None, forbidden(request)
        return action, self.get_object(**kwargs), None

    def _render(self, request, action: Action, obj, form, error: DomainError | None = None, status: int = 200):
        return render(request, "staff/confirm.html", {
            "action": action, "object": obj, "object_label": self.object_label(obj),
            "object_url": self.object_url(obj), "form": form, "error": error,
            "consequences": action.consequences(obj), "available": action.available(obj),
        }, status=error.status if error else status)

    def get(self, request, **kwargs):
        action, obj, denied = self._resolve(request, kwargs)
        if denied:
            return denied
        form = action.form_class() if action.form_class else None
        return self._render(request, action, obj, form)

    def post(self, request, **kwargs):
        action, obj, denied = self._resolve(request, kwargs)
        if denied:
            return denied
        form = action.form_class(request.POST) if action.form_class else None
        if form is not None and not form.is_valid():
            return self._render(request, action, obj, form, status=400)
        data = form.cleaned_data if form is not None else {}
        try:
            message = action.run(request, obj, data)
        except DomainError as exc:
            return self._render(request, action, self.get_object(**kwargs), form, error=exc)
        messages.success(request, message or _("完了しました。"))
        return redirect(self.object_url(obj))
