"""Records what a crawl did (requests, responses by status, items, errors) on its crawl_run row."""

from __future__ import annotations

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

    def spider_closed(self, spider, reason):
        store = store_for(self.crawler)
        store.close()
        counts = crawl_counts(self.crawler.stats.get_stats())
        self.crawler.sgi_counts = counts
        if getattr(self.crawler, "sgi_owns_run", False):
            finish_run(store.url, store.run_id, state="finished" if reason == "finished" else "failed",
                       **{k: v for k, v in counts.items() if k != "elapsed_s"})
