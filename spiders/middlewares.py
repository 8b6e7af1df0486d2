"""Downloader middlewares: the loopback guard for the sample web, and the evidence recorder."""

from __future__ import annotations

import ipaddress
import logging
import time
from datetime import datetime, timezone
from urllib.parse import urlsplit

from scrapy import signals
from scrapy.downloadermiddlewares.redirect import MetaRefreshMiddleware as _MetaRefreshMiddleware
from scrapy.exceptions import IgnoreRequest
from scrapy.http import HtmlResponse, Request

from collectors.fetch import classify_fetch
from spiders.addressguard import STATS_KEY, AddressGuard, AddressRefused, literal_address
from spiders.robots import SiteUnavailable
from spiders.store import store_for

logger = logging.getLogger(__name__)


def is_loopback_or_test(host: str) -> bool:
    if host.endswith(".test") or host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class LoopbackGuardMiddleware:
    """With SGI_SAMPLE_WEB on, refuse any request that could leave this machine. In real mode, refuse an IP
    literal that is not a public address (spiders/addressguard.py; names are judged once resolved, by the
    resolver); a refusal is recorded as a failed snapshot, and counted in the stats."""

    def __init__(self, enabled: bool, guard: AddressGuard | None = None, stats=None):
        self.enabled = enabled
        self.guard = guard or AddressGuard()
        self.stats = stats

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler.settings.getbool("SGI_SAMPLE_WEB"), AddressGuard.from_settings(crawler.settings),
                   crawler.stats)

    def process_request(self, request, spider=None):
        host = urlsplit(request.url).hostname or ""
        if self.enabled:
            if not is_loopback_or_test(host):
                raise IgnoreRequest(f"sample-web mode: refusing non-loopback host {host}")
        else:
            reason = self.guard.host_refusal(host)
            if reason:
                raise AddressRefused(reason)
        return None

    def process_exception(self, request, exception, spider=None):
        if isinstance(exception, AddressRefused) and self.stats is not None:
            self.stats.inc_value(STATS_KEY)
        return None


class ResolvedAddressGuardMiddleware:
    """Real mode: resolves a request's host name through the crawl's resolver just before the download (the
    last downloader middleware; the connect then reads the same cached answer) and refuses it with the
    guard's reason when the address is not public. The resolver refuses such an answer at connect time
    too (spiders/resolver.py), so a name that changes its answer in between still connects nowhere."""

    def __init__(self, enabled: bool, guard: AddressGuard):
        self.enabled = enabled
        self.guard = guard

    @classmethod
    def from_crawler(cls, crawler):
        return cls(not crawler.settings.getbool("SGI_SAMPLE_WEB"), AddressGuard.from_settings(crawler.settings))

    async def process_request(self, request, spider=None):
        from scrapy.utils.defer import maybe_deferred_to_future
        from twisted.internet import reactor

        from spiders.resolver import RefusedLookup

        host = urlsplit(request.url).hostname or ""
        if not self.enabled or not host or literal_address(host) is not None:
            return None     # IP literals: LoopbackGuardMiddleware
        try:
            address = await maybe_deferred_to_future(reactor.resolver.getHostByName(host))
        except RefusedLookup as exc:
            raise AddressRefused(exc.args[0] if exc.args else str(exc)) from None
        except Exception:
            return None     # the download fails to resolve it too, and records why
        reason = self.guard.refusal(address, host)
        if reason:
            raise AddressRefused(reason)
        return None


