"""Subprocess side of the throughput benchmark (a Twisted reactor runs once per process).

  python -m bench.crawl_worker full SETTINGS.json DB_URL OUT.json   the sgi pipeline (parse, WARC, SQLite)
  python -m bench.crawl_worker bare SETTINGS.json URLS.txt OUT.json   a bare Scrapy spider, same URLs
"""

from __future__ import annotations

import json
import sys


def full(settings_file: str, db_url: str, out_file: str) -> None:
    from sgi.crawl import run_crawl

    settings = json.load(open(settings_file))
    result = run_crawl(db_url=db_url, spiders=None, cities=None, run_key="bench", extra_settings=settings,
                       quiet=True)
    elapsed = result["elapsed_s"]
    json.dump({"elapsed_s": elapsed, "responses": sum(result["responses_by_status"].values()),
               "requests": result["requests"]}, open(out_file, "w"))


def bare(settings_file: str, urls_file: str, out_file: str) -> None:
    import scrapy
    from scrapy.crawler import CrawlerProcess

    settings = json.load(open(settings_file))
    urls = [u.strip() for u in open(urls_file) if u.strip()]
    counts = {"responses": 0}

    class Bare(scrapy.Spider):
        name = "bare"

        async def start(self):
            for url in urls:
                yield scrapy.Request(url, dont_filter=True, meta={"handle_httpstatus_all": True})

        def parse(self, response):
            counts["responses"] += 1

    process = CrawlerProcess({
        "LOG_LEVEL": "WARNING", "ROBOTSTXT_OBEY": False, "TELNETCONSOLE_ENABLED": False,
        "CONCURRENT_REQUESTS_PER_DOMAIN": settings.get("CONCURRENT_REQUESTS_PER_DOMAIN", 4),
        "CONCURRENT_REQUESTS": 32, "DOWNLOAD_DELAY": 0, "RETRY_ENABLED": False,
        "TWISTED_DNS_RESOLVER": "spiders.resolver.SampleWebResolver", "SGI_SAMPLE_WEB": True,
        "SGI_HOST_MAP": settings["SGI_HOST_MAP"],
    })
    crawler = process.create_crawler(Bare)
    process.crawl(crawler)
    process.start()
    elapsed = crawler.stats.get_value("elapsed_time_seconds")
    json.dump({"elapsed_s": elapsed, "responses": counts["responses"]}, open(out_file, "w"))


if __name__ == "__main__":
    {"full": full, "bare": bare}[sys.argv[1]](*sys.argv[2:])
