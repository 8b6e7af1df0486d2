"""A nightly run on the sample web with one host broken (in its own process: one Twisted reactor per
process). Used by tests/test_nightly.py to make a harvest's item count collapse between two runs.

    python -m tests.nightly_fault DB_URL WORKDIR REPORT_DIR CITY BROKEN_HOST
"""

from __future__ import annotations

import sys
from pathlib import Path

from sgi.sampleweb.generate import build_sample_web
from sgi.sampleweb.model import Fault


def main(db_url: str, workdir: str, report_dir: str, city: str, broken_host: str) -> int:
    from sgi.nightly import run_nightly
    from sgi.sampleweb.runner import serve_sample_web

    web = build_sample_web()
    web.sites[broken_host].fault = Fault(status=500)   # every request to the host fails
    with serve_sample_web(Path(workdir), web=web) as running:
        settings = running.crawl_settings()
        # Fetch everything fresh: a page reused from the archive would hide the broken host.
        settings["SGI_INCREMENTAL"] = False
        result = run_nightly(db_url=db_url, cities=[city], report_dir=report_dir, extra_settings=settings,
                             command="tests.nightly_fault")
    return result.exit_code


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))
