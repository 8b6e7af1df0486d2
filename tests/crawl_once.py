"""One crawl of an already running sample web, in its own process (a Twisted reactor starts once per
process). Used by tests/test_incremental.py, tests/test_resume.py and bench/bench_incremental.py, whose
own process keeps the sample web up between crawls (so replayed bodies name live ports).

    python -m tests.crawl_once SETTINGS.json DB_URL RUN_KEY AS_OF CITY[,CITY] [--full] [--resume]
                               [--spiders=a,b] [OUT.json]
"""

from __future__ import annotations

import json
import sys
from datetime import date


def main(argv: list[str]) -> None:
    settings_file, db_url, run_key, as_of, cities = argv[:5]
    flags = [a for a in argv[5:] if a.startswith("--")]
    out = [a for a in argv[5:] if not a.startswith("--")]
    from sgi.crawl import run_crawl

    settings = json.load(open(settings_file))
    if "--full" in flags:
        settings["SGI_INCREMENTAL"] = False
    spiders = [f.split("=", 1)[1].split(",") for f in flags if f.startswith("--spiders=")]
    result = run_crawl(db_url=db_url, spiders=spiders[0] if spiders else None, cities=[c for c in cities.split(",") if c] or None,
                       run_key=run_key, as_of=date.fromisoformat(as_of), extra_settings=settings, quiet=True,
                       resume="--resume" in flags)
    if out:
        json.dump({k: result[k] for k in ("run_id", "requests", "items", "errors", "elapsed_s",
                                                   "reused")}, open(out[0], "w"))


if __name__ == "__main__":
    main(sys.argv[1:])
