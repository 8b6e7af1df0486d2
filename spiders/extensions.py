"""Records what a crawl did (requests, responses by status, items, errors) on its crawl_run row."""

from __future__ import annotations

import gc
import logging

from scrapy import signals

from spiders.store import store_for
from storage.store import finish_run


def crawl_counts(stats: dict) -> dict:
    by_status = {k.rsplit("/", 1)[-1]: v for k, v in stats.items()
                 if k.startswith("downloader/response_status_count/")}
    return dict(requests=int(stats.get("downloader/request_count", 0)), responses_by_status=by_status,
                items=int(stats.get("item_scraped_count", 0)),
                errors=int(stats.get("log_count/ERROR", 0)) + int(stats.get("downloader/exception_count", 0)),
                elapsed_s=float(stats.get("elapsed_time_seconds", 0.0)))


class CrawlRunRecorder:
    def __init__(self, crawler):
        self.crawler = crawler
        crawler.signals.connect(self.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(self.spider_closed, signal=signals.spider_closed)

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    def spider_opened(self, spider):
        store_for(self.crawler)  # open the run and the archive before the first response
        tune_gc(self.crawler.settings)
        skip_unlogged_records(+1)

    def spider_closed(self, spider, reason):
        skip_unlogged_records(-1)
        store = store_for(self.crawler)
        store.close()
        counts = crawl_counts(self.crawler.stats.get_stats())
        self.crawler.sgi_counts = counts
        if getattr(self.crawler, "sgi_owns_run", False):
            finish_run(store.url, store.run_id, state="finished" if reason == "finished" else "failed",
                       **{k: v for k, v in counts.items() if k != "elapsed_s"})


_gc_tuned = False


def tune_gc(settings) -> None:
    """Once per crawl process, as its first spider opens: what is loaded by then (code, settings,
    lexicons, sources) lives as long as the process, so it is moved out of the collector's way
    (gc.freeze), and collections run less often (SGI_GC_THRESHOLDS). With Python's defaults the cyclic
    collector took ~20% of a crawl's CPU, re-scanning those objects (bench/profile_crawl.py)."""
    global _gc_tuned
    if _gc_tuned:
        return
    _gc_tuned = True
    thresholds = [int(v) for v in settings.getlist("SGI_GC_THRESHOLDS", [])]
    if thresholds:
        gc.set_threshold(*thresholds)
    gc.freeze()


_crawling = {"spiders": 0, "root_level": None}


def skip_unlogged_records(opened: int) -> None:
    """While spiders run, records below every root handler's level are not made at all. Scrapy sets
    the root logger to NOTSET, so each scraped item and crawled response built a DEBUG record that its
    handler (at LOG_LEVEL) then dropped: a few percent of a crawl. A handler that takes everything keeps
    NOTSET; the level is restored when the last spider closes (a command goes on logging after it)."""
    root = logging.getLogger()
    _crawling["spiders"] += opened
    if opened > 0 and _crawling["spiders"] == 1:
        levels = [h.level for h in root.handlers]
        _crawling["root_level"] = root.level
        if levels and min(levels) > logging.NOTSET and root.level == logging.NOTSET:
            root.setLevel(min(levels))
    elif opened < 0 and _crawling["spiders"] == 0 and _crawling["root_level"] is not None:
        root.setLevel(_crawling["root_level"])
        _crawling["root_level"] = None
