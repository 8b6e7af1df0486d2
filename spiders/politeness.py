"""Per-host politeness: robots.txt Crawl-delay, 429/503 and Retry-After backoff, blocked-response
accounting, and an AutoThrottle that never goes below what a host asked for.

Scrapy paces requests per *download slot* (one per host name: ``Downloader.get_slot_key``), with
``slot.delay`` seconds between request starts and at most ``slot.concurrency`` requests in flight
(CONCURRENT_REQUESTS_PER_DOMAIN). Scrapy itself reads robots.txt only to allow or refuse URLs; it
ignores Crawl-delay and Retry-After. This module keeps, per slot, a *floor* under ``slot.delay``:

    floor = max(robots Crawl-delay (capped by SGI_MAX_CRAWL_DELAY), current backoff pause)

and applies it to the live slot and to ``DOWNLOAD_SLOTS`` (the downloader's per-slot settings), so a
slot that Scrapy garbage-collects after a minute idle comes back with the same floor. While a floor is
set the slot's jitter is 0: Scrapy's jitter is symmetric and would otherwise send requests earlier
than the host allows (our backoff pauses carry their own, upward-only, jitter).

Stats keys (per crawler, i.e. per spider) that the nightly report can read; ``<host>`` is the slot key:

    sgi/politeness/crawl_delay/<host>          seconds applied from robots.txt Crawl-delay
    sgi/politeness/crawl_delay_capped/<host>   seconds the host asked for, when above SGI_MAX_CRAWL_DELAY
    sgi/politeness/backoff/<host>              number of backoff events (429 / 503 / Retry-After)
    sgi/politeness/backoff_max_s/<host>        longest pause imposed on the host
    sgi/politeness/retry_after_capped/<host>   Retry-After seconds asked for, when above SGI_MAX_RETRY_AFTER
    sgi/blocked/<host>                         blocked responses (412 challenge, 403, captcha, 429 ...)
    sgi/blocked/browser_retry/<host>           blocked pages retried through the browser (at most once each)
    sgi/blocked/browser_retry_refused/<host>   further browser retries of a blocked page, refused

The same, grouped per host, is written to ``crawl_run.settings['politeness'][<spider>]`` when the
spider closes (see :func:`politeness_summary`).
"""

from __future__ import annotations

import email.utils
import logging
import random
import time
from dataclasses import dataclass
from datetime import datetime, timezone

from contextlib import suppress
from pathlib import Path
from time import monotonic

from scrapy import signals
from scrapy.core.downloader import Downloader
from scrapy.exceptions import IgnoreRequest
from scrapy.extensions.throttle import AutoThrottle
from scrapy.pqueues import DownloaderAwarePriorityQueue
from scrapy.utils.asyncio import call_later
from scrapy.utils.httpobj import urlparse_cached

from spiders import compat

logger = logging.getLogger(__name__)

BACKOFF_STATUSES = {429, 503}
BLOCKED = "blocked"


# --- pure policy ------------------------------------------------------------------------------------
def parse_retry_after(value: str | bytes | None, now: datetime | None = None) -> float | None:
    """Seconds to wait from a Retry-After header (delta-seconds or HTTP-date), or None if unreadable."""
    if value is None:
        return None
    if isinstance(value, bytes):
        value = value.decode("latin-1")
    value = value.strip()
    if not value:
        return None
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when is None:
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    now = now or datetime.now(timezone.utc)
    return max(0.0, (when - now).total_seconds())


def backoff_pause(level: int, base: float, cap: float, rng: random.Random | None = None) -> float:
    """Pause after the level-th consecutive push-back: base * 2**(level-1), plus up to 25% upward jitter
    (so many hosts that failed together do not come back together), never above cap."""
    if level <= 0:
        return 0.0
    exact = base * 2 ** (level - 1)
    jitter = 1 + 0.25 * (rng or random).random()
    return min(cap, exact * jitter)


def capped(value: float, cap: float) -> tuple[float, bool]:
    """(value limited to cap, whether the cap applied)."""
    return (cap, True) if value > cap else (value, False)


