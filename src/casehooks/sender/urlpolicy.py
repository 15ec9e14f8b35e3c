"""Where the sandbox may send webhooks: a pure check of a URL and the addresses its host resolves to.

Cloud metadata services (169.254.169.254, fd00:ec2::254) and every link-local address are always refused:
a registered endpoint must not become a way to read the host's credentials. Loopback is allowed by default (the
sandbox's first use is a receiver on the same machine). When an allow-list is configured, only hosts and
networks on it are allowed. The check is repeated at every delivery against fresh DNS answers, so a name that
later resolves somewhere forbidden is caught (a resolver answering differently between check and connect is
still possible; run production senders behind an egress proxy).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from urllib.parse import urlsplit

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

METADATA_ADDRESSES: frozenset[IPAddress] = frozenset(
    {ipaddress.ip_address("169.254.169.254"), ipaddress.ip_address("fd00:ec2::254")}
)


class OutboundRefused(ValueError):
    """The URL may not be delivered to; ``reason`` is a fixed phrase, safe to log and to show."""

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(reason)


@dataclass(frozen=True, slots=True)
class UrlPolicy:
    """Hosts and networks outbound deliveries may reach."""

    allow_hosts: frozenset[str] = frozenset()
    allow_networks: tuple[IPNetwork, ...] = ()
    allow_loopback: bool = True
    extra_denied: tuple[IPNetwork, ...] = field(default=())

    @classmethod
    def from_list(cls, entries: Iterable[str], *, allow_loopback: bool = True) -> UrlPolicy:
        """Build from ``outbound_allow`` entries: host names and IP networks (``10.0.0.0/8``, ``::1``)."""
        hosts: set[str] = set()
        networks: list[IPNetwork] = []
        for entry in (e.strip().lower() for e in entries):
            if not entry:
                continue
            try:
                networks.append(ipaddress.ip_network(entry, strict=False))
            except ValueError:
                hosts.add(entry.rstrip("."))
        return cls(frozenset(hosts), tuple(networks), allow_loopback)

    @property
    def restricted(self) -> bool:
        return bool(self.allow_hosts or self.allow_networks)

    def check_url(self, url: str) -> str:
        """Check the URL's form; return its host. Raises ``OutboundRefused``."""
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https"):
            raise OutboundRefused("only http and https URLs")
        if not parts.hostname:
            raise OutboundRefused("no host in URL")
        if parts.username or parts.password:
            raise OutboundRefused("credentials in URL")
        host = parts.hostname.lower().rstrip(".")
        try:
            literal: IPAddress | None = ipaddress.ip_address(host)
        except ValueError:
            literal = None
        if literal is not None:
            self.check_address(literal, host)
        return host

    def check_address(self, address: IPAddress, host: str) -> None:
        """Check one address the host resolved to (or the host itself when it is an IP literal)."""
        if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
            address = address.ipv4_mapped
        if address in METADATA_ADDRESSES:
            raise OutboundRefused("cloud metadata address")
        if address.is_link_local:
            raise OutboundRefused("link-local address")
        if address.is_unspecified or address.is_multicast:
            raise OutboundRefused("unspecified or multicast address")
        if any(address in network for network in self.extra_denied):
            raise OutboundRefused("denied network")
        if address.is_loopback and self.allow_loopback:
            return
        if not self.restricted:
            if address.is_loopback:
                raise OutboundRefused("loopback not allowed")
            return
        if host in self.allow_hosts or any(address in network for network in self.allow_networks):
            return
        raise OutboundRefused("not on the outbound allow-list")

    def check(self, url: str, addresses: Sequence[str]) -> None:
        """Check a URL and every address its host resolved to."""
        host = self.check_url(url)
        if not addresses:
            raise OutboundRefused("host does not resolve")
        for text in addresses:
            self.check_address(ipaddress.ip_address(text.split("%", 1)[0]), host)
