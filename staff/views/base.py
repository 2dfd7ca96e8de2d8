"""What every console page shares: staff log-in, Japanese by default, the per-page group check,
the action allow-list (django-oscar's ``OrderDetailView.order_actions``), and the one-time token
every action form carries (``backoffice.formtokens``: a double submit runs the action once)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from urllib.parse import urlencode

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils import translation
from django.utils.translation import gettext as _
from django.views import View

from backoffice import actors, formtokens
from backoffice.actors import Actor
from backoffice.errors import DomainError
from staff import permissions
from staff import services as staff_services


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
    # Fields that tell two forms of this action on one page apart (a checklist item's code): each
    # such form gets a token of its own.
    once_per: tuple[str, ...] = ()
    # Why the action is not available now, in words (issue 17: a refusal always says why).
    why_not: Callable[..., str] | None = None
    # The lines of the confirm page that depend on the ``once_per`` fields (which checklist item):
    # called with the object and the request's values, after ``consequences``.
    item_consequences: Callable[..., list[str]] | None = None


def refusal_words(action: Action, obj) -> str:
    """Why ``action`` cannot run on ``obj`` now: the action's own words, else the state it is in."""
    if action.why_not is not None:
        return action.why_not(obj)
    status = getattr(obj, "get_status_display", None)
    if callable(status):
        return _("「%(action)s」は、現在の状態（%(status)s）では行えません。") % {
            "action": action.label, "status": _(str(status()))}
    return _("現在の状態ではこの操作を行えません。")


def _consequences(action: Action, obj, values: Mapping) -> list[str]:
    lines = list(action.consequences(obj))
    if action.item_consequences is not None:
        lines = action.item_consequences(obj, values) + lines
    return lines


def form_scope(path: str, action: Action, values: Mapping) -> str:
    """The form a one-time token belongs to: the action's URL path (object and action), plus the
    ``once_per`` fields' values."""
    if not action.once_per:
        return path
    return f"{path}?{urlencode([(name, values.get(name, '')) for name in action.once_per])}"


def with_item_tokens(request, check_url: str, action: Action, checklist: list[dict]) -> list[dict]:
    """A checklist page (a report's, a seller closure's): each open item's form carries its own
    one-time token (``Action.once_per``), issued in one statement."""
    scopes = {item["code"]: form_scope(check_url, action, {"code": item["code"]})
              for item in checklist if not item["done"]}
    tokens = formtokens.issue_many(user=request.user, scopes=scopes.values())
    return [{**item, "token": tokens.get(scopes.get(item["code"]), "")} for item in checklist]


class ActionView(StaffView):
    """GET: the confirm step (what will happen, the form). POST: run it through the allow-list.

    Subclasses set ``actions`` (the allow-list), ``get_object`` and ``object_url``. A name not
    in the list is a 404; a group not allowed to run it gets 403; a ``DomainError`` from the
    service is shown on the confirm page with nothing written. The confirm page carries the
    form's one-time token; a submit whose token is spent (a double click, a second tab, a
    resubmit), expired or unknown runs nothing and says so.
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
        values = request.POST if request.method == "POST" else request.GET
        available = action.available(obj)
        return render(request, "staff/confirm.html", {
            "action": action, "object": obj, "object_label": self.object_label(obj),
            "object_url": self.object_url(obj), "form": form, "error": error,
            "consequences": _consequences(action, obj, values) if available else [], "available": available,
            "refusal": "" if available else refusal_words(action, obj),
            "form_token": (formtokens.issue(user=request.user, scope=form_scope(request.path, action, values))
                           if available else ""),
        }, status=error.status if error else status)

    def _refused(self, request, action: Action, obj, error: formtokens.FormTokenRefused):
        """The submit was not run because of its token: say why, link to the object (and, unless
        it was already done, back to a fresh confirm page)."""
        return render(request, "staff/form_refused.html", {
            "action": action, "object_label": self.object_label(obj), "object_url": self.object_url(obj),
            "error": error, "confirm_url": request.path,
        }, status=error.status)

    def get(self, request, **kwargs):
        action, obj, denied = self._resolve(request, kwargs)
        if denied:
            return denied
        initial = {name: request.GET[name] for name in action.once_per if name in request.GET}
        form = action.form_class(initial=initial) if action.form_class else None
        return self._render(request, action, obj, form)

    def post(self, request, **kwargs):
        action, obj, denied = self._resolve(request, kwargs)
        if denied:
            return denied
        form = action.form_class(request.POST, request.FILES) if action.form_class else None
        if form is not None and not form.is_valid():
            return self._render(request, action, obj, form, status=400)
        data = form.cleaned_data if form is not None else {}
        try:
            # The token is spent in the action's own transaction: a refused action keeps it usable.
            with formtokens.once(token=request.POST.get(formtokens.FIELD, ""), user=request.user,
                                 scope=form_scope(request.path, action, request.POST)):
                message = action.run(request, obj, data)
                staff_services.record_activity(user=request.user, action=action.name, obj=obj,
                                               label=self.object_label(obj), url=self.object_url(obj),
                                               summary=message or "")
        except formtokens.FormTokenRefused as exc:
            return self._refused(request, action, obj, exc)
        except DomainError as exc:
            return self._render(request, action, self.get_object(**kwargs), form, error=exc)
        messages.success(request, message or _("完了しました。"))
        return redirect(self.object_url(obj))
