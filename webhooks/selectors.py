"""Reads of webhooks/ for the staff console and the admin."""

from __future__ import annotations

from django.db.models import Case, IntegerField, Q, QuerySet, Value, When

from webhooks.models import Delivery, Endpoint

# An endpoint is failing while its breaker counts failures, or once it has been disabled.
FAILING = Q(failures_in_a_row__gt=0) | Q(disabled_at__isnull=False)


def endpoints() -> QuerySet[Endpoint]:
    """Every live endpoint, failing ones first (disabled, then most failures), then by partner."""
    return (Endpoint.objects.filter(deleted_at__isnull=True).select_related("partner")
            .annotate(failing_rank=Case(When(disabled_at__isnull=False, then=Value(0)),
                                        When(failures_in_a_row__gt=0, then=Value(1)), default=Value(2),
                                        output_field=IntegerField()))
            .order_by("failing_rank", "-failures_in_a_row", "partner__name", "pk"))


def failing_endpoints() -> QuerySet[Endpoint]:
    return Endpoint.objects.filter(FAILING, deleted_at__isnull=True)


def endpoint(pk: int) -> Endpoint | None:
    return Endpoint.objects.select_related("partner").filter(pk=pk).first()


def failed_first(deliveries: QuerySet[Delivery]) -> QuerySet[Delivery]:
    """Failed first, then pending, then delivered; newest first in each."""
    return (deliveries.annotate(status_rank=Case(When(status=Delivery.Status.FAILED, then=Value(0)),
                                                 When(status=Delivery.Status.PENDING, then=Value(1)), default=Value(2),
                                                 output_field=IntegerField()))
            .order_by("status_rank", "-created_at", "-id"))


def deliveries(endpoint: Endpoint) -> QuerySet[Delivery]:
    """The endpoint's deliveries, failed first (``failed_first``)."""
    return failed_first(Delivery.objects.filter(endpoint=endpoint).select_related("event"))


def delivery(pk: int) -> Delivery | None:
    return Delivery.objects.select_related("event", "endpoint__partner").filter(pk=pk).first()
