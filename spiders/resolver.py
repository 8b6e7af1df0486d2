"""DNS and addressing for the crawl: *.test names resolve to loopback (in sample-web mode nothing else
resolves), and a sample host's URL names the port its server listens on now.

Every answer is judged by the address guard (spiders/addressguard.py) before Scrapy's client connects
to it: a name that resolves to a loopback, private or link-local address does not resolve.
"""

from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit

from scrapy.exceptions import NotConfigured
from scrapy.resolver import CachingThreadedResolver
from twisted.internet import defer
from twisted.internet.error import DNSLookupError

from spiders.addressguard import AddressGuard


class RefusedLookup(DNSLookupError):
    """The name resolves to an address the guard refuses. A DNS error to Twisted's connect path (which
    then fails with 'no results', connecting nowhere); ResolvedAddressGuardMiddleware, which asks first,
    turns it into AddressRefused with this reason."""


class SampleWebResolver(CachingThreadedResolver):
    host_map: dict[str, str] = {}
    sample_only: bool = False
    guard: AddressGuard = AddressGuard()

    @classmethod
    def from_crawler(cls, crawler, reactor):
        resolver = super().from_crawler(crawler, reactor)
        resolver.host_map = dict(crawler.settings.getdict("SGI_HOST_MAP"))
        resolver.sample_only = crawler.settings.getbool("SGI_SAMPLE_WEB")
        resolver.guard = AddressGuard.from_settings(crawler.settings)
        return resolver

    def getHostByName(self, name, timeout=()):
        if name in self.host_map:
            answer = defer.succeed(self.host_map[name])
        elif name.endswith(".test") or name == "localhost":
            answer = defer.succeed("127.0.0.1")
        elif self.sample_only:
            return defer.fail(DNSLookupError(f"sample-web mode: {name} is not a sample host"))
        else:
            answer = super().getHostByName(name, timeout)
        return answer.addCallback(self._judged, name)

    def _judged(self, address: str, name: str) -> str:
        reason = self.guard.refusal(address, name)
        if reason:
            raise RefusedLookup(reason)
        return address


class SampleWebPortsMiddleware:
    """Sample-web mode: a request to a sample host goes to the port its server listens on in this run.

    The sample web prefers fixed ports but takes free ones when those are taken (another crawl holds
    them), so bodies archived by one run can name ports that are dead in the next; an incremental or
    resumed run follows their links. Ports are no part of a sample page's identity (page_identity), so
    only the address changes, as a DNS change would for a real host."""

    def __init__(self, hosts: set[str], ports: dict[str, int]):
        self.hosts = hosts
        self.ports = ports

    @classmethod
    def from_crawler(cls, crawler):
        settings = crawler.settings
        ports = settings.getdict("SGI_SAMPLE_PORTS")
        if not settings.getbool("SGI_SAMPLE_WEB") or not ports:
            raise NotConfigured
        return cls(set(settings.getdict("SGI_HOST_MAP")), {k: int(v) for k, v in ports.items() if v})

    def process_request(self, request, spider=None):
        parts = urlsplit(request.url)
        port = self.ports.get(parts.scheme)
        if port and parts.hostname in self.hosts and parts.port != port:
            return request.replace(url=urlunsplit(parts._replace(netloc=f"{parts.hostname}:{port}")))
        return None
