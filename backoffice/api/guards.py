"""Hostile-input guards that run before any view (issue 12; limits in ``backoffice.limits``).

- A body larger than ``MAX_BODY_BYTES`` is 413 ``payload_too_large`` before it is read (the
  declared length), or when Django finds it too big while reading (``RequestDataTooBig``).
- A NUL or another control character in the path or in a header is 400 ``invalid_characters``;
  an overlong path segment is 400 ``invalid_path``. Neither ever reaches the database, whose
  driver refuses NUL in a string with an exception (a 500 before this guard).
- JSON nested deeper than ``MAX_JSON_DEPTH`` is 400 ``too_deep`` (``BoundedJSONParser``), and a
  document so deep that the parser itself gives up is the same 400, not a ``RecursionError``.

On ``/api/`` the answer is the API's error body; elsewhere (staff pages, admin) a plain 400/413.
"""

from __future__ import annotations

import codecs
import json
from urllib.parse import unquote

from django.http import HttpResponse, JsonResponse
from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser

from backoffice import limits
from backoffice.errors import error_body

_TOO_LARGE = ("payload_too_large", f"リクエストが大きすぎます（上限 {limits.MAX_BODY_BYTES // 1024} KB）。")
_BAD_CHARACTERS = ("invalid_characters", "パスまたはヘッダーに使用できない制御文字が含まれています。")
_BAD_PATH = ("invalid_path", "パスが長すぎます。")


def _refuse(request, status: int, code: str, message: str, field: str | None = None):
    if request.path_info.startswith("/api/"):
        return JsonResponse(error_body(code, message, field), status=status)
    return HttpResponse(message, status=status, content_type="text/plain; charset=utf-8")


def _declared_length(meta) -> int:
    try:
        return int(meta.get("CONTENT_LENGTH") or 0)
    except (TypeError, ValueError):
        return 0


def refusal(request):
    """The guard's answer for this request, or None when it may go on."""
    meta = request.META
    raw_path, query = meta.get("PATH_INFO", ""), meta.get("QUERY_STRING", "")
    path = unquote(raw_path) if "%" in raw_path else raw_path
    if limits.CONTROL_CHARACTERS.search(path) or limits.CONTROL_CHARACTERS.search(unquote(query)):
        return _refuse(request, 400, *_BAD_CHARACTERS, field="path")
    if any(len(segment) > limits.MAX_PATH_SEGMENT_LENGTH for segment in path.split("/")):
        return _refuse(request, 400, *_BAD_PATH, field="path")
    for name, value in meta.items():
        if name.startswith("HTTP_") and isinstance(value, str) and limits.HEADER_CONTROL_CHARACTERS.search(value):
            header = name[5:].replace("_", "-").title()
            return _refuse(request, 400, *_BAD_CHARACTERS, field=header)
    limit = limits.MAX_UPLOAD_BYTES if path in limits.LARGE_UPLOAD_PATHS else limits.MAX_BODY_BYTES
    if _declared_length(meta) > limit:
        return too_large(request)
    return None


def too_large(request):
    """The 413 answer, also for a body Django finds too big while reading it (``RequestDataTooBig``)."""
    return _refuse(request, 413, *_TOO_LARGE)


class InputGuardMiddleware:
    """First middleware after SecurityMiddleware: refuse hostile requests before anything reads them."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return refusal(request) or self.get_response(request)


def depth_of(value) -> int:
    """How deeply ``value`` nests lists and objects (a scalar is 0), without recursion."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            children = item.values()
        elif isinstance(item, list):
            children = item
        else:
            continue
        deepest = max(deepest, depth)
        if deepest > limits.MAX_JSON_DEPTH:
            return deepest
        stack.extend((child, depth + 1) for child in children)
    return deepest


class TooDeep(ParseError):
    default_code = "too_deep"
    default_detail = f"JSONの入れ子が深すぎます（上限 {limits.MAX_JSON_DEPTH} 階層）。"


class BoundedJSONParser(JSONParser):
    """DRF's JSON parser with a nesting limit; a parser-level recursion failure is a 400 too."""

    def parse(self, stream, media_type=None, parser_context=None):
        parser_context = parser_context or {}
        encoding = parser_context.get("encoding", "utf-8")
        try:
            data = json.load(codecs.getreader(encoding)(stream), parse_constant=_refuse_constant)
        except RecursionError:
            raise TooDeep() from None
        except ValueError as exc:
            raise ParseError(f"JSON parse error - {exc}") from None
        if depth_of(data) > limits.MAX_JSON_DEPTH:
            raise TooDeep()
        return data


def _refuse_constant(name: str):
    raise ValueError(f"{name} is not valid JSON")  # NaN / Infinity (DRF's STRICT_JSON)
