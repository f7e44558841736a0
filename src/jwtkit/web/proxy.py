"""``ForwardedHeaders``: trust ``Forwarded`` (RFC 7239) and ``X-Forwarded-For``/``-Proto`` from
the reverse proxies named in ``--forwarded-allow-ips``, and from nobody else.

When the peer of a request is a trusted proxy, the client is the first address that is not a
trusted proxy, reading the forwarding chain from the right (each proxy appends the address it
received the request from; only the entries our own proxies added can be believed), and the
scheme is the one the proxy reports (``https`` makes the session cookie ``Secure``). The scope
is rewritten in place, so everything after it (login throttling, the access log) sees the real
client. A request whose peer is not trusted keeps its peer address whatever headers it sends: a
client cannot spoof its address. ``Forwarded`` wins over the ``X-Forwarded-*`` pair when both
are present. The same semantics as uvicorn's ``--forwarded-allow-ips``, plus ``Forwarded``, and
in the app, so the ASGI tests see what production does.

Example::

    app = ForwardedHeaders(app, trusted=TrustedProxies.parse("10.0.0.0/8,127.0.0.1"))
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

from starlette.types import ASGIApp, Receive, Scope, Send

__all__ = ["ForwardedHeaders", "TrustedProxies"]

_Network = ipaddress.IPv4Network | ipaddress.IPv6Network
_SCHEMES = frozenset({"http", "https"})


@dataclass(frozen=True, slots=True)
class TrustedProxies:
    """The addresses whose forwarding headers are believed: networks, or everyone (``*``)."""

    networks: tuple[_Network, ...] = ()
    everyone: bool = False

    @classmethod
    def parse(cls, value: str | None) -> TrustedProxies:
        """``"10.0.0.1, 10.1.0.0/16, ::1"``, ``"*"`` (everyone: only when nothing else can reach the
        server) or ``""`` (nobody, the default).

        Raises:
            ValueError: an entry that is not an IP address or network.
        """
        entries = [entry.strip() for entry in (value or "").split(",") if entry.strip()]
        if "*" in entries:
            return cls(everyone=True)
        networks = []
        for entry in entries:
            try:
                networks.append(ipaddress.ip_network(entry, strict=False))
            except ValueError:
                raise ValueError(f"forwarded_allow_ips: {entry!r} is not an IP address or network") from None
        return cls(networks=tuple(networks))

    def __bool__(self) -> bool:
        return self.everyone or bool(self.networks)

    def trusts(self, host: str | None) -> bool:
        if self.everyone:
            return True
        if not host:
            return False
        try:
            address = ipaddress.ip_address(host.split("%", 1)[0])
        except ValueError:
            return False
        return any(address in network for network in self.networks)


class ForwardedHeaders:
    """Rewrite ``scope["client"]`` and ``scope["scheme"]`` from a trusted proxy's headers."""

    def __init__(self, app: ASGIApp, *, trusted: TrustedProxies) -> None:
        self.app = app
        self.trusted = trusted

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and self.trusted:
            peer = scope.get("client")
            if self.trusted.trusts(peer[0] if peer else None):
                self._rewrite(scope)
        await self.app(scope, receive, send)

    def _rewrite(self, scope: Scope) -> None:
        forwarded: list[str] = []
        x_for: list[str] = []
        x_proto: str | None = None
        for name, value in scope["headers"]:
            if name == b"forwarded":
                forwarded.append(value.decode("latin-1"))
            elif name == b"x-forwarded-for":
                x_for.append(value.decode("latin-1"))
            elif name == b"x-forwarded-proto":
                x_proto = value.decode("latin-1")
        if forwarded:
            hops = _parse_forwarded(", ".join(forwarded))
            chain = [hop.get("for", "") for hop in hops]
            protos = [hop.get("proto") for hop in hops]
        else:
            chain = [part.strip() for part in ", ".join(x_for).split(",")] if x_for else []
            protos = [x_proto.split(",")[-1].strip()] if x_proto else []
        proto = next((p.lower() for p in reversed(protos) if p), None)
        if proto in _SCHEMES:
            scope["scheme"] = proto
        client = self._client(chain)
        if client is not None:
            scope["client"] = client

    def _client(self, chain: list[str]) -> tuple[str, int] | None:
        """The rightmost hop that is not one of our proxies; ``None`` (keep the peer) when the
        chain is empty or a hop our proxies added is not an address (``unknown``, an RFC 7239
        obfuscated id): nothing left of it can be believed."""
        hops = [entry for entry in chain if entry.strip()]
        found: tuple[str, int] | None = None
        for entry in reversed(hops):
            found = _host_port(entry)
            if found is None or not self.trusted.trusts(found[0]):
                return found
        return found  # every hop is a proxy of ours: the leftmost is the client


def _parse_forwarded(value: str) -> list[dict[str, str]]:
    """RFC 7239 §4: ``for=192.0.2.60;proto=https, for="[2001:db8::1]:4711"`` → one dict per hop."""
    hops = []
    for element in value.split(","):
        pairs: dict[str, str] = {}
        for pair in element.split(";"):
            name, sep, raw = pair.partition("=")
            if sep:
                pairs[name.strip().lower()] = raw.strip().strip('"')
        hops.append(pairs)
    return hops


def _host_port(entry: str) -> tuple[str, int] | None:
    """``"192.0.2.1"``, ``"192.0.2.1:4711"``, ``"[2001:db8::1]:4711"``, ``"2001:db8::1"`` → (host, port);
    anything that is not an IP address (``unknown``, an obfuscated RFC 7239 id) → None."""
    entry = entry.strip()
    port = 0
    if entry.startswith("["):
        host, _, rest = entry[1:].partition("]")
        if rest.startswith(":") and rest[1:].isdigit():
            port = int(rest[1:])
    elif entry.count(":") == 1:
        host, _, raw_port = entry.partition(":")
        port = int(raw_port) if raw_port.isdigit() else 0
    else:
        host = entry
    try:
        return str(ipaddress.ip_address(host)), port
    except ValueError:
        return None
