"""The sample web's open-data platforms: deterministic, .test hosts only, usable source entries, and the
hard cases the issue lists are really there. Plus the opendata CLI commands on saved answers."""

from __future__ import annotations

import json
import re
from pathlib import Path

from typer.testing import CliRunner

from collectors.opendata import validate_options
from sgi.sampleweb.generate import build_sample_web
from sgi.sampleweb.model import RequestInfo
from sgi.sampleweb.opendata import PLATFORM_HOSTS

FIX = Path(__file__).resolve().parents[1] / "fixtures" / "opendata"


def call(web, host, path, method="GET", body=b""):
    res = web.sites[host].resources.get(path)
    return res.body(RequestInfo(method, path, {}, body)) if callable(res.body) else res.body


def test_deterministic_and_test_hosts_only():
    a, b = build_sample_web(), build_sample_web()
    ta = sorted((r for r in a.truth if r.indicator.startswith("opendata")), key=repr)
    assert ta == sorted((r for r in b.truth if r.indicator.startswith("opendata")), key=repr)
    entries = [e for e in a.sources if e["kind"] == "opendata"]
    assert {e["city"] for e in entries} == set(PLATFORM_HOSTS)
    for e in entries:
        assert validate_options(e.get("options") or {}) == [], e["name"]
        assert re.match(r"^https?://[a-z0-9.-]+\.test/", e["start_url"])
    for host in PLATFORM_HOSTS.values():
        site = a.sites[host]
        assert host.endswith(".test") and site.kind == "opendata"
        for res in site.resources.values():
            if isinstance(res.body, bytes):
                for m in re.finditer(rb"https?://([a-z0-9.-]+)", res.body):
                    assert m.group(1).endswith(b".test"), m.group(0)
    page = call(a, PLATFORM_HOSTS["440300"], "/api/3/action/package_search?rows=5&start=0")
    assert page == call(b, PLATFORM_HOSTS["440300"], "/api/3/action/package_search?rows=5&start=0")


def test_hard_cases_are_present():
    web = build_sample_web()
    sz, hz, cd = PLATFORM_HOSTS["440300"], PLATFORM_HOSTS["330100"], PLATFORM_HOSTS["510100"]
    ckan = json.loads(call(web, sz, "/api/3/action/package_search?rows=1000&start=0"))
    assert ckan["success"] and len(ckan["result"]["results"]) == 100 < ckan["result"]["count"]     # silent cap
    assert any(p["metadata_modified"] is None for p in
               json.loads(call(web, sz, "/api/3/action/package_search?rows=100&start=0"))["result"]["results"])
    body = json.dumps({"pageNo": 1, "pageSize": 100}).encode()
    first = json.loads(call(web, hz, "/api/dataset/list", "POST", body))
    assert len(first["data"]["list"]) == 50 and first["data"]["total"] == 2200
    hz_truth = {r.indicator: r.value for r in web.truth if r.city_code == "330100"}
    assert hz_truth["opendata_datasets"] == 2150 > 2000
    err = json.loads(call(web, hz, "/api/dataset/list", "POST", json.dumps({"pageNo": 7, "pageSize": 100}).encode()))
    assert err["code"] == 500 and err["data"] is None                                              # 200 + error body
    assert web.sites[cd].resources["/oportal/catalog/index?page=1"].content_type.endswith("gbk")
    p1 = call(web, cd, "/oportal/catalog/index?page=1").decode("gbk")
    assert "共135条" in p1 and "下一页" in p1
    assert web.sites[PLATFORM_HOSTS["370200"]].fault.status == 503                                # down
    statuses = {r.status for r in web.truth if r.city_code in ("370200", "620100") and r.indicator.startswith("opendata")}
    assert statuses == {"error"}


def test_cli_extract_and_check(tmp_path):
    from sgi.cli import app

    opts = tmp_path / "opts.yaml"
    opts.write_text("options: {adapter: ckan}\n", encoding="utf-8")
    runner = CliRunner()
    res = runner.invoke(app, ["extract", "opendata", str(FIX / "ckan_search_start0.json"), "--url",
                              "http://opendata.sz.gov.cn.test/api/3/action/package_search?start=0&rows=1000",
                              "--start-url", "http://opendata.sz.gov.cn.test/", "--options", str(opts), "--json"])
    assert res.exit_code == 0, res.output
    data = json.loads(res.output)
    assert len(data["records"]) == 100 and data["paging"]["total"] == 327 and "start=100" in data["paging"]["next"]
    src = tmp_path / "s.yaml"
    src.write_text("sources:\n- {city: '420100', kind: opendata, name: x, start_url: 'http://a.test/',"
                   " options: {adapter: jsonapi, fields: {dataset_id: 'id[['}}}\n", encoding="utf-8")
    res = runner.invoke(app, ["opendata", "check", "--sources", str(src)])
    assert res.exit_code != 0
