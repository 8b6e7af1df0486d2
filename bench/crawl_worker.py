"""Subprocess side of the throughput benchmark (a Twisted reactor runs once per process).

  python -m bench.crawl_worker full SETTINGS.json DB_URL OUT.json [SPIDER,..]  the sgi pipeline (parse, WARC, SQLite)
  python -m bench.crawl_worker bare SETTINGS.json FETCHES.json OUT.json  bare Scrapy spiders, same fetches
  python -m bench.crawl_worker bare-transport ...                       the same with sgi's scheduling

FETCHES.json is what the sgi run fetched, per spider and in order: [{"url": requested URL, "render": bool}].
The bare side runs one bare spider per sgi spider in one process (the sgi spiders also run side by side,
each with its own CONCURRENT_REQUESTS), with the same download handlers (scrapy-playwright, which hands
plain requests to Scrapy's HTTP/1.1 handler), the same browser launch options for the pages sgi rendered,
the same robots.txt handling, DNS resolver and per-host concurrency. It parses nothing and stores nothing.
Both sides report the same numbers: responses counted by Scrapy's downloader stats, and crawl time from
engine start to close (max over the spiders of the process).
"""

from __future__ import annotations

import json
import sys


def full(settings_file: str, db_url: str, out_file: str, spiders: str = "") -> None:
    from sgi.crawl import run_crawl

    settings = json.load(open(settings_file))
    result = run_crawl(db_url=db_url, spiders=[s for s in spiders.split(",") if s] or None, cities=None,
                       run_key="bench", extra_settings=settings, quiet=True)
    elapsed = result["elapsed_s"]
    json.dump({"elapsed_s": elapsed, "responses": sum(result["responses_by_status"].values()),
               "requests": result["requests"]}, open(out_file, "w"))


# sgi's own request scheduling (spiders/politeness.py: a host gets a request only when its slot has room;
# per-host concurrency really capped). "bare-transport" gives them to the bare side too, so the ratio
# measures what parsing, rules, WARC and SQLite cost; plain "bare" is stock Scrapy.
SGI_SCHEDULING = ("DOWNLOADER", "SCHEDULER_PRIORITY_QUEUE")


def bare_settings(settings: dict, transport: bool = False) -> dict:
    """The sgi crawl's transport settings, without any sgi middleware, pipeline or extension (with
    ``transport``, also sgi's scheduler queue and downloader)."""
    from scrapy.settings import Settings

    import spiders.settings as project
    from spiders import browser

    ours = Settings()
    ours.setmodule(project)
    ours.setdict(settings, priority="cmdline")
    keep = ("USER_AGENT", "ROBOTSTXT_OBEY", "ROBOTSTXT_PARSER", "CONCURRENT_REQUESTS", "CONCURRENT_REQUESTS_PER_DOMAIN",
            "DOWNLOAD_DELAY", "RANDOMIZE_DOWNLOAD_DELAY", "AUTOTHROTTLE_ENABLED", "DOWNLOAD_TIMEOUT",
            "DOWNLOAD_MAXSIZE", "REDIRECT_MAX_TIMES", "CONCURRENT_ITEMS", "COOKIES_ENABLED", "TWISTED_DNS_RESOLVER", "TWISTED_REACTOR",
            "DOWNLOAD_HANDLERS", "PLAYWRIGHT_BROWSER_TYPE", "PLAYWRIGHT_BROWSER_PROVIDER", "_PLAYWRIGHT_THREADED_LOOP", "PLAYWRIGHT_DEFAULT_NAVIGATION_TIMEOUT",
            "PLAYWRIGHT_MAX_PAGES_PER_CONTEXT", "PLAYWRIGHT_MAX_CONTEXTS", "PLAYWRIGHT_ABORT_REQUEST",
            "SGI_SAMPLE_WEB", "SGI_HOST_MAP", "SGI_DNS_SERVER", "REQUEST_FINGERPRINTER_IMPLEMENTATION")
    keep += SGI_SCHEDULING if transport else ()
    out = {k: ours[k] for k in keep if k in ours}
    out["DOWNLOAD_HANDLERS"] = dict(ours.getdict("DOWNLOAD_HANDLERS"))
    out.update({"LOG_LEVEL": "WARNING", "TELNETCONSOLE_ENABLED": False,
                # Every attempt sgi made (retries included) is its own entry in FETCHES.json.
                "RETRY_ENABLED": False,
                "PLAYWRIGHT_LAUNCH_OPTIONS": browser.launch_options(True, ours.get("SGI_CHROMIUM"))})
    return out


def bare_transport(settings_file: str, fetches_file: str, out_file: str) -> None:
    bare(settings_file, fetches_file, out_file, transport=True)


def bare(settings_file: str, fetches_file: str, out_file: str, transport: bool = False) -> None:
    import scrapy
    from scrapy.crawler import CrawlerProcess

    from spiders import browser

    settings = json.load(open(settings_file))
    fetches = json.load(open(fetches_file))
    browser.SAMPLE_WEB_ONLY = True

    def spider_for(name: str, todo: list[dict]):
        class Bare(scrapy.Spider):
            async def start(self):
                for fetch in todo:
                    meta = {"handle_httpstatus_all": True}
                    if fetch["render"]:
                        # As sgi does: context options with the render, Chromium launched at the first one.
                        meta.update(browser.render_meta(), playwright_context_kwargs={"ignore_https_errors": True})
                    yield scrapy.Request(fetch["url"], dont_filter=True, meta=meta, callback=self.parse,
                                         errback=self.failed)

            def parse(self, response):
                pass

            def failed(self, failure):
                pass

        Bare.name = f"bare_{name}"
        return Bare

    process = CrawlerProcess(bare_settings(settings, transport))
    crawlers = []
    for name, todo in fetches.items():
        crawler = process.create_crawler(spider_for(name, todo))
        process.crawl(crawler)
        crawlers.append(crawler)
    process.start()
    responses = sum(v for c in crawlers for k, v in c.stats.get_stats().items()
                    if k.startswith("downloader/response_status_count/"))
    elapsed = max(c.stats.get_value("elapsed_time_seconds") or 0.0 for c in crawlers)
    json.dump({"elapsed_s": elapsed, "responses": responses,
               "fetches": sum(len(t) for t in fetches.values())}, open(out_file, "w"))


if __name__ == "__main__":
    {"full": full, "bare": bare, "bare-transport": bare_transport}[sys.argv[1]](*sys.argv[2:])
