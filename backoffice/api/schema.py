"""drf-spectacular: describe the partner key scheme (imported from BackofficeConfig.ready)."""

from drf_spectacular.extensions import OpenApiAuthenticationExtension


class PartnerKeyScheme(OpenApiAuthenticationExtension):
    target_class = "backoffice.api.auth.PartnerKeyAuthentication"
    name = "PartnerKey"

    def get_security_definition(self, auto_schema):
        return {"type": "http", "scheme": "bearer",
                "description": "パートナーごとのAPIキー（`python manage.py create_partner` で発行）"}


# OpenAPI links (§4.7.10) from `POST /orders` to what a partner does next with the order it made: the
# path's `{number}` is the 201 body's `order_number`, a customer path's `{external_id}` is the request's
# `customer.external_id`. They document the flow, and schemathesis' stateful tests follow them.
ORDER_CREATE_OPERATION = "orders_create"
ORDER_PATH_PREFIX = "/api/v1/orders/{number}"
CUSTOMER_PATH_PREFIX = "/api/v1/customers/{external_id}"
HTTP_METHODS = ("get", "put", "post", "patch", "delete")


def add_order_links(result, generator, request, public):
    """drf-spectacular postprocessing hook: links from the order created to its own endpoints."""
    links = {}
    for path, item in result.get("paths", {}).items():
        if path.startswith(ORDER_PATH_PREFIX):
            parameters = {"number": "$response.body#/order_number"}
        elif path.startswith(CUSTOMER_PATH_PREFIX):
            parameters = {"external_id": "$request.body#/customer/external_id"}
        else:
            continue
        for method in HTTP_METHODS:
            if method in item:
                operation_id = item[method]["operationId"]
                links[operation_id] = {"operationId": operation_id, "parameters": parameters}
    for item in result.get("paths", {}).values():
        for method in HTTP_METHODS:
            operation = item.get(method)
            if operation and operation.get("operationId") == ORDER_CREATE_OPERATION and links:
                operation["responses"]["201"]["links"] = links
    return result
