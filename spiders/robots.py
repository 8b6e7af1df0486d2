"""robots.txt as RFC 9309 says, where Scrapy's RobotsTxtMiddleware differs: a robots.txt that answers
with a server error (5xx, after the retries every request gets) means the site is unreachable, and
the crawler "MUST assume complete disallow" (RFC 9309, 2.3.1.4). Scrapy parses the error page instead,
finds no rules and allows everything, so a site that is down gets every page asked for, each retried
and each after a longer backoff pause (spiders/politeness.py): at production settings a down portal
holds its spider for many minutes and the site for longer.

Here the host's requests in this crawl are refused with :class:`SiteUnavailable` (an IgnoreRequest, so
the spider's errback sees it). Spiders record the pages as ``error`` with that reason, not ``blocked``:
the site did not refuse us, it was down; nothing becomes absent or zero. The robots.txt answer itself
is archived as evidence like any response; each refused request is recorded as a failed fetch of its
own (EvidenceMiddleware: fetch_status error, the reason naming the robots.txt answer's snapshot).
4xx answers (no robots.txt, a 412 challenge) keep Scrapy's meaning: no rules.
``SGI_ROBOTS_SERVER_ERROR = "allow"`` restores Scrapy's behaviour (a site whose robots.txt errors while
its pages work).
"""

from __future__ import annotations

from scrapy.downloadermiddlewares.robotstxt import RobotsTxtMiddleware
from scrapy.exceptions import IgnoreRequest
from scrapy.utils.httpobj import urlparse_cached
from twisted.internet.defer import Deferred


class SiteUnavailable(IgnoreRequest):
    """A request not sent because its site's robots.txt answered with a server error."""


class Unreachable:
    """Stands in for a host's robots parser when its robots.txt answered with a server error."""

    def __init__(self, status: int, snapshot=None):
        self.status = status
        self.snapshot = snapshot    # the robots.txt answer's evidence (EvidenceMiddleware's SnapshotRef)

    def allowed(self, url, user_agent) -> bool:
        return False


class Rfc9309RobotsTxtMiddleware(RobotsTxtMiddleware):
    def __init__(self, crawler):
        super().__init__(crawler)
        reading = crawler.settings.get("SGI_ROBOTS_SERVER_ERROR", "disallow")
        if reading not in ("disallow", "allow"):
            raise ValueError(f"SGI_ROBOTS_SERVER_ERROR must be 'disallow' or 'allow', not {reading!r}")
        self.server_error_disallows = reading == "disallow"

    async def _parse_robots(self, response, netloc, request) -> None:
        if not (self.server_error_disallows and 500 <= response.status < 600):
            return await super()._parse_robots(response, netloc, request)
        self._stats.inc_value("robotstxt/response_count")
        self._stats.inc_value(f"robotstxt/response_status_count/{response.status}")
        self._stats.inc_value("sgi/robots_unreachable")
        waiting = self._parsers[netloc]
        self._parsers[netloc] = unreachable = Unreachable(response.status, response.meta.get("sgi_snapshot"))
        if isinstance(waiting, Deferred):
            waiting.callback(unreachable)

    def process_request_2(self, rp, request) -> None:
        if isinstance(rp, Unreachable):
            self._stats.inc_value("sgi/robots_unreachable_refused")
            cited = f" (snapshot {rp.snapshot.id})" if getattr(rp.snapshot, "id", None) else ""
            raise SiteUnavailable(f"site unavailable: {urlparse_cached(request).netloc}/robots.txt answered "
                                  f"HTTP {rp.status}{cited}; RFC 9309: a server error disallows the whole site")
        super().process_request_2(rp, request)


def refused_by_robots(failure) -> bool:
    """True when a request was not sent because robots.txt disallows it (blocked by the site's own
    rules); False for any other failure, a site whose robots.txt answered a server error included
    (that site was down: an error)."""
    if not failure.check(IgnoreRequest) or failure.check(SiteUnavailable):
        return False
    return "robots" in str(failure.value).lower()
