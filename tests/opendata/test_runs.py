"""Runs of the opendata spider against one database (tests/opendata/runner.py in subprocesses):

* re-harvesting an unchanged catalogue adds no duplicate rows;
* a platform that is down for a run, or answers HTTP 200 with an error object, gets status error, and its
  stored catalogue is not marked removed;
* a dataset a complete harvest no longer lists is marked removed (kept, not deleted);
* a new JSON-API platform is harvested from a source-file entry alone (data, no code).
"""

from __future__ import annotations

import json
import sqlite3
import statistics
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest
import yaml

from tests.opendata.runner import MOCK_HOST, mock_datasets

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[2]
SZ, CD = "opendata.sz.gov.cn.test", "data.chengdu.gov.cn.test"
CRAWL = date(2026, 6, 30)


def run(db: Path, key: str, *args: str) -> dict:
    proc = subprocess.run([sys.executable, "-m", "tests.opendata.runner", "--db", f"sqlite:///{db}", "--run-key", key,
                           *args], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-4000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


def query(db: Path, sql: str, *params):
    con = sqlite3.connect(db)
    try:
        return con.execute(sql, params).fetchall()
    finally:
        con.close()


def obs(db: Path, run_id: int) -> dict:
    return {(c, i): (v, t, s) for c, i, v, t, s in query(
        db, "SELECT city_code, indicator, value_num, value_text, status FROM observation "
            "WHERE run_id = ? AND indicator LIKE 'opendata_%'", run_id)}


def test_history_across_runs(tmp_path):
    db = tmp_path / "od.db"
    cities = ["--city", "440300", "--city", "510100"]
    r1 = run(db, "od-1", *cities)
    rows1 = query(db, "SELECT platform, count(*) FROM dataset GROUP BY platform ORDER BY platform")
    assert rows1 == [(CD, 130), (SZ, 327)]
    o1 = obs(db, r1["run_id"])
    assert o1[("440300", "opendata_datasets")][0] == 327 and o1[("510100", "opendata_datasets")][0] == 130
    # Every dataset row records the run and the answer it came from.
    assert query(db, "SELECT count(*) FROM dataset WHERE snapshot_id IS NULL OR first_seen_run_id IS NULL") == [(0,)]
    assert query(db, "SELECT count(*) FROM dataset d LEFT JOIN snapshot s ON s.id = d.snapshot_id "
                     "WHERE s.id IS NULL") == [(0,)]

    # Unchanged catalogue, second run: no duplicate rows, same values, last_seen moves on.
    r2 = run(db, "od-2", *cities)
    assert query(db, "SELECT count(*), count(DISTINCT platform || '|' || dataset_id) FROM dataset") == [(457, 457)]
    assert query(db, "SELECT count(*) FROM dataset WHERE removed") == [(0,)]
    assert query(db, "SELECT DISTINCT first_seen_run_id, last_seen_run_id FROM dataset") == [(r1["run_id"], r2["run_id"])]
    o2 = obs(db, r2["run_id"])
    assert o2 == o1
    # Same run key again: the run is upserted, not duplicated.
    before = query(db, "SELECT count(*) FROM observation")[0][0]
    run(db, "od-2", *cities)
    assert query(db, "SELECT count(*) FROM observation")[0][0] == before
    assert query(db, "SELECT count(*) FROM dataset") == [(457,)]

    # Third run: Shenzhen's platform is down, Chengdu dropped one dataset from its list.
    dropped = str(20210000 + 37 * 5 + 5)
    r3 = run(db, "od-3", *cities, "--down", SZ, "--drop-row", f"{CD}:{dropped}")
    o3 = obs(db, r3["run_id"])
    sz3 = {i: v for (c, i), v in o3.items() if c == "440300"}
    assert len(sz3) == 10 and all(s == "error" and v is None and t is None for v, t, s in sz3.values())
    # ... and the catalogue read before is intact: nothing marked removed, last seen in run 2.
    assert query(db, "SELECT count(*), sum(removed), max(last_seen_run_id) FROM dataset WHERE platform = ?", SZ) == \
        [(327, 0, r2["run_id"])]
    # Chengdu's complete harvest no longer lists one dataset: kept, marked removed in run 3.
    assert o3[("510100", "opendata_datasets")][0] == 129
    assert query(db, "SELECT dataset_id, removed_run_id FROM dataset WHERE platform = ? AND removed", CD) == \
        [(dropped, r3["run_id"])]
    assert query(db, "SELECT count(*) FROM dataset WHERE platform = ?", CD) == [(130,)]

    # Fourth run: Shenzhen answers HTTP 200 with an error object: error again, still nothing removed.
    r4 = run(db, "od-4", "--city", "440300", "--error-body", SZ)
    sz4 = {i: v for (c, i), v in obs(db, r4["run_id"]).items() if c == "440300"}
    assert len(sz4) == 10 and {s for v, t, s in sz4.values()} == {"error"}
    assert query(db, "SELECT evidence_detail FROM observation WHERE run_id = ? AND indicator = 'opendata_datasets'",
                 r4["run_id"])[0][0].count("数据库连接失败") >= 1
    assert query(db, "SELECT count(*), sum(removed), max(last_seen_run_id) FROM dataset WHERE platform = ?", SZ) == \
        [(327, 0, r2["run_id"])]


def test_new_jsonapi_platform_from_a_source_entry_alone(tmp_path):
    """The mock platform speaks a JSON shape no code knows (GET, offset/limit paging capped at 25, nested
    fields, Chinese dates); the harvest is configured by this YAML entry only."""
    entry = {
        "city": "420100", "kind": "opendata", "name": "武汉市公共数据开放平台",
        "start_url": f"http://{MOCK_HOST}/", "allowed_domains": [MOCK_HOST],
        "options": {
            "adapter": "jsonapi", "list_url": "/open/api/v2/datasets", "method": "GET", "paging": "offset",
            "page_param": "offset", "size_param": "limit", "page_size": 200, "first_page": 0,
            "items": "payload.rows", "total": "payload.totalCount", "error": "status != 'OK'",
            "fields": {"dataset_id": "uid", "title": "name", "publisher": "dept.name", "topic": "category.label",
                       "formats": "resources[].fmt", "api": "apiAvailable == 'Y'", "views": "stats.views",
                       "downloads": "stats.downloads", "created": "publishedAt", "updated": "modifiedAt",
                       "licence": "licence"},
            "dataset_url": "/open/dataset/{uid}"}}
    sources = tmp_path / "wuhan.yaml"
    sources.write_text(yaml.safe_dump({"sources": [entry]}, allow_unicode=True), encoding="utf-8")
    db = tmp_path / "wh.db"
    result = run(db, "wh-1", "--city", "420100", "--mock-platform", "wuhan", "--extra-sources", str(sources))
    got = {i: (v, s) for (c, i), (v, t, s) in obs(db, result["run_id"]).items() if c == "420100"}

    data = mock_datasets(CRAWL)
    mr = {"csv", "json", "xml", "xls", "xlsx"}
    ages = [(CRAWL - date(*map(int, d["modifiedAt"].split("/")))).days for d in data if d["modifiedAt"]]
    dl = [d["stats"]["downloads"] for d in data if d["stats"]["downloads"] is not None]
    expected = {
        "opendata_platform": (1.0, "ok"), "opendata_datasets": (61.0, "ok"),
        "opendata_apis": (float(sum(d["apiAvailable"] == "Y" for d in data)), "ok"),
        "opendata_publishers": (5.0, "ok"),
        "opendata_machine_readable_share": (round(sum(any(r["fmt"] in mr for r in d["resources"]) for d in data) / 61, 4), "ok"),
        "opendata_updated_1y_share": (round(sum(a <= 365 for a in ages) / len(ages), 4), "ok"),
        "opendata_median_age_days": (float(statistics.median(ages)), "ok"),
        "opendata_downloads_per_dataset": (round(sum(dl) / len(dl), 2), "ok"),
        "opendata_topic_coverage": (round(5 / 12, 4), "ok"),      # 交通/卫生/环境/教育/经济; 其他 maps to none
        "opendata_licence": (1.0, "ok"),
    }
    assert got == expected
    rows = query(db, "SELECT count(*), sum(api), count(url) FROM dataset WHERE platform = ?", MOCK_HOST)
    assert rows == [(61, 13, 61)]
    assert query(db, "SELECT url FROM dataset WHERE dataset_id = 'WH-0001'")[0][0].endswith("/open/dataset/WH-0001")
