"""A small runner for multi-run opendata tests: serve the sample web (optionally changed between runs)
and crawl it with the opendata spider only, into one database.

    python -m tests.opendata.runner --db URL --run-key K [--city 440300 ...] [--down HOST ...]
        [--drop-row HOST:DATASET_ID ...] [--mock-platform wuhan] [--extra-sources FILE.yaml]

``--down`` makes a host answer 503 to everything for this run; ``--drop-row`` removes one dataset's row
from the Chengdu HTML list pages (the catalogue changed); ``--error-body`` makes a CKAN host answer HTTP 200
with an error object; ``--mock-platform wuhan`` adds a mock JSON API
platform (a site only: no source entry); ``--extra-sources`` appends source entries read from a YAML file
(data only) to the sample web's source file. Prints the run's counts as JSON.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import tempfile
from datetime import date, timedelta
from pathlib import Path

import yaml

MOCK_HOST = "opendata.wuhan.gov.cn.test"
MOCK_LIMIT_CAP = 25


def mock_datasets(reference: date) -> list[dict]:
    """The mock platform's catalogue (deterministic): 61 datasets, one without dates."""
    depts = ["武汉市交通运输局", "武汉市卫生健康委员会", "武汉市生态环境局", "武汉市教育局", "武汉市统计局"]
    cats = ["交通出行", "卫生健康", "资源环境", "教育科技", "经济建设", "其他"]
    out = []
    for i in range(61):
        updated = reference - timedelta(days=7 * i + 3)
        created = updated - timedelta(days=100)
        fmts = [["csv", "json"], ["pdf"], ["xlsx"], ["doc", "jpg"]][i % 4]
        out.append({"uid": f"WH-{i:04d}", "name": f"武汉开放数据集{i}", "dept": {"name": depts[i % len(depts)]},
                    "category": {"label": cats[i % len(cats)]},
                    "resources": [{"fmt": f} for f in fmts], "apiAvailable": "Y" if i % 5 == 0 else "N",
                    "stats": {"views": 100 + i, "downloads": (None if i % 10 == 9 else 3 * i)},
                    "publishedAt": None if i == 13 else f"{created.year}年{created.month}月{created.day}日",
                    "modifiedAt": None if i == 13 else f"{updated.year}/{updated.month}/{updated.day}",
                    "licence": "CC BY 4.0" if i % 2 else None})
    return out


def add_mock_platform(web) -> None:
    from urllib.parse import parse_qs, urlsplit

    from sgi.sampleweb.model import Resource, Site
    from sgi.sampleweb.opendata import RoutedResources

    items = mock_datasets(web.reference_date)

    def api(info) -> bytes:
        q = {k: v[-1] for k, v in parse_qs(urlsplit(info.path).query).items()}
        offset, limit = int(q.get("offset", 0)), min(int(q.get("limit", 10)), MOCK_LIMIT_CAP)
        body = {"status": "OK", "payload": {"totalCount": len(items), "rows": items[offset:offset + limit]}}
        return json.dumps(body, ensure_ascii=False).encode()

    web.add_site(Site(host=MOCK_HOST, city_code="420100", kind="opendata", template="mock-get-offset",
                      resources=RoutedResources({"/": Resource(b"<html><body>open data</body></html>")},
                                                routes={"/open/api/v2/datasets": Resource(api, "application/json")})))


def drop_row(web, host: str, dataset_id: str) -> None:
    site = web.sites[host]
    for path, res in site.resources.items():
        if "index?page=" in path and isinstance(res.body, bytes):
            res.body = re.sub(rb"<TR><TD class=t><a href='/oportal/catalog/detail/" + dataset_id.encode()
                              + rb"\.html'.*?</TR>\n", b"", res.body, flags=re.S)


def error_body(web, host: str) -> None:
    """Every API route of a host answers HTTP 200 with a CKAN-style error object."""
    from sgi.sampleweb.model import Resource

    body = json.dumps({"help": "", "success": False,
                       "error": {"message": "Internal Server Error: 数据库连接失败", "__type": "Internal Error"}},
                      ensure_ascii=False).encode()
    routes = web.sites[host].resources.routes
    for path in list(routes):
        routes[path] = Resource(body, "application/json;charset=utf-8")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--db", required=True)
    ap.add_argument("--run-key", required=True)
    ap.add_argument("--city", action="append", default=[])
    ap.add_argument("--down", action="append", default=[])
    ap.add_argument("--drop-row", action="append", default=[])
    ap.add_argument("--error-body", action="append", default=[])
    ap.add_argument("--mock-platform", action="append", default=[])
    ap.add_argument("--extra-sources")
    args = ap.parse_args(argv)

    from sgi.crawl import run_crawl
    from sgi.sampleweb.generate import build_sample_web
    from sgi.sampleweb.model import Fault
    from sgi.sampleweb.runner import serve_sample_web

    web = build_sample_web()
    if "wuhan" in args.mock_platform:
        add_mock_platform(web)
    for spec in args.drop_row:
        host, did = spec.split(":", 1)
        drop_row(web, host, did)
    if args.extra_sources:
        entries = yaml.safe_load(Path(args.extra_sources).read_text(encoding="utf-8"))["sources"]
        web.sources.extend(entries)
    for host in args.error_body:
        error_body(web, host)
    for host in args.down:
        web.sites[host].fault = Fault(status=503)
    with tempfile.TemporaryDirectory(prefix="sgi-od-") as tmp, serve_sample_web(tmp, web=web) as running:
        # Every run reads the platform afresh: these runs are about harvest history under faults injected
        # per run, which a same-day incremental rerun (nothing due) would rightly not fetch.
        result = run_crawl(db_url=args.db, spiders=["opendata"], cities=args.city or None, run_key=args.run_key,
                           as_of=web.reference_date, extra_settings={**running.crawl_settings(), "SGI_INCREMENTAL": False}, command="od-runner",
                           quiet=True)
    print(json.dumps({k: v for k, v in result.items() if isinstance(v, (int, str, dict, list))}, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
