"""Run every page rule of one harvest on one saved page and print the seconds it took (JSON).

`python -m bench.parsing_worker KIND FILE` with KIND portal | policy | mailbox | opendata. Run in a
child process by bench/bench_parsing.py so a rule that does not finish is cut off by a timeout. The
fetch is classified first, as the crawler does; the rules then run whatever the classification (a
spider runs them only on a readable page; `sgi extract` runs them on anything).
"""

from __future__ import annotations

import json
import sys
import time
from datetime import date

CRAWL_DATE = date(2026, 7, 1)


def run_rules(kind: str, page) -> None:
    if kind == "portal":
        from collectors import portal as r

        r.extract_portal(page, CRAWL_DATE)
        r.extract_portal_links(page)
        r.column_links(page)
        r.same_site_links(page, 50)
        r.column_status(page, "news", CRAWL_DATE)
        r.first_article_link(page)
        r.meta_tag_counts(page, "column")
    elif kind == "policy":
        from collectors import policy as r

        r.parse_detail(page)
        r.parse_list(page, CRAWL_DATE)
        r.pagination(page)
        r.attachment_links(page)
    elif kind == "mailbox":
        from collectors import mailbox as r

        r.parse_html_list(page, CRAWL_DATE)
        r.parse_detail(page, CRAWL_DATE)
        r.page_count(page)
        r.next_page_url(page)
    elif kind == "opendata":
        from collectors import opendata as r

        r.read_html_list(page, page.url, {"adapter": "html"}, 1)
        r.parse_html_detail(page, "1")
        r.terms_page_published(page)
    else:
        raise SystemExit(f"unknown kind {kind!r}")


def main(kind: str, path: str) -> dict:
    from collectors.fetch import classify_fetch
    from collectors.page import Page

    start = time.perf_counter()
    page = Page.from_file(path, "https://www.sz.gov.cn/col/index.html", "text/html")
    fetch = classify_fetch(page)
    reason = page.unreadable
    run_rules(kind, page)
    return {"kind": kind, "seconds": round(time.perf_counter() - start, 3), "fetch": fetch, "reason": reason}


def crawl(settings_file: str, db_url: str) -> None:
    """`python -m bench.parsing_worker crawl SETTINGS.json DB_URL`: one portal crawl (a Twisted reactor
    runs once per process)."""
    from sgi.crawl import run_crawl

    run_crawl(db_url=db_url, spiders=["portal"], cities=None, run_key="bench-parsing",
              as_of=CRAWL_DATE, extra_settings=json.load(open(settings_file)), quiet=True)


if __name__ == "__main__":
    if sys.argv[1] == "crawl":
        crawl(sys.argv[2], sys.argv[3])
    else:
        print(json.dumps(main(sys.argv[1], sys.argv[2]), ensure_ascii=False))
