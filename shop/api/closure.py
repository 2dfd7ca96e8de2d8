"""Account closure endpoints (API.md "Account closure", seed 003): the customer's closure check and
closure (storefront), a seller's closure request (seller). One class per operation."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework.response import Response
from rest_framework.views import APIView

from backoffice.actors import Actor
from backoffice.api.fields import validated
from backoffice.models import Partner
from shop import scopes, selectors
from shop.api import serializers as s
from shop.models import CustomerClosure, SellerClosureRequest
from shop.services import closure, seller_closure

K = Partner.Kind


def check_representation(plan: closure.ClosureCheck) -> dict:
    return {
        "can_close": plan.can_close,
        "blockers": [{"code": b.code, "message": b.message, "order_numbers": b.order_numbers} for b in plan.blockers],
        "forfeits": {"gift_card_balance": plan.gift_card_balance, "points": plan.points},
        "warnings": [{"code": w.code, "message": w.message} for w in plan.warnings],
    }


def closure_representation(done: CustomerClosure) -> dict:
    return {"external_id": done.customer.external_id, "closed": True, "closed_at": selectors._iso(done.closed_at),
            "forfeited": {"gift_card_balance": done.forfeited_gift_card, "points": done.forfeited_points},
            "books_retained_until": done.books_retained_until.isoformat()}


class ClosureCheckView(APIView):
    """``GET /customers/{external_id}/closure-check`` → ``{can_close, blockers, forfeits, warnings}``."""

    partner_kinds = {K.STOREFRONT}

    @extend_schema(responses={200: dict})
    def get(self, request, external_id):
        return Response(check_representation(closure.check(scopes.customer_for(request.auth, external_id))))


class ClosureView(APIView):
    """``POST /customers/{external_id}/closure`` ``{confirm_forfeit: true}`` → 200."""

    partner_kinds = {K.STOREFRONT}

    @extend_schema(request=s.ClosureIn, responses={200: dict})
    def post(self, request, external_id):
        customer = scopes.customer_for(request.auth, external_id)
        data = validated(s.ClosureIn, request.data)
        done = closure.close(customer, confirm_forfeit=data["confirm_forfeit"],
                             actor=Actor.partner(request.auth))
        return Response(closure_representation(done))


def seller_request_representation(req: SellerClosureRequest, blockers: list[seller_closure.Blocker]) -> dict:
    return {"id": req.pk, "status": req.status, "created_at": selectors._iso(req.created_at),
            "blockers": [{"code": b.code, "message": b.message, "count": b.count} for b in blockers]}


class SellerClosureRequestView(APIView):
    """``POST /seller/closure-requests`` ``{phone, comment}`` → 201 ``{id, status, blockers}``."""

    partner_kinds = {K.SELLER}

    @extend_schema(request=s.SellerClosureIn, responses={201: dict})
    def post(self, request):
        data = validated(s.SellerClosureIn, request.data)
        req = seller_closure.request_closure(seller=request.auth.seller, phone=data["phone"],
                                             comment=data["comment"], actor=Actor.partner(request.auth))
        return Response(seller_request_representation(req, seller_closure.blockers(request.auth.seller)), status=201)
