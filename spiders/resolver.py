"""DNS for the crawl: *.test names resolve to loopback; in sample-web mode nothing else resolves.

Every answer is judged by the address guard (spiders/addressguard.py) before Scrapy's client connects
to it: a name that resolves to a loopback, private or link-local address does not resolve.
"""

from __future__ import annotations

from twisted.internet import defer
from twisted.internet.error import DNSLookupError

from scrapy.resolver import CachingThreadedResolver

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