def pushes_back(status: int, retry_after: float | None) -> bool:
    """A response that tells us to slow down: 429 / 503, or any error status carrying Retry-After."""
    return status in BACKOFF_STATUSES or (retry_after is not None and status >= 400)


@dataclass
class HostPace:
    """What we know about one download slot's pace."""

    crawl_delay: float = 0.0        # from robots.txt, already capped
    backoff_level: int = 0          # consecutive push-backs not yet decayed
    backoff_s: float = 0.0          # current backoff pause

    @property
    def floor(self) -> float:
        return max(self.crawl_delay, self.backoff_s)


# --- the per-crawler registry ------------------------------------------------------------------------
class Politeness:
    """Per-crawler state shared by the middleware and the AutoThrottle subclass."""

    def __init__(self, crawler):
        self.crawler = crawler
        s = crawler.settings
        self.max_crawl_delay = s.getfloat("SGI_MAX_CRAWL_DELAY", 30.0)
        self.backoff_base = s.getfloat("SGI_BACKOFF_BASE", 5.0)
        self.backoff_max = s.getfloat("SGI_BACKOFF_MAX", 300.0)
        self.max_retry_after = s.getfloat("SGI_MAX_RETRY_AFTER", 600.0)
        self.robots_agent = s.get("ROBOTSTXT_USER_AGENT") or s.get("USER_AGENT") or "*"
        self.hosts: dict[str, HostPace] = {}
        self.rng = random.Random()
        self._slot_settings_saved: dict[str, dict] = {}

    @classmethod
    def of(cls, crawler) -> "Politeness":
        found = getattr(crawler, "sgi_politeness", None)
        if found is None:
            found = cls(crawler)
            crawler.sgi_politeness = found
        return found

    def pace(self, key: str) -> HostPace:
        return self.hosts.setdefault(key, HostPace())

    def floor(self, key: str | None) -> float:
        pace = self.hosts.get(key) if key is not None else None
        return pace.floor if pace else 0.0

    # --- applying a floor to Scrapy's slots ------------------------------------------------------------
    def _downloader(self):
        engine = getattr(self.crawler, "engine", None)
        return getattr(engine, "downloader", None)

    def apply(self, key: str, restart_clock: bool = False) -> None:
        """Make the slot's delay at least the host's floor (now and for a slot re-created later).

        restart_clock: count the pause from now rather than from the last request's start (a
        Retry-After means 'from this answer on')."""
        downloader = self._downloader()
        if downloader is None:
            return
        floor = self.floor(key)
        per_slot = downloader.per_slot_settings
        if key not in self._slot_settings_saved:
            self._slot_settings_saved[key] = dict(per_slot.get(key, {}))
        configured = self._slot_settings_saved[key]
        base_delay = float(configured.get("delay", compat.downloader_default_delay(downloader)))
        if floor > 0:
            per_slot[key] = {**configured, "delay": max(base_delay, floor), "jitter": 0.0}
        elif configured:
            per_slot[key] = dict(configured)
        else:
            per_slot.pop(key, None)
        slot = downloader.slots.get(key)
        if slot is None:
            return
        if floor > 0:
            slot.delay = max(slot.delay, floor)
            slot.jitter = 0.0
        else:
            slot.delay = base_delay
            slot.jitter = float(configured.get("jitter", compat.downloader_default_jitter(downloader)))
        if restart_clock:
            self.restart_clock(key)

    def restart_clock(self, key: str) -> None:
        """Count the host's next pause from now."""
        downloader = self._downloader()
        slot = downloader.slots.get(key) if downloader else None
        if slot is not None:
            slot.lastseen = time.monotonic()

    def lower_to_floor(self, key: str) -> None:
        """After a backoff decays, let the slot come back down (AutoThrottle moves it from there)."""
        downloader = self._downloader()
        slot = downloader.slots.get(key) if downloader else None
        if slot is not None:
            configured = self._slot_settings_saved.get(key, {})
            slot.delay = max(float(configured.get("delay", compat.downloader_default_delay(downloader))), self.floor(key))
        self.apply(key)

    # --- events ----------------------------------------------------------------------------------------
    def robots_parsed(self, robotparser, request) -> None:
        """Crawl-delay from the parser RobotsTxtMiddleware already fetched (one robots.txt per netloc)."""
        try:
            asked = robotparser.crawl_delay(self.robots_agent)
        except Exception:   # a parser without Crawl-delay support
            asked = None
        if not asked or asked <= 0:
            return
        downloader = self._downloader()
        key = downloader.get_slot_key(request) if downloader else (urlparse_cached(request).hostname or "")
        delay, was_capped = capped(float(asked), self.max_crawl_delay)
        pace = self.pace(key)
        pace.crawl_delay = max(pace.crawl_delay, delay)   # http and https robots of one host: the stricter
        stats = self.crawler.stats
        stats.set_value(f"sgi/politeness/crawl_delay/{key}", pace.crawl_delay)
        if was_capped:
            stats.set_value(f"sgi/politeness/crawl_delay_capped/{key}", float(asked))
            logger.warning("robots.txt of %s asks Crawl-delay %.1f s; capped at SGI_MAX_CRAWL_DELAY %.1f s",
                           key, asked, self.max_crawl_delay)
        else:
            logger.info("robots.txt of %s: Crawl-delay %.1f s applied to its download slot", key, delay)
        self.apply(key, restart_clock=True)   # the first page waits d after robots.txt came back

    def response_downloaded(self, response, request) -> None:
        """Back off on 429 / 503 / Retry-After; decay a backoff after a success.

        Runs on the downloader's response_downloaded signal, i.e. before the slot dispatches its next
        request, so that request already waits."""
        key = request.meta.get("download_slot")
        if key is None:
            return
        retry_after = parse_retry_after(response.headers.get(b"Retry-After"))
        pace = self.hosts.get(key)
        if pace is not None and pace.floor > 0:
            # Scrapy counts a delay from a request's dispatch; a request that left late (a busy process)
            # would then reach the host less than d after the previous one. Counted from this answer, the
            # host sees at least d between requests, whatever the lags.
            self.restart_clock(key)
        if pushes_back(response.status, retry_after):
            pace = self.pace(key)
            pace.backoff_level += 1
            pause = backoff_pause(pace.backoff_level, self.backoff_base, self.backoff_max, self.rng)
            stats = self.crawler.stats
            if retry_after is not None:
                honoured, was_capped = capped(retry_after, self.max_retry_after)
                if was_capped:
                    stats.set_value(f"sgi/politeness/retry_after_capped/{key}", retry_after)
                    logger.warning("%s asks Retry-After %.0f s; capped at SGI_MAX_RETRY_AFTER %.0f s",
                                   key, retry_after, self.max_retry_after)
                pause = max(pause, honoured)
            pace.backoff_s = pause
            stats.inc_value(f"sgi/politeness/backoff/{key}")
            stats.max_value(f"sgi/politeness/backoff_max_s/{key}", round(pause, 3))
            logger.info("%s answered HTTP %s%s: next request to it in %.1f s", key, response.status,
                        f" (Retry-After {retry_after:.0f} s)" if retry_after is not None else "", pause)
            self.apply(key, restart_clock=True)
        elif pace is not None and pace.backoff_level and response.status < 400:
            pace.backoff_level -= 1
            pace.backoff_s = (0.0 if pace.backoff_level == 0 else
                              min(self.backoff_max, self.backoff_base * 2 ** (pace.backoff_level - 1)))
            self.lower_to_floor(key)


