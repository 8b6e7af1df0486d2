"""Subprocess side of the politeness and browser benchmarks (a Twisted reactor runs once per process).

  python -m bench.politeness_worker polite SETTINGS.json URLS.txt OUT.json
      crawl every start URL and its same-host links with the project's settings (robots.txt,
      Crawl-delay, AutoThrottle, per-host concurrency, backoff, User-Agent), minus the evidence store
      and pipelines: what is measured is the pacing, not parsing or WARC writing.
  python -m bench.politeness_worker render SETTINGS.json URLS.txt OUT.json
      render every URL through our Playwright setup (shared browser, context recycling).
"""

from __future__ import annotations

import json
import resource
import sys
from pathlib import Path
from urllib.parse import urlsplit

import scrapy

NOT_MEASURED = {"spiders.middlewares.EvidenceMiddleware": None, "spiders.incremental.ArchiveReplayMiddleware": None}


class Follow(scrapy.Spider):
    name = "bench_polite"

    def __init__(self, urls=(), **kwargs):
        super().__init__(**kwargs)
        self.urls = list(urls)

    async def start(self):
        for url in self.urls:
            yield scrapy.Request(url, meta={"handle_httpstatus_all": True})

    def parse(self, response):
        host = urlsplit(response.url).hostname
        for href in response.css("a::attr(href)").getall():
            url = response.urljoin(href)
            if urlsplit(url).hostname == host:
                yield scrapy.Request(url, meta={"handle_httpstatus_all": True})


class Render(scrapy.Spider):
    name = "bench_render"

    def __init__(self, urls=(), **kwargs):
        super().__init__(**kwargs)
        self.urls = list(urls)
        self.rendered = 0

    async def start(self):
        from spiders import browser

        for url in self.urls:
            yield scrapy.Request(url, dont_filter=True,
                                 meta={**browser.render_meta(wait=False), "handle_httpstatus_all": True})

    def parse(self, response):
        if "playwright" in response.flags:
            self.rendered += 1


def out_dir_of(settings_file: str) -> str:
    return str(Path(settings_file).resolve().parent)


def _settings(settings_file: str, render: bool):
    from sgi.crawl import scrapy_settings
    from spiders import browser

    overrides = json.load(open(settings_file))
    mws = {**dict(scrapy_settings().getdict("DOWNLOADER_MIDDLEWARES")), **NOT_MEASURED}
    overrides.setdefault("LOG_LEVEL", "WARNING")
    # Nothing measured here writes evidence; a component that opens the store anyway gets a throwaway one.
    overrides.setdefault("SGI_DATABASE_URL", f"sqlite:///{Path(out_dir_of(settings_file)) / 'bench.db'}")
    overrides.setdefault("SGI_INCREMENTAL", False)
    overrides.update({"DOWNLOADER_MIDDLEWARES": mws, "ITEM_PIPELINES": {},
                      "EXTENSIONS": {k: v for k, v in scrapy_settings().getdict("EXTENSIONS").items()
                                     if "CrawlRunRecorder" not in k}})
    if render:
        browser.SAMPLE_WEB_ONLY = True
        overrides.setdefault("PLAYWRIGHT_LAUNCH_OPTIONS", browser.launch_options(True))
        overrides.setdefault("PLAYWRIGHT_CONTEXTS", {browser.BASE_CONTEXT: {"ignore_https_errors": True}})
    return scrapy_settings(overrides)


def main(mode: str, settings_file: str, urls_file: str, out_file: str) -> None:
    from scrapy.crawler import CrawlerProcess

    urls = [u.strip() for u in open(urls_file) if u.strip()]
    process = CrawlerProcess(_settings(settings_file, mode == "render"))
    crawler = process.create_crawler(Render if mode == "render" else Follow)
    process.crawl(crawler, urls=urls)
    process.start()
    stats = crawler.stats.get_stats()
    usage = resource.getrusage(resource.RUSAGE_SELF)
    json.dump({"elapsed_s": stats.get("elapsed_time_seconds"), "cpu_s": usage.ru_utime + usage.ru_stime,
               "responses": stats.get("response_received_count", 0),
               "rendered": getattr(crawler.spider, "rendered", None),
               "stats": {k: v for k, v in stats.items() if isinstance(v, (int, float, str))}},
              open(out_file, "w"))


if __name__ == "__main__":
    main(*sys.argv[1:])
