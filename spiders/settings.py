"""Scrapy settings for sgi (used by `scrapy crawl` via scrapy.cfg and by `sgi crawl`).

Polite by default on the real web: robots.txt obeyed, an honest User-Agent with a contact URL,
at most 2 concurrent requests per host, AutoThrottle, retries with backoff. `sgi crawl --sample-web`
relaxes only the delays (the sample web is ours, on loopback).
"""

import os

from sgi import __version__

BOT_NAME = "sgi"
SPIDER_MODULES = ["spiders"]
NEWSPIDER_MODULE = "spiders"

SGI_CONTACT_URL = os.environ.get("SGI_CONTACT_URL", "https://github.com/sgi-crawler/sgi#crawler")
USER_AGENT = f"sgi/{__version__} (smart-governance indicator research crawler; +{SGI_CONTACT_URL})"

ROBOTSTXT_OBEY = True
ROBOTSTXT_PARSER = "scrapy.robotstxt.ProtegoRobotParser"
# Requests waiting out a host's delay count against this global limit: it must exceed hosts crawled at once
# x 2 (300+ cities), or hosts wait for each other (bench/bench_politeness.py). Per host: 2.
CONCURRENT_REQUESTS = 1024
# The scheduler hands a host a request only when its download slot has room (spiders/politeness.py).
SCHEDULER_PRIORITY_QUEUE = "spiders.politeness.HostFairPriorityQueue"
CONCURRENT_REQUESTS_PER_DOMAIN = 2
DOWNLOAD_DELAY = 1.0
DOWNLOAD_DELAY_JITTER = 0.5               # +-50% (Scrapy 2.19 name); hosts with a Crawl-delay or backoff get 0
AUTOTHROTTLE_ENABLED = True
AUTOTHROTTLE_START_DELAY = 1.0
AUTOTHROTTLE_MAX_DELAY = 30.0
AUTOTHROTTLE_TARGET_CONCURRENCY = 1.0
DOWNLOAD_TIMEOUT = 30
DOWNLOAD_MAXSIZE = 32 * 1024 * 1024      # endless / huge pages are cut off, not read forever
DOWNLOAD_WARNSIZE = 8 * 1024 * 1024
RETRY_ENABLED = True
RETRY_TIMES = 2
RETRY_HTTP_CODES = [500, 502, 503, 504, 522, 524, 408, 429]
REDIRECT_MAX_TIMES = 10                  # redirect loops end as an error, not a hang
COOKIES_ENABLED = True                   # JS-cookie challenges need the cookie kept
TELNETCONSOLE_ENABLED = False
HTTPCACHE_ENABLED = False                # evidence must be fresh; see the incremental-crawl design
REQUEST_FINGERPRINTER_IMPLEMENTATION = "2.7"
# Scrapy starts this many asyncio tasks per response to process its callback's output, whatever the
# output's size (100 by default: ~100 tasks per page). Our item pipeline is synchronous, so more than a
# few buys nothing and costs CPU on every page (bench/profile_crawl.py).
CONCURRENT_ITEMS = 8
# Scrapy parses every callback's source (ast) per response to warn about generators returning values: its
# cache is keyed weakly by the bound method, which is new each time, so it never hits.
WARN_ON_GENERATOR_RETURN_VALUE = False
FEED_EXPORT_ENCODING = "utf-8"
LOG_LEVEL = os.environ.get("SGI_LOG_LEVEL", "INFO")

# *.test names (the sample web) resolve to loopback; with SGI_SAMPLE_WEB nothing else resolves.
TWISTED_DNS_RESOLVER = "spiders.resolver.SampleWebResolver"
TWISTED_REACTOR = "twisted.internet.asyncioreactor.AsyncioSelectorReactor"
DOWNLOAD_HANDLERS = {
    # scrapy-playwright's handler, one instance (one Chromium) for both schemes; plain requests use
    # Scrapy's HTTP/1.1 client, only meta["playwright"] requests are rendered.
    "http": "spiders.browser.SharedPlaywrightHandler",
    "https": "spiders.browser.SharedPlaywrightHandler",
}
PLAYWRIGHT_BROWSER_TYPE = "chromium"
# One Playwright driver and one Chromium per process, started at the first render, shared by the
# spiders of one crawl (spiders/browser.py).
PLAYWRIGHT_BROWSER_PROVIDER = "spiders.browser.SharedBrowserProvider"
# Playwright on its own thread's event loop. Its driver dispatches one message per loop iteration, and a
# crawl's loop is busy parsing: on the crawl's loop a render waited seconds per round trip and Chromium's
# start took 10-25 s (bench/profile_crawl.py); on its own thread it takes what it takes alone.
_PLAYWRIGHT_THREADED_LOOP = True   # a private setting of scrapy-playwright 0.0.48 (see spiders/compat.py)
PLAYWRIGHT_DEFAULT_NAVIGATION_TIMEOUT = 30_000
PLAYWRIGHT_MAX_PAGES_PER_CONTEXT = 4
PLAYWRIGHT_MAX_CONTEXTS = 2
# Playwright is used only for requests marked meta["playwright"]; images, media and fonts are never loaded.
PLAYWRIGHT_ABORT_REQUEST = "spiders.browser.should_abort_request"

