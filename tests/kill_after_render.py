"""One crawl of an already running sample web (as tests/crawl_once.py) that kills itself with SIGKILL
right after the browser's answer for a city is recorded: the rendered page and its journal row are in
the database, nothing the spider would ask next has been asked. Used by tests/test_resume_portal.py.

    python -m tests.kill_after_render SETTINGS.json DB_URL RUN_KEY AS_OF CITY[,CITY] SPIDER KILL_CITY
"""

from __future__ import annotations

import json
import os
import signal
import sys
from datetime import date

from scrapy import signals


class KillAfterRender:
    """Kills the crawl process at the first rendered answer for SGI_TEST_KILL_CITY, once the store
    has written it (and its fetch-journal row) to the database."""

    def __init__(self, crawler):
        self.crawler = crawler
        self.city = crawler.settings.get("SGI_TEST_KILL_CITY")
        crawler.signals.connect(self.response_received, signal=signals.response_received)

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    def response_received(self, response, request, spider=None):
        if self.city and request.meta.get("city_code") == self.city and "playwright" in response.flags:
            from spiders.store import store_for

            store_for(self.crawler).flush()
            os.kill(os.getpid(), signal.SIGKILL)


def main(argv: list[str]) -> None:
    settings_file, db_url, run_key, as_of, cities, spider, kill_city = argv
    import spiders.settings as project
    from sgi.crawl import run_crawl

    settings = json.load(open(settings_file))
    settings["SGI_TEST_KILL_CITY"] = kill_city
    settings["EXTENSIONS"] = {**project.EXTENSIONS, "tests.kill_after_render.KillAfterRender": 1000}
    run_crawl(db_url=db_url, spiders=[spider], cities=cities.split(","), run_key=run_key,
              as_of=date.fromisoformat(as_of), extra_settings=settings, quiet=True)


if __name__ == "__main__":
    main(sys.argv[1:])
