"""Where webhooks may point: http(s) only, and never inward (private, loopback,
link-local, reserved addresses) unless the host is explicitly allowed
(``DELIBERATION_WEBHOOK_ALLOWED_HOSTS``). Checked when a webhook is created and
again before every delivery, after resolving the name then, so a name that later
points inward is still refused."""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Awaitable, Callable, Iterable
from urllib.parse import urlsplit

Resolver = Callable[[str, int], Awaitable[list[str]]]


class RefusedTarget(ValueError):
    """``args[0]`` says why, in Chinese."""


async def resolve(host: str, port: int) -> list[str]:
    infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return sorted({str(info[4][0]) for info in infos})


def _inward(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
        ip = ip.ipv4_mapped
    return not ip.is_global or ip.is_multicast


async def check_target(url: str, allowed_hosts: Iterable[str], resolver: Resolver = resolve) -> str:
    """The URL's host if it may be sent to; raises ``RefusedTarget`` otherwise."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https"):
        raise RefusedTarget("只支持 http 或 https 地址")
    if not parts.hostname:
        raise RefusedTarget("地址缺少主机名")
    if parts.username or parts.password:
        raise RefusedTarget("地址中不能包含用户名或密码")
    host = parts.hostname.lower()
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        raise RefusedTarget("端口号无效") from None
    if host in {h.strip().lower() for h in allowed_hosts if h.strip()}:
        return host
    try:
        addresses = await resolver(host, port)
    except OSError:
        raise RefusedTarget(f"无法解析主机名 {host}") from None
    if not addresses:
        raise RefusedTarget(f"无法解析主机名 {host}")
    if any(_inward(a) for a in addresses):
        raise RefusedTarget(f"不允许发往内网、本机或保留地址({host})")
    return host
