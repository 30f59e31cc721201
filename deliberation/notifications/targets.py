"""Where webhooks may point: http(s) only, and never inward (private, loopback,
link-local, reserved addresses, also when embedded in an IPv6 address) unless the host
and port are explicitly allowed (``DELIBERATION_WEBHOOK_ALLOWED_HOSTS``, entries
``host:port``: allowing a host must not allow its database port). Checked when a webhook
is created and again before every delivery, after resolving the name then, so a name
that later points inward is still refused."""

from __future__ import annotations

import asyncio
import ipaddress
import re
import socket
from collections.abc import Awaitable, Callable, Iterable
from urllib.parse import urlsplit

Resolver = Callable[[str, int], Awaitable[list[str]]]


class RefusedTarget(ValueError):
    """``args[0]`` says why, in Chinese."""


async def resolve(host: str, port: int) -> list[str]:
    infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return sorted({str(info[4][0]) for info in infos})


_NAT64 = (ipaddress.ip_network("64:ff9b::/96"), ipaddress.ip_network("64:ff9b:1::/48"))
_IPV4_COMPATIBLE = ipaddress.ip_network("::/96")


def _embedded_ipv4(ip: ipaddress.IPv6Address) -> list[ipaddress.IPv4Address]:
    """The IPv4 addresses an IPv6 address carries: mapped (``::ffff:a.b.c.d``), the old
    compatible form (``::a.b.c.d``), NAT64 (``64:ff9b::a.b.c.d``), 6to4 (``2002:…``) and
    Teredo."""
    found = [ip.ipv4_mapped, ip.sixtofour, *(ip.teredo or ())]
    if ip in _IPV4_COMPATIBLE or any(ip in net for net in _NAT64):
        found.append(ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF))
    return [a for a in found if a is not None]


def _inward(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    candidates: list[ipaddress.IPv4Address | ipaddress.IPv6Address] = [ip]
    if isinstance(ip, ipaddress.IPv6Address):
        candidates += _embedded_ipv4(ip)
    return any(not c.is_global or c.is_multicast for c in candidates)


def parse_allowed(entries: Iterable[str]) -> frozenset[tuple[str, int]]:
    """``host:port`` entries (``[::1]:8080`` for IPv6) as pairs; raises ``ValueError``
    naming an entry without a port."""
    pairs = set()
    for entry in (e.strip() for e in entries):
        if not entry:
            continue
        try:
            parts = urlsplit(f"//{entry}")
            port = parts.port
        except ValueError:
            port = None
            parts = urlsplit("//")
        if not parts.hostname or not port:
            raise ValueError(f"{entry!r} must be host:port (e.g. 127.0.0.1:8081)")
        pairs.add((parts.hostname.lower(), port))
    return frozenset(pairs)


_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")


def _valid_name(host: str) -> bool:
    """A DNS name of labels 1–63 characters long (after IDNA), 253 in all."""
    try:
        ascii_host = host.encode("idna").decode("ascii")
    except UnicodeError:
        return False
    labels = ascii_host.rstrip(".").split(".")
    return len(ascii_host) <= 253 and all(_LABEL.match(label) for label in labels)


async def check_target(
    url: str, allowed: Iterable[tuple[str, int]], resolver: Resolver = resolve
) -> str:
    """The URL's host if it may be sent to; raises ``RefusedTarget`` otherwise."""
    try:
        parts = urlsplit(url)
        hostname = parts.hostname
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        raise RefusedTarget("地址格式无效（请检查主机名、方括号和端口号）") from None
    if parts.scheme not in ("http", "https"):
        raise RefusedTarget("只支持 http 或 https 地址")
    if not hostname:
        raise RefusedTarget("地址缺少主机名")
    if parts.username or parts.password:
        raise RefusedTarget("地址中不能包含用户名或密码")
    if parts.port == 0:
        raise RefusedTarget("端口号无效")
    host = hostname.lower()
    if (host, port) in set(allowed):
        return host
    try:
        literal: ipaddress.IPv4Address | ipaddress.IPv6Address | None = ipaddress.ip_address(host)
    except ValueError:
        literal = None
    if literal is None and not _valid_name(host):
        raise RefusedTarget(f"主机名无效：{host[:80]}")
    try:
        addresses = await resolver(host, port)
    except (OSError, UnicodeError):
        raise RefusedTarget(f"无法解析主机名 {host[:80]}") from None
    if not addresses:
        raise RefusedTarget(f"无法解析主机名 {host}")
    if any(_inward(a) for a in addresses):
        raise RefusedTarget(f"不允许发往内网、本机或保留地址（{host}）")
    return host
