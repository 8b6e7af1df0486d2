"""The address guard: a real crawl connects only to public (globally routable) addresses.

Whatever a source file, a redirect, a meta refresh or a page's script names, no connection goes to a
loopback, private, link-local, shared (100.64/10), multicast, reserved or unspecified address, nor to an
IPv6 address that embeds one (::ffff:10.0.0.1, 6to4, NAT64). The address checked is the one connected
to: host names are judged on what the resolver returned (:class:`spiders.resolver.SampleWebResolver`),
IP literals in every spelling libc accepts (2130706433, 0x7f000001, 0177.0.0.1, 127.1) on their value.
The sample web's loopback servers are allowed only in sample-web runs (SGI_SAMPLE_WEB).

A refusal raises :class:`AddressRefused`, which the evidence middleware records as a failed snapshot
(fetch status ``error``, the reason in its error text): evidence that we refused, never "absent".
"""

from __future__ import annotations

import ipaddress
import socket

SAMPLE_WEB_NETWORKS = ("127.0.0.0/8", "::1/128")
STATS_KEY = "sgi/address_guard/refused"

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
_SHARED = ipaddress.ip_network("100.64.0.0/10")
_NAT64 = ipaddress.ip_network("64:ff9b::/96")


class AddressRefused(Exception):
    """Not a DNS or connection error (those are retried): nothing was sent, by choice."""


def literal_address(host: str) -> Address | None:
    """The address an IP literal host names, in any spelling the resolver would accept; None for a name."""
    host = (host or "").strip().strip("[]").rstrip(".")
    try:
        return ipaddress.ip_address(host.split("%", 1)[0])
    except ValueError:
        pass
    if host and all(c in "0123456789abcdefxABCDEFX." for c in host):
        try:   # inet_aton reads decimal, hex and octal parts and short forms, as getaddrinfo does
            return ipaddress.IPv4Address(socket.inet_aton(host))
        except OSError:
            return None
    return None


def _kind(ip: Address) -> str | None:
    """Why ``ip`` is not a public address, or None when it is."""
    if isinstance(ip, ipaddress.IPv6Address):
        embedded = ip.ipv4_mapped or ip.sixtofour or (ip.teredo[1] if ip.teredo else None)
        if ip in _NAT64:
            embedded = ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
        if embedded is not None:
            inner = _kind(embedded)
            return f"{inner} (embedded in {ip})" if inner else None
    for attribute, name in (("is_unspecified", "unspecified"), ("is_loopback", "loopback"),
                            ("is_link_local", "link-local"), ("is_multicast", "multicast")):
        if getattr(ip, attribute):
            return name
    if isinstance(ip, ipaddress.IPv4Address) and ip in _SHARED:
        return "shared (carrier-grade NAT)"
    if getattr(ip, "is_site_local", False) or ip.is_private:
        return "private"
    if ip.is_reserved or not ip.is_global:
        return "reserved"
    return None


class AddressGuard:
    """Judges the address a connection would go to. ``allowed``: networks let through anyway (the sample
    web's loopback in sample-web runs)."""

    def __init__(self, allowed=()):
        self.allowed = [ipaddress.ip_network(n) for n in allowed]

    @classmethod
    def from_settings(cls, settings) -> "AddressGuard":
        return cls(SAMPLE_WEB_NETWORKS if settings.getbool("SGI_SAMPLE_WEB") else ())

    def refusal(self, address: str | Address, host: str | None = None) -> str | None:
        """The reason not to connect to ``address`` (reached through ``host``), or None."""
        try:
            ip = address if not isinstance(address, str) else ipaddress.ip_address(address.split("%", 1)[0])
        except ValueError:
            return f"refused to connect to {host or address}: {address!r} is not an IP address"
        if any(ip.version == n.version and ip in n for n in self.allowed):
            return None
        kind = _kind(ip)
        if kind is None:
            return None
        target = f"{host} ({ip})" if host and host.strip("[]") != str(ip) else str(ip)
        return f"refused to connect to {target}: not a public address ({kind}); real mode connects to public addresses only"

    def host_refusal(self, host: str) -> str | None:
        """For an IP-literal host, the reason to refuse it (names are judged once resolved)."""
        ip = literal_address(host)
        return self.refusal(ip, host) if ip is not None else None

    def resolve_refusal(self, host: str, port: int | None = None) -> str | None:
        """Resolve ``host`` (blocking) and judge every address it has; for clients that resolve by themselves
        (Chromium, a plain socket), checked just before they connect."""
        reason = self.host_refusal(host)
        if reason or literal_address(host) is not None:
            return reason
        try:
            infos = socket.getaddrinfo(host, port or 80, proto=socket.IPPROTO_TCP)
        except OSError:
            return None     # the client fails to resolve it too, and says so
        for info in infos:
            reason = self.refusal(info[4][0], host)
            if reason:
                return reason
        return None