def politeness_summary(stats: dict) -> dict:
    """The sgi/politeness/* and sgi/blocked/* stats grouped per host, for crawl_run.settings and reports:
    {'crawl_delay': {host: s}, 'crawl_delay_capped': {host: s asked}, 'backoff': {host: n},
     'backoff_max_s': {host: s}, 'retry_after_capped': {host: s}, 'blocked': {host: n},
     'browser_retry': {host: n}, 'browser_retry_refused': {host: n}}"""
    out: dict[str, dict] = {}
    for key, value in stats.items():
        if key.startswith("sgi/politeness/"):
            kind, _, host = key[len("sgi/politeness/"):].partition("/")
        elif key.startswith("sgi/blocked/"):
            rest = key[len("sgi/blocked/"):]
            kind, _, host = rest.partition("/") if rest.startswith("browser_retry") else ("blocked", "", rest)
        else:
            continue
        if host:
            out.setdefault(kind, {})[host] = value
    return out


# --- Scrapy components ------------------------------------------------------------------------------
class PolitenessMiddleware:
    """Downloader middleware (between EvidenceMiddleware 580 and RetryMiddleware 550 in response order):
    wires the per-host pace to Scrapy's signals, counts blocked responses per host, and lets a blocked
    page through the browser at most once."""

    def __init__(self, crawler):
        self.crawler = crawler
        self.politeness = Politeness.of(crawler)
        self._browser_retried: set[str] = set()
        crawler.signals.connect(self._robots_parsed, signal=signals.robots_parsed)
        crawler.signals.connect(self._response_downloaded, signal=signals.response_downloaded)
        crawler.signals.connect(self._spider_closed, signal=signals.spider_closed)

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    def _robots_parsed(self, robotparser, request):
        self.politeness.robots_parsed(robotparser, request)

    def _response_downloaded(self, response, request, spider=None):
        self.politeness.response_downloaded(response, request)

    def process_request(self, request, spider=None):
        # Spiders mark a browser retry of a blocked plain fetch with sgi_plain_fetch='blocked'.
        if request.meta.get("playwright") and request.meta.get("sgi_plain_fetch") == BLOCKED:
            host = urlparse_cached(request).hostname or ""
            if request.url in self._browser_retried:
                self.crawler.stats.inc_value(f"sgi/blocked/browser_retry_refused/{host}")
                raise IgnoreRequest("blocked page already retried once through the browser")
            self._browser_retried.add(request.url)
            self.crawler.stats.inc_value(f"sgi/blocked/browser_retry/{host}")
        return None

    def process_response(self, request, response, spider=None):
        if request.meta.get("playwright") and {"sgi-replayed", "sgi-reused"} & set(response.flags):
            # Answered from the journal or the archive (spiders/incremental.py): the site was not asked,
            # so a browser retry is still to come (a spider re-rendering for the challenge's cookies).
            self._browser_retried.discard(request.url)
        if fetch_status_of(request, response) == BLOCKED:
            host = request.meta.get("download_slot") or urlparse_cached(request).hostname or ""
            self.crawler.stats.inc_value(f"sgi/blocked/{host}")
        return response

    def _spider_closed(self, spider, reason):
        summary = politeness_summary(self.crawler.stats.get_stats())
        self.crawler.sgi_politeness_summary = summary
        store = getattr(self.crawler, "sgi_store", None)
        if store is not None and summary:
            try:
                record_on_run(store.url, store.run_id, spider.name, summary)
            except Exception:   # the report loses a detail; the crawl's data is unaffected
                logger.exception("could not record the politeness summary on crawl_run %s", store.run_id)


