"""One CrawlStore per Scrapy crawler, shared by the middleware, the pipeline and the run recorder."""

from __future__ import annotations

import uuid
from datetime import date

from storage.store import CrawlStore, start_run


def run_key_default() -> str:
    return f"crawl-{uuid.uuid4().hex[:12]}"


def store_for(crawler) -> CrawlStore:
    store = getattr(crawler, "sgi_store", None)
    if store is None:
        settings = crawler.settings
        url = settings.get("SGI_DATABASE_URL")
        run_id = settings.getint("SGI_RUN_ID") or None
        if run_id is None:
            # `scrapy crawl` without the sgi CLI: this crawler owns its run.
            key = settings.get("SGI_RUN_KEY") or run_key_default()
            run_id = start_run(url, key, command="scrapy crawl", spiders=[crawler.spidercls.name],
                               as_of=as_of(crawler).isoformat(), sample_web=settings.getbool("SGI_SAMPLE_WEB"))
            crawler.sgi_owns_run = True
        store = CrawlStore(url, run_id, archive_dir=settings.get("SGI_ARCHIVE_DIR"))
        crawler.sgi_store = store
    return store


def as_of(crawler) -> date:
    value = crawler.settings.get("SGI_AS_OF")
    if not value:
        return date.today()
    return value if isinstance(value, date) else date.fromisoformat(str(value))
