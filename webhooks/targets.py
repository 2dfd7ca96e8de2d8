"""The SSRF guard (issue 13 item 4): a webhook goes only to ``https://`` on a public address.

Checked when the endpoint is registered (the URL's shape, a literal private address) and again at
every send, on the addresses the host resolves to *then* (DNS may have changed): the request goes
to the address that was checked (the host name kept for TLS and ``Host``), and redirects are not
followed. ``WEBHOOK_ALLOW_PRIVATE_TARGETS=true`` (tests, the demo) allows ``http://`` and private,
loopback and link-local hosts.
"""

from __future__ import annotations

import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.conf import settings


class TargetRefused(Exception):
    """The URL may not be called (its message says why, in Japanese)."""


@dataclass(frozen=True)
class Target:
    scheme: str
    host: str
    port: int
    path: str  # path and query
    ip: str = ""

    @property
    def pinned_url(self) -> str:
        """The URL with the checked address in place of the host name."""
        ip = f"[{self.ip}]" if ":" in self.ip else self.ip
        return f"{self.scheme}://{ip}:{self.port}{self.path}"

    @property
    def host_header(self) -> str:
        default = 443 if self.scheme == "https" else 80
        host = f"[{self.host}]" if ":" in self.host else self.host
        return host if self.port == default else f"{host}:{self.port}"


def private_allowed() -> bool:
    return bool(getattr(settings, "WEBHOOK_ALLOW_PRIVATE_TARGETS", False))


def parse(url: str) -> Target:
    """The URL's parts, or ``TargetRefused`` (wrong scheme, no host, credentials, literal private IP)."""
    if not isinstance(url, str) or any(ord(c) < 33 for c in url):
        raise TargetRefused("URLの形式が正しくありません。")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise TargetRefused("URLの形式が正しくありません。") from exc
    allowed = ("https", "http") if private_allowed() else ("https",)
    if parts.scheme not in allowed:
        raise TargetRefused("URLは https:// で始まる必要があります。")
    host = (parts.hostname or "").rstrip(".")
    if not host or parts.username or parts.password:
        raise TargetRefused("URLの形式が正しくありません。")
    target = Target(parts.scheme, host, port or (443 if parts.scheme == "https" else 80),
                    (parts.path or "/") + (f"?{parts.query}" if parts.query else ""))
    if not private_allowed():
        if host.lower() == "localhost" or host.lower().endswith(".localhost"):
            raise TargetRefused("このホストには送信できません（公開アドレスのみ）。")
        try:
            _check_public(ipaddress.ip_address(host))
        except ValueError:
            pass  # a host name: resolved and checked at send time
    return target


def _check_public(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> None:
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
        ip = ip.ipv4_mapped
    if not ip.is_global or ip.is_multicast:
        raise TargetRefused(f"{ip} は公開アドレスではないため送信できません。")


def resolve(url: str) -> Target:
    """``parse`` and resolve the host now; every address it resolves to must be public."""
    target = parse(url)
    try:
        infos = socket.getaddrinfo(target.host, target.port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise TargetRefused(f"ホスト {target.host} を解決できません。") from exc
    addresses = list(dict.fromkeys(info[4][0] for info in infos))
    if not addresses:
        raise TargetRefused(f"ホスト {target.host} を解決できません。")
    if not private_allowed():
        for address in addresses:
            _check_public(ipaddress.ip_address(address.split("%")[0]))
    return Target(target.scheme, target.host, target.port, target.path, addresses[0])