def fetch_status_of(request, response) -> str:
    """The fetch classification EvidenceMiddleware already made (it runs first), else our own."""
    ref = request.meta.get("sgi_snapshot")
    status = getattr(ref, "fetch_status", None)
    if status in ("reused", "not_modified"):
        return status   # an archived body, classified when it was fetched (its status is not this answer's)
    if status is not None and getattr(ref, "http_status", response.status) == response.status:
        return status
    from collectors.fetch import classify_fetch
    from spiders.base import page_from_response

    return classify_fetch(page_from_response(response))


def record_on_run(db_url: str | None, run_id: int, spider: str, summary: dict) -> None:
    """Merge the spider's politeness summary into crawl_run.settings['politeness'][spider]."""
    from sqlalchemy import select, update

    from storage import db
    from storage.models import CrawlRun

    with db.get_engine(db_url).begin() as conn:
        row = conn.execute(select(CrawlRun.settings).where(CrawlRun.id == run_id)).first()
        if row is None:
            return
        settings = dict(row[0] or {})
        politeness = dict(settings.get("politeness") or {})
        politeness[spider] = summary
        settings["politeness"] = politeness
        conn.execute(update(CrawlRun).where(CrawlRun.id == run_id).values(settings=settings))


class PoliteDownloader(Downloader):
    """Scrapy's downloader with two pacing fixes (Scrapy 2.19 with the asyncio reactor):

    - a slot dispatches at most as many requests as it has free transfer places. Scrapy counts a
      request as transferring only once its download task starts, which with asyncio is after the
      dispatch loop: with no delay, one free place let a whole queued burst through (3, 4 ... requests
      in flight to one host with CONCURRENT_REQUESTS_PER_DOMAIN = 2);
    - a slot with nothing queued sets no timer. Scrapy armed one after each dispatch, so a request
      arriving later waited for a delay computed earlier, e.g. the pause of a backoff already decayed.
    """

    def _process_queue(self, slot) -> None:
        if slot.latercall or not slot.queue:
            return
        now = monotonic()
        delay = slot.download_delay()
        if delay:
            penalty = delay - now + slot.lastseen
            if penalty > 0:
                slot.latercall = call_later(penalty, self._latercall, slot)
                return
        while slot.queue and slot.free_transfer_slots() > 0:
            slot.lastseen = now
            request, queue_dfd = slot.queue.popleft()
            slot.transferring.add(request)   # now, not when the task starts (_download adds it again)
            compat.schedule_coro(self._wait_for_download(slot, request, queue_dfd))
            if delay:
                self._process_queue(slot)
                break