class EvidenceMiddleware:
    """Archives every response to WARC and records a snapshot row; failed fetches are recorded too.

    The parser finds its evidence reference in ``response.meta['sgi_snapshot']``; an errback finds the
    last failed attempt's in ``failure.request.meta['sgi_snapshot']``.
    """

    def __init__(self, crawler):
        self.crawler = crawler
        crawler.signals.connect(self._closed, signal=signals.spider_closed)

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    def process_request(self, request, spider=None):
        request.meta.setdefault("sgi_started", time.monotonic())
        return None

    def process_response(self, request, response, spider=None):
        from collectors.page import Page
        from spiders import incremental
        from spiders.base import page_from_response

        store = store_for(self.crawler)
        started = request.meta.get("sgi_started")
        elapsed = (time.monotonic() - started) * 1000 if started else None
        replayed = incremental.replayed_ref(request, response)
        if replayed is not None:
            # A resumed run answered this hop from its own journal: the snapshot row already exists.
            store.claim_snapshot_id(replayed.id)
            request.meta["sgi_snapshot"] = replayed
            request.meta["sgi_elapsed_ms"] = elapsed
            request.meta.pop("sgi_started", None)
            return response
        redirects = request.meta.get("redirect_urls") or []
        reuse = incremental.reuse_of(request, response)
        if reuse is not None:   # the body is an earlier record's: 304 not_modified, or reused (not due)
            fetch_status, http_status = reuse["kind"], reuse["http_status"]
            encoding = None     # a 304 records no body of its own
            if fetch_status == "reused":     # the earlier reading of the same bytes, when it is known
                encoding = reuse["body"].encoding or (
                    page_from_response(response, request).encoding if response.body else None)
        else:
            page: Page = page_from_response(response, request)
            fetch_status, http_status = classify_fetch(page), response.status
            encoding = page.encoding if response.body else None
        headers = [(k.decode("latin-1"), v.decode("latin-1")) for k, vs in response.headers.items() for v in vs]
        content_type = response.headers.get("Content-Type", b"").decode("latin-1") or None
        with store.together():
            ref = store.record_response(
                city_code=request.meta.get("city_code"), spider=getattr(self.crawler.spider, "name", ""),
                requested_url=redirects[0] if redirects else request.url, final_url=response.url,
                http_status=http_status, reason="", headers=headers, body=response.body,
                fetched_at=datetime.now(timezone.utc), elapsed_ms=elapsed, fetch_status=fetch_status,
                content_type=content_type, encoding=encoding, rendered="playwright" in response.flags,
                reused=reuse["body"] if reuse else None, snapshot_id=request.meta.get("sgi_snapshot_id"))
            incremental.record_hop(self.crawler, store, request, ref,
                                   etag=_header(response, b"ETag"), last_modified=_header(response, b"Last-Modified"))
        request.meta["sgi_snapshot"] = ref
        request.meta["sgi_elapsed_ms"] = elapsed
        request.meta.pop("sgi_started", None)  # a retry measures its own time
        return response

    def process_exception(self, request, exception, spider=None):
        if isinstance(exception, IgnoreRequest) and not isinstance(exception, SiteUnavailable):
            return None     # not sent by choice (robots.txt rules, offsite): nothing was asked
        store = store_for(self.crawler)
        started = request.meta.get("sgi_started")
        elapsed = (time.monotonic() - started) * 1000 if started else None
        name = type(exception).__name__
        status = "error"
        from spiders import incremental

        with store.together():
            ref = store.record_failure(city_code=request.meta.get("city_code"),
                                       spider=getattr(self.crawler.spider, "name", ""), url=request.url,
                                       fetched_at=datetime.now(timezone.utc), fetch_status=status,
                                       error=f"{name}: {exception}", elapsed_ms=elapsed,
                                       snapshot_id=request.meta.get("sgi_snapshot_id"))
            incremental.record_hop(self.crawler, store, request, ref, failed=True)
        request.meta["sgi_snapshot"] = ref
        request.meta.pop("sgi_started", None)
        return None

    def _closed(self, spider, reason):
        store_for(self.crawler).flush()


def _header(response, name: bytes) -> str | None:
    value = response.headers.get(name)
    return value.decode("latin-1") if value else None


class MetaRefreshMiddleware(_MetaRefreshMiddleware):
    """Scrapy's MetaRefreshMiddleware, following a refresh on the same host only (a refresh to another
    host is not followed, as a redirect to another host is not). Scrapy's decodes every HTML body to
    look for a refresh in its first 4,096 characters; here the common answer is settled on the bytes: in
    an ASCII-compatible encoding those characters lie within the first 16,384 bytes (at most 4 bytes a
    character), so a head without the bytes 'refresh' in any case has none. Anything else (a hit,
    UTF-16/32 bodies with NUL bytes) goes to Scrapy's reading unchanged."""

    def process_response(self, request, response, spider=None):
        if isinstance(response, HtmlResponse) and not may_refresh(response.body):
            return response
        answer = super().process_response(request, response)
        if isinstance(answer, Request) and not same_host(answer.url, request.url):
            # Another host is not followed, as a 302 to another host is not: the refreshing page stays the
            # answer (archived as it is); a public page must not steer the crawler elsewhere.
            logger.info("meta refresh to another host not followed: %s -> %s", request.url, answer.url)
            self.crawler.stats.inc_value("sgi/meta_refresh/other_host_not_followed")
            return response
        return answer


def same_host(url: str, other: str) -> bool:
    def host(u: str) -> str:
        return (urlsplit(u).hostname or "").lower().rstrip(".")
    return host(url) == host(other)


def may_refresh(body: bytes) -> bool:
    head = body[:16384]
    return b"\x00" in head[:1024] or b"refresh" in head.lower()
