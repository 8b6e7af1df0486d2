"""DNS for the sample web: *.test names resolve to loopback; in sample-web mode nothing else resolves."""

from __future__ import annotations

from twisted.internet import defer
from twisted.internet.error import DNSLookupError

from scrapy.resolver import CachingThreadedResolver


class SampleWebResolver(CachingThreadedResolver):
    host_map: dict[str, str] = {}
    sample_only: bool = False

    @classmethod
    def from_crawler(cls, crawler, reactor):
        resolver = super().from_crawler(crawler, reactor)
        resolver.host_map = dict(crawler.settings.getdict("SGI_HOST_MAP"))
        resolver.sample_only = crawler.settings.getbool("SGI_SAMPLE_WEB")
        return resolver

    def getHostByName(self, name, timeout=()):
        if name in self.host_map:
            return defer.succeed(self.host_map[name])
        if name.endswith(".test") or name == "localhost":
            return defer.succeed("127.0.0.1")
        if self.sample_only:
            return defer.fail(DNSLookupError(f"sample-web mode: {name} is not a sample host"))
        return super().getHostByName(name, timeout)
