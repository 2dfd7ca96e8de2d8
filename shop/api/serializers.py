"""Input serializers of the shop endpoints (validation only; services do the writing)."""

from __future__ import annotations

from rest_framework import serializers

from backoffice import limits
from backoffice.api.fields import (
    MAX_QUANTITY,
    MAX_STOCK,
    MAX_YEN,
    NumberStringField,
    ReportedTimeField,
    StrictBooleanField,
    StrictCharField,
    StrictIntegerField,
    limit,
)
from shop.models import (
    CancellationReason,
    DestinationType,
    Listing,
    PaymentMethod,
    Shipment,
    ShipmentEvent,
    ShippingSpeed,
)
from shop.tax import STANDARD_RATE, TaxRate


class TaxRateField(StrictIntegerField):
    """``10`` or ``8`` as a JSON integer (API.md: a listing takes ``tax_rate``)."""

    default_error_messages = {"invalid_choice": "税率は 10 または 8 で指定してください。"}

    def to_internal_value(self, data):
        value = super().to_internal_value(data)
        if value not in TaxRate.values:
            self.fail("invalid_choice")
        return value


class CustomerIn(serializers.Serializer):
    external_id = StrictCharField(max_length=64)
    email = serializers.EmailField(max_length=254)
    name = StrictCharField(max_length=100)
    phone = NumberStringField(max_length=20, required=False, allow_blank=True)
    prime = StrictBooleanField(required=False)  # プライム会員: the points rate of a charge (seed 003)


class ItemIn(serializers.Serializer):
    sku = StrictCharField(max_length=64)
    quantity = StrictIntegerField(min_value=1, max_value=MAX_QUANTITY)


class DestinationIn(serializers.Serializer):
    type = serializers.ChoiceField(choices=DestinationType.choices)
    postal_code = NumberStringField(max_length=10, required=False)
    prefecture = StrictCharField(max_length=10, required=False)
    city = StrictCharField(max_length=100, required=False)
    address_line = StrictCharField(max_length=200, required=False)
    recipient_name = StrictCharField(max_length=100, required=False)
    phone = NumberStringField(max_length=20, required=False)
    store_code = NumberStringField(max_length=20, required=False)

    HOME_FIELDS = ("postal_code", "prefecture", "city", "address_line", "recipient_name", "phone")

    def validate(self, attrs):
        needed = self.HOME_FIELDS if attrs["type"] == DestinationType.HOME else ("store_code",)
        for name in needed:
            if not attrs.get(name):
                raise serializers.ValidationError({name: serializers.ErrorDetail("この項目は必須です。", code="required")})
        if attrs["type"] == DestinationType.HOME:
            attrs["prefecture"] = limit(limits.check_prefecture, attrs["prefecture"], "prefecture")
        return attrs


class OrderIn(serializers.Serializer):
    customer = CustomerIn()
    items = serializers.ListField(child=ItemIn(), min_length=1, max_length=100)
    shipping_speed = serializers.ChoiceField(choices=ShippingSpeed.choices)
    destination = DestinationIn()
    payment_method = serializers.ChoiceField(choices=PaymentMethod.choices)
    card_token = StrictCharField(max_length=64, required=False)


class OrderCreated(serializers.Serializer):
    order_number = serializers.CharField()
    status = serializers.CharField()
    total = serializers.IntegerField()
    payment_deadline = serializers.DateTimeField(allow_null=True)
    risk_score = serializers.IntegerField()


class CancelIn(serializers.Serializer):
    reason = serializers.ChoiceField(choices=[CancellationReason.CUSTOMER_REQUEST])


class ListingIn(serializers.Serializer):
    sku = StrictCharField(max_length=64)

    def validate_sku(self, value):
        return limit(limits.check_sku, value)

    title = StrictCharField(max_length=200)
    price = StrictIntegerField(min_value=1, max_value=MAX_YEN)
    stock = StrictIntegerField(min_value=0, max_value=MAX_STOCK)
    fulfilled_by = serializers.ChoiceField(choices=Listing.FulfilledBy.choices)
    digital = StrictBooleanField(default=False)
    tax_rate = TaxRateField(default=STANDARD_RATE)


class ListingPatchIn(serializers.Serializer):
    price = StrictIntegerField(min_value=1, max_value=MAX_YEN, required=False)
    stock = StrictIntegerField(min_value=0, max_value=MAX_STOCK, required=False)
    title = StrictCharField(max_length=200, required=False)
    tax_rate = TaxRateField(required=False)


class ListingOut(serializers.ModelSerializer):
    class Meta:
        model = Listing
        fields = ["sku", "title", "price", "stock", "fulfilled_by", "digital", "tax_rate"]


class SellerSettingsIn(serializers.Serializer):
    accept_cod_self_fulfilled = StrictBooleanField(required=False)
    accept_konbini_self_fulfilled = StrictBooleanField(required=False)


class ShipmentIn(serializers.Serializer):
    carrier = serializers.ChoiceField(choices=Shipment.Carrier.choices)
    tracking_number = NumberStringField(max_length=20)


class CarrierEventIn(serializers.Serializer):
    type = serializers.ChoiceField(choices=ShipmentEvent.Type.choices)
    occurred_at = ReportedTimeField(max_age=limits.CARRIER_EVENT_MAX_AGE)
    location = StrictCharField(max_length=100)
    store_code = NumberStringField(max_length=20, required=False, allow_blank=True)


class GiftCardCreditIn(serializers.Serializer):
    amount = StrictIntegerField(min_value=1, max_value=MAX_YEN)
    reference = StrictCharField(max_length=100)


class ClosureIn(serializers.Serializer):
    confirm_forfeit = StrictBooleanField(required=False, default=False)


class SellerClosureIn(serializers.Serializer):
    phone = NumberStringField(max_length=20)
    comment = StrictCharField(max_length=2000, required=False, allow_blank=True, default="")


class CallbackIn(serializers.Serializer):
    phone = NumberStringField(max_length=20)
    topic = StrictCharField(max_length=200)
    order_number = NumberStringField(max_length=25, required=False)
