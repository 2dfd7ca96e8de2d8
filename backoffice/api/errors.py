"""One place that turns every failure into the API.md error body.

``{"code", "message" (Japanese), "field", "reasons"}`` — for domain errors, DRF's validation,
parse, auth and routing errors, and (for /api/ paths) anything that escaped a view.
"""

from __future__ import annotations

import logging

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig
from django.http import Http404, JsonResponse
from rest_framework import exceptions
from rest_framework.response import Response

from backoffice import outages
from backoffice.api.guards import TooDeep, too_large
from backoffice.errors import DomainError, error_body

log = logging.getLogger(__name__)

_GENERIC = {
    TooDeep: ("too_deep", TooDeep.default_detail),
    exceptions.ParseError: ("malformed_json", "JSONの形式が正しくありません。"),
    exceptions.UnsupportedMediaType: ("unsupported_media_type", "Content-Type は application/json を指定してください。"),
    exceptions.NotAuthenticated: ("unauthorized", "APIキーが必要です。"),
    exceptions.AuthenticationFailed: ("unauthorized", "APIキーが無効です。"),
    exceptions.PermissionDenied: ("forbidden", "この操作は許可されていません。"),
    exceptions.NotFound: ("not_found", "見つかりません。"),
    exceptions.MethodNotAllowed: ("method_not_allowed", "このメソッドは使用できません。"),
    exceptions.NotAcceptable: ("not_acceptable", "この形式では応答できません。"),
    exceptions.Throttled: ("throttled", "リクエストが多すぎます。しばらくしてから再度お試しください。"),
}


def _first_validation_error(detail, path: str | None = None) -> tuple[str | None, exceptions.ErrorDetail | str]:
    if isinstance(detail, dict):
        for key, value in detail.items():
            sub = None if key == "non_field_errors" else (f"{path}.{key}" if path else str(key))
            return _first_validation_error(value, sub if sub is not None else path)
    if isinstance(detail, list):
        for index, value in enumerate(detail):
            if isinstance(value, dict | list) and value:
                item_path = f"{path}[{index}]" if path else f"[{index}]"
                return _first_validation_error(value, item_path)
            if value:
                return path, value
    return path, detail


def _validation_body(exc: exceptions.ValidationError) -> dict:
    field, error = _first_validation_error(exc.detail)
    code = getattr(error, "code", None) or "invalid"
    if code in {"invalid", "required", "null", "blank"} or not isinstance(code, str):
        code = {"required": "required", "null": "required", "blank": "required"}.get(code, "invalid")
    message = str(error)
    if field:
        message = f"{field}: {message}"
    return error_body(code, message, field)


def exception_handler(exc, context):
    if isinstance(exc, DomainError):
        response = Response(exc.as_body(), status=exc.status)
        for name, value in exc.headers.items():
            response[name] = value
        return response
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()
    if isinstance(exc, exceptions.ValidationError):
        return Response(_validation_body(exc), status=400)
    if isinstance(exc, exceptions.APIException):
        code, message = next(
            (v for k, v in _GENERIC.items() if isinstance(exc, k)), ("error", str(exc.detail))
        )
        response = Response(error_body(code, message), status=exc.status_code)
        if isinstance(exc, exceptions.NotAuthenticated | exceptions.AuthenticationFailed):
            response.status_code = 401
            response["WWW-Authenticate"] = "Bearer"
        if getattr(exc, "wait", None):
            response["Retry-After"] = str(int(exc.wait))
        return response
    return None


def api_not_found(request, exception=None):
    if request.path.startswith("/api/"):
        return JsonResponse(error_body("not_found", "見つかりません。"), status=404)
    from django.views.defaults import page_not_found

    return page_not_found(request, exception)


class ApiExceptionMiddleware:
    """Last line of defence for /api/: an unexpected exception is logged and answered with the
    error body (status 500, code ``internal_error``) instead of an HTML page. A dependency that is
    down (``backoffice.outages``) is a 503 with ``Retry-After`` on every path."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        dependency = outages.kind(exception)
        if dependency is not None:  # the database, broker or cache is down: 503, on every path
            return outages.response(request, exception, dependency)
        if not request.path.startswith("/api/"):
            return None
        if isinstance(exception, DomainError):
            return JsonResponse(exception.as_body(), status=exception.status, headers=exception.headers)
        if isinstance(exception, RequestDataTooBig):
            return too_large(request)
        log.exception("unhandled error on %s", request.path)
        return JsonResponse(
            error_body("internal_error", "システムエラーが発生しました。時間をおいて再度お試しください。"), status=500
        )
