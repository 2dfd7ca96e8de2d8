"""Small pieces every app's admin uses."""

from __future__ import annotations

from collections.abc import Callable, Iterable

from django.contrib import admin, messages

from backoffice.errors import DomainError


class ReadOnlyInline(admin.TabularInline):
    """A history shown inside its parent's page: nothing added, changed or deleted from here."""

    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class ReadOnlyAdmin(admin.ModelAdmin):
    """Records written only by services: staff look and act through actions.

    No form adds, changes or deletes anything. Actions declare ``permissions=["operate"]``: they
    need the model's change permission (finance, superusers), which no longer opens a form."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def has_operate_permission(self, request) -> bool:
        """Actions need the model's change permission (finance, superusers), though no form edits."""
        return request.user.has_perm(f"{self.opts.app_label}.change_{self.opts.model_name}")


def run_each(modeladmin: admin.ModelAdmin, request, objects: Iterable, action: Callable, done: str) -> None:
    """Apply ``action`` to each object; a DomainError is reported for that object and the rest
    go on. ``done`` completes the success message after the count (「N件{done}」)."""
    ok = 0
    for obj in objects:
        try:
            action(obj)
            ok += 1
        except DomainError as exc:
            modeladmin.message_user(request, f"{obj}: {exc.message}", messages.ERROR)
    if ok:
        modeladmin.message_user(request, f"{ok}件{done}", messages.SUCCESS)
