"""Strict serializer fields: a number where a string belongs (or the reverse) is a 400."""

from __future__ import annotations

from rest_framework import serializers


class StrictCharField(serializers.CharField):
    default_error_messages = {"invalid": "文字列で指定してください。"}

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


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


def validated(serializer_class, data, **kwargs) -> dict:
    """The serializer's validated data, or the API's 400 error body (via the exception handler)."""
    serializer = serializer_class(data=data, **kwargs)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data
