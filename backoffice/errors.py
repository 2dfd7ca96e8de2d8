"""Domain errors: values with a stable code and a Japanese message (STYLE.md).

The message is a msgid of the English catalogue: it is rendered (translated, then its
``%(name)s`` placeholders filled from ``params``) in the language active where it is shown —
so the staff console in English shows it in English. The API layer maps them to an HTTP status
and the error body in one place (``backoffice.api.errors``), always in Japanese (API.md);
staff pages show ``message``.
"""

from __future__ import annotations

from django.conf import settings
from django.utils import translation
from django.utils.functional import lazy
from django.utils.translation import gettext_lazy as _


def error_body(code: str, message: str, field: str | None = None, reasons: list | None = None) -> dict:
    """The API's error body (API.md): every refusal, whatever raised it, has this shape."""
    return {"code": code, "message": str(message), "field": field, "reasons": reasons or []}


def _word(value):
    """A value of ``params``: a word (a status label, a chain's name for its number) is a msgid too
    and reads translated; other text (a name, a SKU) has no entry and reads as it is."""
    return translation.gettext(value) if isinstance(value, str) else value


def _render(text: str, params: dict | None) -> str:
    words = translation.gettext(text)
    return words % {name: _word(value) for name, value in params.items()} if params else words


render_lazy = lazy(_render, str)


def _join(items: list, separator: str) -> str:
    return translation.gettext(separator).join(str(_word(item)) for item in items)


# A list of words as one value of ``params`` (labels, blockers), joined (the separator a msgid too:
# "、" reads ", ") in the language it is shown in.
join_lazy = lazy(_join, str)


class DomainError(Exception):
    status = 400
    code = "invalid"
    message = _("入力内容に誤りがあります。")

    def __init__(
        self,
        message: str | None = None,
        *,
        params: dict | None = None,
        code: str | None = None,
        field: str | None = None,
        reasons: list[str] | None = None,
        status: int | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        # The msgid (Japanese) and its values; ``message`` renders them where it is read.
        self.text = message if message is not None else type(self).message
        self.params = params or {}
        self.message = render_lazy(self.text, self.params)
        if code is not None:
            self.code = code
        if status is not None:
            self.status = status
        self.field = field
        self.reasons = reasons or []
        self.headers = headers or {}
        super().__init__(self.text)

    def __str__(self) -> str:
        return str(self.message)

    def in_japanese(self) -> str:
        """The message as the API gives it (API.md: Japanese, whatever the request's language)."""
        with translation.override(settings.LANGUAGE_CODE):
            return str(self.message)

    def as_body(self) -> dict:
        return error_body(self.code, self.in_japanese(), self.field, self.reasons)


class InvalidInput(DomainError):
    status = 400


class NotFound(DomainError):
    status = 404
    code = "not_found"
    message = _("見つかりません。")


class Forbidden(DomainError):
    status = 403
    code = "forbidden"
    message = _("この操作は許可されていません。")


class Conflict(DomainError):
    status = 409
    code = "conflict"
    message = _("現在の状態ではこの操作を行えません。")


class Gone(DomainError):
    status = 410
    code = "gone"
    message = _("期限が切れています。")
