"""Scheme, host and client address as seen through trusted reverse proxies.

When the direct peer is in ``trusted`` networks, ``X-Forwarded-Proto``,
``X-Forwarded-Host`` and ``X-Forwarded-For`` (or RFC 7239 ``Forwarded``,
which wins when both are present) rewrite the request as the client saw it;
from any other peer they are ignored, so a client cannot forge the URLs the
gateway hands out.

aiohttp-remotes was considered: its ``XForwardedStrict`` answers 400 to an
untrusted peer that sends these headers and ``XForwardedFiltered`` trusts
headers from any peer, while we must serve such peers and ignore their
headers. ``Forwarded`` parsing is aiohttp's own (``request.forwarded``).
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Sequence

from aiohttp import hdrs, web
from aiohttp.typedefs import Handler, Middleware
from yarl import URL

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
#: The client's address as seen through trusted proxies, kept in the state of
#: the request aiohttp made (the one its access log sees), not only the clone.
CLIENT_ADDRESS = web.RequestKey("client_address", str)
HOST = re.compile(r"[A-Za-z0-9.-]+(:[0-9]{1,5})?|\[[0-9A-Fa-f:.]+\](:[0-9]{1,5})?")


def _address(text: str | None) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    if not text:
        return None
    text = text.strip().strip('"')
    if text.startswith("["):  # Forwarded: for="[2001:db8::1]:443"
        text = text[1 : text.find("]")]
    elif text.count(":") == 1:  # IPv4 with a port
        text = text.partition(":")[0]
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return None
    return address.ipv4_mapped or address if isinstance(address, ipaddress.IPv6Address) else address


def forwarded_middleware(trusted: Sequence[Network]) -> Middleware:
    def is_trusted(address: object) -> bool:
        return address is not None and any(address in network for network in trusted)

    def client(hops: Sequence[str | None]) -> str | None:
        """The right-most address that is not a trusted proxy: the client."""
        addresses = [_address(hop) for hop in hops]
        for address in reversed(addresses):
            if address is None or not is_trusted(address):
                return str(address) if address else None
        return str(addresses[0]) if addresses else None

    def as_forwarded(request: web.Request) -> dict[str, str]:
        """What the trusted peer's forwarded headers change."""
        changes: dict[str, str] = {}
        if request.forwarded:
            # The last element is the one our trusted peer added.
            last = request.forwarded[-1]
            changes |= {k: v for k, v in (("scheme", last.get("proto")), ("host", last.get("host"))) if v}
            remote = client([element.get("for") for element in request.forwarded])
        else:
            proto = request.headers.get(hdrs.X_FORWARDED_PROTO, "").split(",")[-1].strip()
            host = request.headers.get(hdrs.X_FORWARDED_HOST, "").split(",")[-1].strip()
            changes |= {k: v for k, v in (("scheme", proto), ("host", host)) if v}
            remote = client(request.headers.get(hdrs.X_FORWARDED_FOR, "").split(","))
        if remote:
            changes["remote"] = request[CLIENT_ADDRESS] = remote
        if changes.get("scheme") not in (None, "http", "https"):
            del changes["scheme"]
        if "host" in changes and not (HOST.fullmatch(changes["host"]) and _readable(changes["host"])):
            del changes["host"]
        return changes

    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        changes = as_forwarded(request) if trusted and is_trusted(_address(request.remote)) else {}
        if "host" not in changes and not _readable(request.headers.get(hdrs.HOST)):
            changes |= _local_host(request)
        # changes holds scheme, host and remote only, strings all three, which
        # clone takes; its signature types each keyword apart.
        return await handler(request.clone(**changes) if changes else request)  # type: ignore[arg-type]

    return middleware


def _readable(host: str | None) -> bool:
    """A ``Host`` the URLs handed out can be built from (``a:99999`` is not)."""
    if not host:
        return False
    try:
        URL.build(scheme="http", authority=host)
    except ValueError:
        return False
    return True


def _local_host(request: web.Request) -> dict[str, str]:
    """For a request without a readable ``Host`` (HTTP/1.0 may send none;
    a port over 65535): the address it arrived on, port included, which
    aiohttp would leave out."""
    sockname = request.transport.get_extra_info("sockname") if request.transport else None
    if not isinstance(sockname, tuple):
        return {}
    host = f"[{sockname[0]}]" if len(sockname) == 4 else sockname[0]
    return {"host": f"{host}:{sockname[1]}"}