class HostFairPriorityQueue(DownloaderAwarePriorityQueue):
    """Scrapy's DownloaderAwarePriorityQueue (hosts with the fewest active downloads first), except that it
    hands out nothing for a host whose download slot is already full (as many requests as its
    concurrency). Scrapy's pulled every scheduled request into the downloader, where they waited out
    their host's delay while counting against CONCURRENT_REQUESTS, so a few hosts' backlogs kept every
    other host, new cities included, waiting. The engine asks again after each download and on its
    heartbeat; spider_idle still sees the pending requests (len() is unchanged)."""

    def _slots_with_room(self) -> list:
        """(active downloads, slot) of the hosts whose download slot can take one more request."""
        downloader = compat.queue_downloader(self)
        default = downloader.domain_concurrency
        return [(active, slot) for active, slot in compat.queue_slot_activity(self)
                if active < _slot_concurrency(downloader, slot, default)]

    def pop(self):
        room = self._slots_with_room()
        if not room:
            return None
        slot = compat.queue_next_slot(self, room, update_state=True)
        queue = self.pqueues[slot]
        request = queue.pop()
        if len(queue) == 0:
            del self.pqueues[slot]
            queue.close()
            if self.key:
                with suppress(OSError):
                    Path(self.key, compat.path_safe(slot)).rmdir()
        return request

    def peek(self):
        room = self._slots_with_room()
        if not room:
            return None
        return self.pqueues[compat.queue_next_slot(self, room, update_state=False)].peek()


def _slot_concurrency(downloader, key: str, default: int) -> int:
    slot = downloader.slots.get(key)
    if slot is not None:
        return slot.concurrency
    return int(downloader.per_slot_settings.get(key, {}).get("concurrency", default))


class PoliteAutoThrottle(AutoThrottle):
    """Scrapy's AutoThrottle, except that it never sets a slot's delay below the host's floor
    (robots Crawl-delay, a running backoff), even above AUTOTHROTTLE_MAX_DELAY."""

    def _response_downloaded(self, response, request, spider=None):
        self._current_key = request.meta.get("download_slot")
        try:
            super()._response_downloaded(response, request, spider)
        finally:
            self._current_key = None

    def _adjust_delay(self, slot, latency, response) -> None:
        super()._adjust_delay(slot, latency, response)
        floor = Politeness.of(self.crawler).floor(getattr(self, "_current_key", None))
        if slot.delay < floor:
            slot.delay = floor
