"""Domain errors: values with a stable code and a Japanese message (STYLE.md).

The API layer maps them to an HTTP status and the error body in one place
(``backoffice.api.errors``); staff pages show ``message``.
"""

from __future__ import annotations


def error_body(code: str, message: str, field: str | None = None, reasons: list | None = None) -> dict:
    """The API's error body (API.md): every refusal, whatever raised it, has this shape."""
    return {"code": code, "message": str(message), "field": field, "reasons": reasons or []}


class DomainError(Exception):
    status = 400
    code = "invalid"
    message = "入力内容に誤りがあります。"

    def __init__(
        self,
        message: str | None = None,
        *,
        code: str | None = None,
        field: str | None = None,
        reasons: list[str] | None = None,
        status: int | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        if message is not None:
            self.message = message
        if code is not None:
            self.code = code
        if status is not None:
            self.status = status
        self.field = field
        self.reasons = reasons or []
        self.headers = headers or {}
        super().__init__(self.message)

    def as_body(self) -> dict:
        return error_body(self.code, self.message, self.field, self.reasons)


class InvalidInput(DomainError):
    status = 400


class NotFound(DomainError):
    status = 404
    code = "not_found"
    message = "見つかりません。"


class Forbidden(DomainError):
    status = 403
    code = "forbidden"
    message = "この操作は許可されていません。"


class Conflict(DomainError):
    status = 409
    code = "conflict"
    message = "現在の状態ではこの操作を行えません。"


class Gone(DomainError):
    status = 410
    code = "gone"
    message = "期限が切れています。"