# Scrapy's downloader with per-host concurrency really capped under the asyncio reactor (spiders/politeness.py).
DOWNLOADER = "spiders.politeness.PoliteDownloader"
DOWNLOADER_MIDDLEWARES = {
    # Sample-web mode: links archived by an earlier run go to this run's sample-web ports (spiders/resolver.py).
    "spiders.resolver.SampleWebPortsMiddleware": 40,
    "spiders.middlewares.LoopbackGuardMiddleware": 50,
    # Last before the download: a host name's resolved address must be public in real mode (addressguard.py).
    "spiders.middlewares.ResolvedAddressGuardMiddleware": 990,
    # robots.txt as RFC 9309 has it: a server error on robots.txt disallows the site (spiders/robots.py).
    "scrapy.downloadermiddlewares.robotstxt.RobotsTxtMiddleware": None,
    "spiders.robots.Rfc9309RobotsTxtMiddleware": 100,
    # After HttpCompressionMiddleware (590) in process_response order, so bodies are decoded;
    # before RetryMiddleware (550), so every attempt, failed ones included, is archived.
    "spiders.middlewares.EvidenceMiddleware": 580,
    # Between HttpCompressionMiddleware and EvidenceMiddleware: answers a request from the WARC archive
    # (a resumed run's journalled fetches, an incremental crawl's 304s and pages not due; spiders/incremental.py).
    "spiders.incremental.ArchiveReplayMiddleware": 585,
    # Between EvidenceMiddleware and RetryMiddleware: counts blocked answers per host (reading the
    # evidence classification), applies Crawl-delay and 429/503/Retry-After backoff to the host's slot.
    "spiders.politeness.PolitenessMiddleware": 570,
    # Scrapy's meta refresh handling, deciding on the bytes when a head has no 'refresh' at all; after
    # EvidenceMiddleware in process_response order (as Scrapy's at 580 was), so a refreshing page is archived.
    "scrapy.downloadermiddlewares.redirect.MetaRefreshMiddleware": None,
    "spiders.middlewares.MetaRefreshMiddleware": 579,
    # Context recycling for Playwright renders (only requests with meta['playwright']).
    "spiders.browser.BrowserContextRecycler": 560,
}
ITEM_PIPELINES = {
    "spiders.pipelines.ObservationPipeline": 300,
}
EXTENSIONS = {
    "spiders.extensions.CrawlRunRecorder": 100,
    # AutoThrottle that never goes below a host's Crawl-delay or running backoff (spiders/politeness.py).
    "scrapy.extensions.throttle.AutoThrottle": None,
    "spiders.politeness.PoliteAutoThrottle": 0,
}

# sgi's own settings (overridden by `sgi crawl` / environment)
SGI_DATABASE_URL = None          # None: SGI_DATABASE_URL env or ./sgi.db
SGI_RUN_KEY = None               # None: a fresh key per crawl
SGI_AS_OF = None                 # crawl date for date-relative indicators; None: today
SGI_SAMPLE_WEB = False           # True: only *.test / loopback hosts may be requested
SGI_HOST_MAP = {}                # host -> loopback IP, for the sample web
SGI_SAMPLE_PORTS = {}            # scheme -> the sample web's port in this run
SGI_SOURCES_FILE = None          # None: the shipped sgi/data/sources.yaml
SGI_INCREMENTAL = True           # conditional requests, revisit intervals (False: every page fetched fresh)
SGI_RESUME = False               # `sgi crawl --resume`: answer fetches the run's journal holds from its archive
SGI_REVISIT_FILE = None          # None: spiders/revisit.yaml (revisit interval per request role)
SGI_CHROMIUM = os.environ.get("SGI_CHROMIUM")
SGI_GC_THRESHOLDS = [10000, 10, 10]    # the crawl process's collector (spiders/extensions.tune_gc); [] = Python's
SGI_ROBOTS_SERVER_ERROR = "disallow"  # robots.txt 5xx: the site is down (RFC 9309); "allow" = Scrapy's reading
SGI_MAX_CRAWL_DELAY = 30.0       # robots.txt Crawl-delay above this is capped (and the cap recorded in stats)
SGI_BACKOFF_BASE = 5.0           # first pause after a 429/503, doubled per consecutive push-back ...
SGI_BACKOFF_MAX = 300.0          # ... up to this; halves again after each success
SGI_MAX_RETRY_AFTER = 600.0      # Retry-After above this is capped (recorded in stats)
SGI_BROWSER_RECYCLE_PAGES = 50   # a Playwright context is closed and replaced after this many renders
