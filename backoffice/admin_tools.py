"""Small pieces every app's admin uses."""

from django.contrib import admin


class ReadOnlyInline(admin.TabularInline):
    """A history shown inside its parent's page: nothing added, changed or deleted from here."""

    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False
