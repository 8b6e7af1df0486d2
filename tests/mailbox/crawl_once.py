"""One mailbox crawl in its own process (a Twisted reactor starts once per process), against a sample
web another process serves. Used by tests/mailbox/test_incremental.py.

    python -m tests.mailbox.crawl_once DB_URL SETTINGS_JSON RUN_KEY
"""

from __future__ import annotations

import json
import sys


def main(db_url: str, settings_file: str, run_key: str) -> None:
    from sgi.crawl import run_crawl

    with open(settings_file, encoding="utf-8") as fh:
        settings = json.load(fh)
    run_crawl(db_url=db_url, spiders=["mailbox"], cities=None, run_key=run_key, extra_settings=settings, quiet=True)


if __name__ == "__main__":
    main(*sys.argv[1:])
