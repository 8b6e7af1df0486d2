"""Addressing the sample web: *.test names resolve to loopback (in sample-web mode nothing else
resolves), and a sample host's URL names the port its server listens on now."""

from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit

from scrapy.exceptions import NotConfigured
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
