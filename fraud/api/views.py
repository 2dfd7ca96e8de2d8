"""Fraud endpoints of the partner API (API.md): reports from the storefront and sellers,
login events, the customer's security state. One class per operation: validate → scope →
one service call. Partners can write login events but never read them (staff only)."""

from __future__ import annotations

from drf_spectacular.utils import PolymorphicProxySerializer, extend_schema
from rest_framework.response import Response
from rest_framework.views import APIView

from backoffice.api.fields import validated
from backoffice.api.idempotency import idempotent
from backoffice.models import Partner
from fraud.api import serializers as s
from fraud.models import Report
from fraud.services import accounts, logins, playbook, reports
from shop import scopes, selectors
from shop.services import orders

K = Partner.Kind



def report_representation(report: Report) -> dict:
    return {
        "id": report.pk, "type": report.type, "status": report.status,
        "priority": "high" if report.is_high_priority else "normal",
        "order_numbers": sorted(report.orders.values_list("number", flat=True)),
        "created_at": selectors._iso(report.created_at), "secured": report.secured_at is not None,
    }


class ReportCreateView(APIView):
    """``POST /fraud/reports``: the storefront (unauthorized order) or a seller (COD harassment)."""

    partner_kinds = {K.STOREFRONT, K.SELLER}

    @extend_schema(
        request=PolymorphicProxySerializer(
            component_name="FraudReportIn", resource_type_field_name="type",
            serializers={"unauthorized_order": s.StorefrontReportIn, "cod_harassment": s.SellerReportIn},
        ),
        responses={201: s.ReportOut},
    )
    def post(self, request):
        return idempotent(request, "fraud.reports.create", lambda: self._file(request))

    def _file(self, request):
        partner = request.auth
        actor = f"{partner.kind}:{partner.name}"
        if partner.kind == K.SELLER:
            data = validated(s.SellerReportIn, request.data)
            found = []
            if data.get("order_number"):
                # Only an order the seller is party to; any other is "not found" (no leak).
                found = [scopes.order_for(partner, data["order_number"], field="order_number")]
            report = reports.open_report(type=data["type"], orders=found, seller=partner.seller,
                                         description=data["description"], actor=actor)
        else:
            data = validated(s.StorefrontReportIn, request.data)
            customer = scopes.customer_for(partner, data["customer_external_id"], field="customer_external_id")
            found = []
            for number in data["order_numbers"]:
                found.append(orders.get_customer_order(number, customer, field="order_numbers"))
            report = playbook.report_unauthorized_order(
                customer=customer, orders=found, secure_account=data["secure_account"],
                description=data.get("description", ""), actor=actor,
            )
        report.refresh_from_db()
        return Response(report_representation(report), status=201)


class LoginEventCreateView(APIView):
    """``POST /customers/{external_id}/login-events`` → 201 ``{new_device}``. Write-only."""

    partner_kinds = {K.STOREFRONT}

    @extend_schema(request=s.LoginEventIn, responses={201: dict})
    def post(self, request, external_id):
        customer = scopes.customer_for(request.auth, external_id)
        data = validated(s.LoginEventIn, request.data)
        event = logins.record_login(customer=customer, **data)
        return Response({"new_device": event.new_device, "occurred_at": selectors._iso(event.occurred_at)},
                        status=201)


def customer_representation(customer) -> dict:
    return {"external_id": customer.external_id, "session_epoch": customer.session_epoch,
            "suspended": customer.suspended, "password_reset_required": accounts.password_reset_required(customer)}


class CustomerView(APIView):
    """``GET /customers/{external_id}``: what the storefront checks on every session."""

    partner_kinds = {K.STOREFRONT}

    @extend_schema(responses={200: s.CustomerOut})
    def get(self, request, external_id):
        return Response(customer_representation(scopes.customer_for(request.auth, external_id)))


class PasswordResetView(APIView):
    """``POST /customers/{external_id}/password-reset`` ``{token}``: redeem the single-use link."""

    partner_kinds = {K.STOREFRONT}

    @extend_schema(request=s.PasswordResetIn, responses={200: s.CustomerOut})
    def post(self, request, external_id):
        customer = scopes.customer_for(request.auth, external_id)
        data = validated(s.PasswordResetIn, request.data)
        accounts.redeem_password_reset(customer, data["token"])
        return Response(customer_representation(customer))
