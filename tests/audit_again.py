"""A second audit of a sample city in its own process (one Twisted reactor per process), with the
city's open-data platform refusing every request (403) this time, so the report has something that
changed since the first audit. Used by tests/test_audit.py.

    python -m tests.audit_again DB_URL REPORT_FILE
"""

from __future__ import annotations

import sys

CITY = "440300"
BLOCKED_HOST = "opendata.sz.gov.cn.test"


def main(db_url: str, report: str) -> None:
    from sgi.audit import run_audit
    from sgi.sampleweb.model import Fault

    def refuse_open_data(running):
        assert BLOCKED_HOST in running.web.sites, f"{BLOCKED_HOST} is not a sample host any more"
        running.server.inject(BLOCKED_HOST, None, Fault(status=403))

    run_audit(CITY, db_url=db_url, out=report, sample_web=True, prepare=refuse_open_data, quiet=True)


if __name__ == "__main__":
    main(*sys.argv[1:])
