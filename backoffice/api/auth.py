"""Partner authentication (``Authorization: Bearer <key>``) and kind-scoped permissions."""

from __future__ import annotations

from rest_framework import authentication, exceptions, permissions

from backoffice.models import Partner
from backoffice.statements import Select

# Compiled once per connection: the lookup runs on every request (``backoffice.statements``).
_by_digest = Select(lambda digest: Partner.objects.select_related("seller").filter(key_digest=digest, active=True)[:1])


class PartnerKeyAuthentication(authentication.BaseAuthentication):
    """One indexed lookup by SHA-256 digest: a password hasher per request would cap throughput."""

    keyword = "Bearer"

    def authenticate(self, request):
        header = authentication.get_authorization_header(request).decode("latin-1")
        if not header:
            return None
        parts = header.split()
        if len(parts) != 2 or parts[0] != self.keyword:
            raise exceptions.AuthenticationFailed("認証ヘッダーの形式が正しくありません。")
        partner = _by_digest.first(Partner.digest(parts[1]))
        if partner is None:
            raise exceptions.AuthenticationFailed("APIキーが無効です。")
        return (PartnerUser(partner), partner)

    def authenticate_header(self, request):
        return self.keyword


class PartnerUser:
    """What ``request.user`` is for a partner: authenticated, never staff."""

    is_authenticated = True
    is_active = True
    is_staff = False
    is_superuser = False
    is_anonymous = False

    def __init__(self, partner: Partner) -> None:
        self.partner = partner
        self.pk = None

    def __str__(self) -> str:
        return f"partner:{self.partner.pk}"


class IsPartner(permissions.BasePermission):
    message = "APIキーが必要です。"

    def has_permission(self, request, view) -> bool:
        if not isinstance(request.auth, Partner):
            raise exceptions.NotAuthenticated("APIキーが必要です。")
        allowed = getattr(view, "partner_kinds", None)
        if allowed is not None and request.auth.kind not in allowed:
            raise exceptions.PermissionDenied("このAPIキーではこの操作を行えません。")
        return True


def partner_of(request) -> Partner:
    return request.auth
