"""Run a portal crawl against a small sample web of misbehaving portals (in its own process, since a
Twisted reactor starts once per process). Used by tests/test_fault_crawl.py.

    python -m tests.fault_crawl DB_URL WORKDIR
"""

from __future__ import annotations

import sys
from datetime import date
from pathlib import Path

from sgi.sampleweb.model import Fault, Resource, SampleCity, SampleWeb, Site, TruthRow

HOME = ("<html><head><title>某市人民政府</title></head><body>"
        "<form action='/search'><input name='q' type='text' placeholder='请输入关键字'><button>搜索</button></form>"
        "<a href='/wzdt/'>网站地图</a><a href='/xwdt/'>新闻动态</a><a href='/hdjl/'>政民互动</a>" + "<p>政务动态</p>" * 50 + "</body></html>").encode()

# city code -> (host, how the portal misbehaves)
CASES = {
    "440300": ("www.blocked412.gov.cn.test", Fault(status=412)),          # challenge no script can pass
    "330100": ("www.forbidden.gov.cn.test", Fault(status=403)),
    "510100": ("www.broken.gov.cn.test", Fault(status=500)),              # fails after retries
    "420100": ("www.slow.gov.cn.test", Fault(delay_s=6.0)),               # slower than the download timeout
    "370200": ("www.cut.gov.cn.test", Fault(truncate_to=40)),             # truncated body
    "450100": ("www.fine.gov.cn.test", None),                             # control: a working portal
}


def fault_web() -> SampleWeb:
    web = SampleWeb(reference_date=date(2026, 6, 30), seed=7)
    for code, (host, fault) in CASES.items():
        site = Site(host=host, city_code=code, kind="portal", fault=fault if fault and fault.status else None)
        site.resources["/"] = Resource(HOME, fault=fault if fault and not fault.status else None)
        site.resources["/wzdt/"] = Resource(b"<html><body>sitemap</body></html>")
        # A news column that always fails: counts over the column sample become unknown, not smaller.
        site.resources["/xwdt/"] = Resource(b"oops", fault=Fault(status=500))
        # The 政民互动 sub-page refuses us: features that could live there are unknown, not absent.
        site.resources["/hdjl/"] = Resource(b"no", fault=Fault(status=403))
        web.add_site(site)
        web.cities.append(SampleCity(code, code))
        web.sources.append({"city": code, "kind": "portal", "name": f"{code} portal",
                            "start_url": f"http://{host}/", "allowed_domains": [host]})
        web.truth.append(TruthRow(code, "portal_reachable", "2026-06-30", True if fault is None else None,
                                  "ok" if fault is None else "error"))
    # The browser retry of blocked pages must not hang the test: nothing here ever renders.
    return web


def main(db_url: str, workdir: str) -> None:
    from sgi.crawl import run_crawl
    from sgi.sampleweb.runner import serve_sample_web

    with serve_sample_web(Path(workdir), web=fault_web()) as running:
        settings = running.crawl_settings()
        settings.update({"DOWNLOAD_TIMEOUT": 2, "RETRY_TIMES": 1})
        run_crawl(db_url=db_url, spiders=["portal"], cities=None, run_key="faults", extra_settings=settings,
                  quiet=True)


if __name__ == "__main__":
    main(*sys.argv[1:])
