"""Where the sandbox may send webhooks: a pure check of a URL and the addresses its host resolves to.

Cloud metadata services (169.254.169.254, fd00:ec2::254) and every link-local address are always refused:
a registered endpoint must not become a way to read the host's credentials. Every encoding counts: IPv4 written
in decimal, octal or hex (``2852039166``, ``0251.0376.0251.0376``, ``0xa9.254.43518``), and IPv4 addresses
embedded in IPv6 (mapped, compatible, NAT64 ``64:ff9b::/96`` and ``64:ff9b:1::/48``, 6to4 ``2002::/16``,
Teredo): each embedded address is checked as if it were the destination. Loopback is allowed by default (the
sandbox's first use is a receiver on the same machine). When an allow-list is configured, only hosts and
networks on it are allowed. The check is repeated at every delivery against fresh DNS answers, so a name that
later resolves somewhere forbidden is caught (and the delivery connects to the address that was checked).
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from urllib.parse import urlsplit

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

METADATA_ADDRESSES: frozenset[IPAddress] = frozenset(
    {ipaddress.ip_address("169.254.169.254"), ipaddress.ip_address("fd00:ec2::254")}
)
_NAT64 = (ipaddress.ip_network("64:ff9b::/96"), ipaddress.ip_network("64:ff9b:1::/48"))
_IPV4_PART = re.compile(r"^(0[xX][0-9a-fA-F]*|0[0-7]*|[1-9][0-9]*)$")


def loose_ipv4(host: str) -> ipaddress.IPv4Address | None:
    """``host`` read as the C library's ``inet_aton`` reads it (what a connect by name would reach), or None.

    One to four dot-separated parts, each decimal, octal (leading 0) or hex (0x); the last part fills the
    remaining bytes: ``2852039166``, ``0xa9fea9fe``, ``169.254.43518`` and ``0251.0376.0251.0376`` are all
    169.254.169.254.
    """
    parts = host.rstrip(".").split(".")
    if not 1 <= len(parts) <= 4 or not all(_IPV4_PART.match(part) for part in parts):
        return None
    values = []
    for part in parts:
        if part[:2].lower() == "0x":
            values.append(int(part[2:] or "0", 16))
        elif part.startswith("0") and len(part) > 1:
            values.append(int(part, 8))
        else:
            values.append(int(part))
    *head, last = values
    if any(value > 255 for value in head) or last >= 256 ** (4 - len(head)):
        return None
    number = 0
    for value in head:
        number = number * 256 + value
    number = number * 256 ** (4 - len(head)) + last
    return ipaddress.IPv4Address(number)


def embedded_ipv4(address: IPAddress) -> list[ipaddress.IPv4Address]:
    """The IPv4 addresses an IPv6 address carries (mapped, compatible, NAT64, 6to4, Teredo)."""
    if isinstance(address, ipaddress.IPv4Address):
        return []
    found: list[ipaddress.IPv4Address] = []
    if address.ipv4_mapped is not None:
        found.append(address.ipv4_mapped)
    number = int(address)
    if number >> 32 == 0 and number > 1:  # IPv4-compatible ::a.b.c.d (not :: or ::1)
        found.append(ipaddress.IPv4Address(number & 0xFFFFFFFF))
    if any(address in network for network in _NAT64):
        found.append(ipaddress.IPv4Address(number & 0xFFFFFFFF))
    if address.sixtofour is not None:
        found.append(address.sixtofour)
    if address.teredo is not None:
        found.extend(address.teredo)
    return found


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
            literal = loose_ipv4(host)
        if literal is not None:
            self.check_address(literal, host)
        return host

    def check_address(self, address: IPAddress, host: str) -> None:
        """Check one address the host resolved to (or the host itself when it is an IP literal)."""
        embedded = embedded_ipv4(address)
        for candidate in (address, *embedded):
            self._refuse_forbidden(candidate)
        if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
            address = address.ipv4_mapped
        if address.is_loopback and self.allow_loopback:
            return
        if not self.restricted:
            if address.is_loopback:
                raise OutboundRefused("loopback not allowed")
            return
        if host in self.allow_hosts or any(address in network for network in self.allow_networks):
            return
        raise OutboundRefused("not on the outbound allow-list")

    def _refuse_forbidden(self, address: IPAddress) -> None:
        if address in METADATA_ADDRESSES:
            raise OutboundRefused("cloud metadata address")
        if address.is_link_local:
            raise OutboundRefused("link-local address")
        if address.is_unspecified or address.is_multicast:
            raise OutboundRefused("unspecified or multicast address")
        if any(address in network for network in self.extra_denied):
            raise OutboundRefused("denied network")
        if address.is_loopback and not self.allow_loopback:
            raise OutboundRefused("loopback not allowed")

    def check(self, url: str, addresses: Sequence[str]) -> None:
        """Check a URL and every address its host resolved to."""
        host = self.check_url(url)
        if not addresses:
            raise OutboundRefused("host does not resolve")
        for text in addresses:
            self.check_address(ipaddress.ip_address(text.split("%", 1)[0]), host)
