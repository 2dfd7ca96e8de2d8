"""Input serializers of the fraud endpoints (validation only; services do the writing)."""

from __future__ import annotations

from rest_framework import serializers

from backoffice.api.fields import NumberStringField, StrictBooleanField, StrictCharField


class StorefrontReportIn(serializers.Serializer):
    """The storefront files an order the customer never placed (seed 002)."""

    type = serializers.ChoiceField(choices=["unauthorized_order"])
    customer_external_id = StrictCharField(max_length=64)
    order_numbers = serializers.ListField(child=NumberStringField(max_length=25), min_length=1, max_length=50)
    secure_account = StrictBooleanField(default=False)
    description = StrictCharField(max_length=2000, required=False, allow_blank=True)


class SellerReportIn(serializers.Serializer):
    """A seller reports harassment COD orders (seed 004)."""

    type = serializers.ChoiceField(choices=["cod_harassment"])
    order_number = NumberStringField(max_length=25, required=False)
    description = StrictCharField(max_length=2000)


class LoginEventIn(serializers.Serializer):
    occurred_at = serializers.DateTimeField()
    ip = serializers.IPAddressField()
    user_agent = StrictCharField(max_length=500)
    device_id = StrictCharField(max_length=128)


class PasswordResetIn(serializers.Serializer):
    token = StrictCharField(max_length=200)


class ReportOut(serializers.Serializer):
    id = serializers.IntegerField()
    type = serializers.CharField()
    status = serializers.CharField()
    priority = serializers.CharField()
    order_numbers = serializers.ListField(child=serializers.CharField())
    created_at = serializers.DateTimeField()
    secured = serializers.BooleanField()


class CustomerOut(serializers.Serializer):
    external_id = serializers.CharField()
    session_epoch = serializers.IntegerField()
    suspended = serializers.BooleanField()
    password_reset_required = serializers.BooleanField()
