"""Strict serializer fields: a number where a string belongs (or the reverse) is a 400."""

from __future__ import annotations

from datetime import timedelta

from rest_framework import serializers

from backoffice import limits
from backoffice.errors import InvalidInput


class StrictCharField(serializers.CharField):
    """A string; control characters other than tab and line breaks are refused (``limits``)."""

    default_error_messages = {"invalid": "文字列で指定してください。",
                              "invalid_characters": "使用できない制御文字が含まれています。"}

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        if limits.TEXT_CONTROL_CHARACTERS.search(data):
            self.fail("invalid_characters")
        return super().to_internal_value(data)


def limit(check, value, field: str | None = None):
    """Run one of ``backoffice.limits``' checks inside a serializer: its error becomes a field error."""
    try:
        return check(value, field=field) if field else check(value)
    except InvalidInput as exc:
        error = serializers.ErrorDetail(exc.in_japanese(), code=exc.code)
        raise serializers.ValidationError({field: error} if field else error) from None


class ReportedTimeField(serializers.DateTimeField):
    """A time a partner reports (a payment, a carrier scan): within ``max_age`` of now (``limits``)."""

    def __init__(self, *, max_age: timedelta, **kwargs):
        self.max_age = max_age
        super().__init__(**kwargs)

    def to_internal_value(self, value):
        at = super().to_internal_value(value)
        return limit(lambda v: limits.check_time_window(v, field=self.field_name, max_age=self.max_age), at)


class StrictIntegerField(serializers.IntegerField):
    default_error_messages = {"invalid": "整数で指定してください。"}

    def to_internal_value(self, data):
        if isinstance(data, bool) or not isinstance(data, int):
            self.fail("invalid")
        return super().to_internal_value(data)


class StrictBooleanField(serializers.BooleanField):
    default_error_messages = {"invalid": "true または false で指定してください。"}

    def to_internal_value(self, data):
        if not isinstance(data, bool):
            self.fail("invalid")
        return data


class NumberStringField(StrictCharField):
    """A number people type (order, payment, tracking number...): str, or int for convenience."""

    def to_internal_value(self, data):
        if isinstance(data, int) and not isinstance(data, bool):
            data = str(data)
        return super().to_internal_value(data)


# Upper bounds that keep absurd values out (API.md "negative or absurd numbers").
MAX_YEN = 100_000_000
MAX_QUANTITY = 999
MAX_STOCK = 1_000_000


def validated(serializer_class, data) -> dict:
    """The serializer's validated data, or the API's 400 error body (via the exception handler).

    The serializer's fields are built once per class and shared by every request's instance
    (``_bound_fields``): DRF deep-copies a serializer's declared fields for each instance, which
    re-creates every field and nested serializer (about 1 ms of a placement's validation). Sharing
    them is safe for the API's input serializers: validating reads a field's settings and writes
    nothing on it (the data, the errors and the result live on the request's own instance), and
    none of them reads a context, an instance or ``partial`` (the only state a field reaches through
    its parent) — ``validated`` takes no such arguments."""
    serializer = serializer_class(data=data)
    serializer.__dict__["fields"] = _bound_fields(serializer_class)  # the cached_property's slot
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


_templates: dict[type, serializers.Serializer] = {}


def _bound_fields(serializer_class):
    """The fields of one instance of ``serializer_class`` kept for the process (built on first use;
    two threads racing build equal copies and either serves)."""
    template = _templates.get(serializer_class)
    if template is None:
        template = _templates.setdefault(serializer_class, serializer_class())
    return template.fields
