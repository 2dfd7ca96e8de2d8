"""Shop endpoints of the partner API (API.md "Seller" and "Storefront"). One class per
operation: validate → check the partner's scope → call one service."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from backoffice import outages
from backoffice.actors import Actor
from backoffice.api.fields import validated
from backoffice.api.idempotency import idempotent
from backoffice.errors import DomainError, NotFound
from backoffice.models import Partner
from payments.services import giftcards
from shop import scopes, selectors
from shop.api import serializers as s
from shop.models import OrderStatus
from shop.services import catalog, customers, orders, shipments

K = Partner.Kind



def order_response(number: str, *, partner: Partner, status: int = 200) -> Response:
    """The order resource as this partner sees it (``scopes.as_seen_by``; the auth number only for
    the storefront), or 404 when the partner is not party to it."""
    found = selectors.order_resource(orders.format_order_number(number), with_auth_number=partner.kind == K.STOREFRONT)
    if found is None:
        raise NotFound("注文が見つかりません。", code="order_not_found")
    loaded, document = found
    if not scopes.is_party_to(partner, fulfilling_seller_id=loaded.fulfilling_seller_id,
                              line_seller_ids=loaded.line_seller_ids):
        raise NotFound("注文が見つかりません。", code="order_not_found")
    return Response(scopes.as_seen_by(partner, document, fulfilling_seller_id=loaded.fulfilling_seller_id,
                                      line_seller_ids=loaded.line_seller_ids), status=status)


class OrderCreateView(APIView):
    partner_kinds = {K.STOREFRONT}

    @extend_schema(request=s.OrderIn, responses={201: s.OrderCreated})
    def post(self, request):
        # atomic=False: placement commits before the card is captured (orders.place).
        return idempotent(request, "orders.create", lambda claim: self._place(request, claim), atomic=False,
                          resume=lambda claim: self._resume(request, claim))

    def _place(self, request, claim):
        data = validated(s.OrderIn, request.data)
        order = orders.place(
            customer_data=dict(data["customer"]), items=[dict(i) for i in data["items"]],
            shipping_speed=data["shipping_speed"], destination=orders.Destination(**data["destination"]),
            payment_method=data["payment_method"], card_token=data.get("card_token"),
            actor=Actor.partner(request.auth), on_opened=lambda opened: claim({"order_number": opened.number}),
        )
        return self._created(order)

    @staticmethod
    def _created(order):
        deadline = order.payment.deadline
        return Response({"order_number": order.number, "status": order.status, "total": order.total,
                         "payment_deadline": selectors._iso(deadline), "risk_score": order.risk_score}, status=201)

    def _resume(self, request, claim: dict):
        """The retry of a placement whose answer was lost after its transaction 1 committed: the
        order it placed answers (201, as the first attempt would have), unless that order kept
        nothing (cancelled before any capture: place afresh). A capture still in flight, or a
        placement that died between its transactions (swept by ``card_orders_abandoned``), is a
        503 to retry later — never a second charge."""
        order = scopes.order_for(request.auth, claim["order_number"])
        payment = order.payment
        if order.status == OrderStatus.CANCELLED and not payment.captured_amount:
            return None
        if order.status == OrderStatus.PENDING_PAYMENT:
            raise DomainError(outages.MESSAGE, code=outages.CODE, status=503,
                              headers={"Retry-After": str(outages.RETRY_AFTER_SECONDS)})
        return self._created(order)


class OrderDetailView(APIView):
    partner_kinds = {K.STOREFRONT, K.SELLER, K.WAREHOUSE}

    @extend_schema(responses={200: dict})
    def get(self, request, number):
        return order_response(number, partner=request.auth)


class OrderCancelView(APIView):
    partner_kinds = {K.STOREFRONT}

    @extend_schema(request=s.CancelIn, responses={200: dict})
    def post(self, request, number):
        data = validated(s.CancelIn, request.data)
        order = scopes.order_for(request.auth, number)
        orders.cancel(order, reason=data["reason"], actor=Actor.partner(request.auth))
        return order_response(order.number, partner=request.auth)


class ShipmentCreateView(APIView):
    partner_kinds = {K.SELLER, K.WAREHOUSE}

    @extend_schema(request=s.ShipmentIn, responses={201: dict})
    def post(self, request, number):
        data = validated(s.ShipmentIn, request.data)
        partner = request.auth
        order = scopes.order_for(partner, number)
        shipments.register(order=order, carrier=data["carrier"], tracking_number=data["tracking_number"],
                           actor=Actor.partner(partner),
                           shipper_seller_id=partner.seller_id if partner.kind == K.SELLER else None)
        return order_response(order.number, partner=partner, status=201)


class CarrierEventView(APIView):
    partner_kinds = {K.CARRIER}

    @extend_schema(request=s.CarrierEventIn, responses={201: dict})
    def post(self, request, tracking_number):
        shipment = scopes.shipment_for(request.auth, tracking_number)
        data = validated(s.CarrierEventIn, request.data)
        event, created = shipments.record_event(
            shipment=shipment, type=data["type"], occurred_at=data["occurred_at"], location=data["location"],
            store_code=data.get("store_code", ""), actor=Actor.partner(request.auth),
        )
        return Response({"tracking_number": shipment.tracking_number, "type": event.type,
                         "occurred_at": selectors._iso(event.occurred_at), "duplicate": not created,
                         "order_status": selectors.order_status(shipment.order_id)}, status=201)


# --- seller ---------------------------------------------------------------------------------

class ListingCreateView(APIView):
    partner_kinds = {K.SELLER}

    @extend_schema(request=s.ListingIn, responses={201: s.ListingOut})
    def post(self, request):
        data = validated(s.ListingIn, request.data)
        listing = catalog.create_listing(seller=request.auth.seller, **data)
        return Response(s.ListingOut(listing).data, status=201)


class ListingUpdateView(APIView):
    partner_kinds = {K.SELLER}

    @extend_schema(request=s.ListingPatchIn, responses={200: s.ListingOut})
    def patch(self, request, sku):
        data = validated(s.ListingPatchIn, request.data)
        listing = catalog.update_listing(seller=request.auth.seller, sku=sku, changes=dict(data))
        return Response(s.ListingOut(listing).data)


class SellerSettingsView(APIView):
    partner_kinds = {K.SELLER}

    def _out(self, seller):
        return {"accept_cod_self_fulfilled": seller.accept_cod_self_fulfilled,
                "accept_konbini_self_fulfilled": seller.accept_konbini_self_fulfilled}

    @extend_schema(responses={200: s.SellerSettingsIn})
    def get(self, request):
        return Response(self._out(request.auth.seller))

    @extend_schema(request=s.SellerSettingsIn, responses={200: s.SellerSettingsIn})
    def patch(self, request):
        data = validated(s.SellerSettingsIn, request.data)
        seller = catalog.update_seller_settings(seller=request.auth.seller, changes=dict(data))
        return Response(self._out(seller))


class SellerOrdersView(APIView):
    partner_kinds = {K.SELLER}

    @extend_schema(responses={200: dict})
    def get(self, request):
        from rest_framework.pagination import PageNumberPagination

        qs = scopes.orders_for_partner(request.auth).order_by("-placed_at", "-id")
        paginator = PageNumberPagination()
        page = paginator.paginate_queryset(qs, request, view=self)
        return paginator.get_paginated_response([selectors.order_summary(o) for o in page])


# --- storefront: customers ------------------------------------------------------------------

class CustomerOrdersView(APIView):
    partner_kinds = {K.STOREFRONT}

    @extend_schema(responses={200: dict})
    def get(self, request, external_id):
        from rest_framework.pagination import PageNumberPagination

        customer = scopes.customer_for(request.auth, external_id)
        paginator = PageNumberPagination()
        page = paginator.paginate_queryset(orders.customer_order_history(customer), request, view=self)
        return paginator.get_paginated_response([selectors.order_summary(o) for o in page])


class CustomerMessagesView(APIView):
    partner_kinds = {K.STOREFRONT}

    @extend_schema(responses={200: dict})
    def get(self, request, external_id):
        from rest_framework.pagination import PageNumberPagination

        customer = scopes.customer_for(request.auth, external_id)
        qs = customer.messages.select_related("order").order_by("-created_at", "-id")
        paginator = PageNumberPagination()
        page = paginator.paginate_queryset(qs, request, view=self)
        return paginator.get_paginated_response([
            {"kind": m.kind, "subject": m.subject, "body": m.body, "created_at": selectors._iso(m.created_at),
             "order_number": m.order.number if m.order else None} for m in page
        ])


def gift_card_representation(customer) -> dict:
    account = giftcards.account_for(customer)
    entries = account.entries.select_related("order").order_by("-created_at", "-id")[:200]
    return {"balance": account.balance, "frozen": account.frozen, "entries": [
        {"kind": e.kind, "amount": e.amount, "reference": e.reference, "created_at": selectors._iso(e.created_at),
         "order_number": e.order.number if e.order else None} for e in entries]}


class GiftCardView(APIView):
    partner_kinds = {K.STOREFRONT}

    @extend_schema(responses={200: dict})
    def get(self, request, external_id):
        return Response(gift_card_representation(scopes.customer_for(request.auth, external_id)))


class GiftCardCreditView(APIView):
    partner_kinds = {K.STOREFRONT}

    @extend_schema(request=s.GiftCardCreditIn, responses={201: dict})
    def post(self, request, external_id):
        customer = scopes.customer_for(request.auth, external_id)
        data = validated(s.GiftCardCreditIn, request.data)
        giftcards.redeem(customer=customer, amount=data["amount"], reference=data["reference"])
        return Response(gift_card_representation(customer), status=201)


class CallbackRequestView(APIView):
    partner_kinds = {K.STOREFRONT}

    @extend_schema(request=s.CallbackIn, responses={201: dict})
    def post(self, request, external_id):
        customer = scopes.customer_for(request.auth, external_id)
        data = validated(s.CallbackIn, request.data)
        order = None
        if data.get("order_number"):
            order = orders.get_customer_order(data["order_number"], customer, field="order_number")
        cb = customers.request_callback(customer=customer, phone=data["phone"], topic=data["topic"], order=order)
        return Response({"id": cb.pk, "phone": cb.phone, "topic": cb.topic, "status": cb.status,
                         "order_number": order.number if order else None,
                         "created_at": selectors._iso(cb.created_at)}, status=201)


_ = serializers  # re-exported for schema helpers
