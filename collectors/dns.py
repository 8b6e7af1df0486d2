"""Non-crawl collector: does the portal host support IPv6? (an AAAA record and a working connection)

DNS goes through a configurable resolver (``SGI_DNS_SERVER`` = 'ip' or 'ip:port'), so tests use the
sample web's own DNS server on loopback; without it the system resolver is used.
"""

from __future__ import annotations

import ipaddress
import socket
from typing import Callable
from urllib.parse import urlsplit

import dns.exception
import dns.resolver

from collectors.base import ABSENT, ERROR, NOT_APPLICABLE, OK, Finding

RULE = "portal.ipv6"
RULE_VERSION = "1"


def make_resolver(server: str | None) -> dns.resolver.Resolver:
    if not server:
        return dns.resolver.Resolver()
    resolver = dns.resolver.Resolver(configure=False)
    host, _, port = server.rpartition(":") if server.count(":") == 1 else (server, "", "")
    resolver.nameservers = [host or server]
    if port:
        resolver.port = int(port)
    resolver.lifetime = 5.0
    return resolver


def check_ipv6(url: str, dns_server: str | None = None, connect_timeout: float = 3.0,
               refusal: Callable[[str, str], str | None] | None = None) -> Finding:
    """``refusal(address, host)``: why not to connect to an address (spiders/addressguard.py), or None."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        literal = ipaddress.ip_address(host)
    except ValueError:
        literal = None
    try:
        if literal is not None and literal.version == 4:
            # No name to ask a resolver about (and no query for it leaves the machine).
            return Finding("portal_ipv6", None, NOT_APPLICABLE, f"the portal is addressed by the IPv4 address {host}",
                           RULE, RULE_VERSION)
        if literal is not None:
            addresses = [str(literal)]
        else:
            answer = make_resolver(dns_server).resolve(host, "AAAA")
            addresses = [r.address for r in answer]
    except (dns.resolver.NoAnswer, dns.resolver.NXDOMAIN):
        return Finding("portal_ipv6", False, ABSENT, f"no AAAA record for {host}", RULE, RULE_VERSION)
    except dns.exception.DNSException as exc:
        return Finding("portal_ipv6", None, ERROR, f"DNS lookup failed for {host}: {exc}", RULE, RULE_VERSION)
    refused = {a: refusal(a, host) for a in addresses} if refusal else {}
    if addresses and all(refused.get(a) for a in addresses):   # not connected to: not a reading
        return Finding("portal_ipv6", None, ERROR, refused[addresses[0]], RULE, RULE_VERSION)
    last = None
    for address in addresses:
        if refused.get(address):
            continue
        try:
            with socket.create_connection((address, port), timeout=connect_timeout):
                return Finding("portal_ipv6", True, OK, f"AAAA {address}; TCP [{address}]:{port} connected",
                               RULE, RULE_VERSION)
        except OSError as exc:
            last = exc
    return Finding("portal_ipv6", False, ABSENT,
                   f"AAAA {', '.join(addresses)} but no TCP connection on port {port} ({last})", RULE, RULE_VERSION)
