"""Webhooks in the admin: read-only (the secrets never shown); redelivery and re-enabling are the
staff console's confirm pages (one-time tokens), linked from here."""

from django.contrib import admin
from django.urls import reverse
from django.utils.html import format_html

from backoffice.admin_tools import ReadOnlyAdmin
from webhooks import selectors
from webhooks.models import Delivery, Endpoint, Event


@admin.register(Endpoint)
class EndpointAdmin(ReadOnlyAdmin):
    list_display = ("id", "partner", "url", "event_types", "active", "failures_in_a_row", "failing_since",
                    "disabled_at", "console")
    list_filter = ("active", ("disabled_at", admin.EmptyFieldListFilter), "partner__kind")
    search_fields = ("url", "partner__name")
    exclude = ("secret", "previous_secret")
    readonly_fields = ("partner", "url", "event_types", "contact_email", "previous_secret_until", "active", "created_at",
                       "deleted_at", "failures_in_a_row", "failing_since", "paused_until", "disabled_at",
                       "disabled_reason", "console")
    ordering = ("-failures_in_a_row", "id")

    @admin.display(description="スタッフコンソール")
    def console(self, obj):
        return format_html('<a href="{}">配信・再送・再開</a>', reverse("staff:webhook_endpoint", args=[obj.pk]))


@admin.register(Delivery)
class DeliveryAdmin(ReadOnlyAdmin):
    list_display = ("id", "event", "endpoint", "status", "attempts", "last_response_status", "next_attempt_at",
                    "created_at")
    list_filter = ("status", "event__type")
    search_fields = ("event__public_id", "endpoint__url")
    readonly_fields = ("event", "endpoint", "status", "attempts", "created_at", "window_started_at", "next_attempt_at",
                       "last_attempt_at", "delivered_at", "last_response_status", "last_error", "request_excerpt",
                       "response_excerpt", "body")
    list_select_related = ("event", "endpoint")

    def get_queryset(self, request):
        return selectors.failed_first(super().get_queryset(request))


@admin.register(Event)
class EventAdmin(ReadOnlyAdmin):
    list_display = ("public_id", "type", "resource", "sequence", "created_at", "fanned_out_at")
    list_filter = ("type",)
    search_fields = ("public_id", "resource")
    readonly_fields = ("public_id", "type", "resource", "sequence", "order", "refund", "payment_code", "endpoint",
                       "created_at", "fanned_out_at")
    ordering = ("-id",)
