"""The command line as users run it (subprocesses), on the demo's database where one is needed."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys

import pandas as pd
import pytest


def sgi(*args, env=None, timeout=300):
    return subprocess.run([sys.executable, "-m", "sgi", *args], capture_output=True, text=True, timeout=timeout,
                          env={**os.environ, **(env or {})})


def test_cities_lookup_and_unknown_city_is_one_line_with_a_hint(tmp_path):
    ok = sgi("cities", "深圳")
    assert ok.returncode == 0 and "440300" in ok.stdout
    bad = sgi("crawl", "--city", "不存在市", "--db", f"sqlite:///{tmp_path / 'x.db'}")
    assert bad.returncode == 2
    assert "Traceback" not in bad.stderr
    lines = [line for line in bad.stderr.splitlines() if line.strip()]
    assert lines[0].startswith("error:") and any(line.startswith("hint:") for line in lines)


def test_indicators_json_lists_every_registry_code():
    from sgi.indicators import registry

    proc = sgi("indicators", "--json")
    assert proc.returncode == 0
    codes = [i["code"] for i in json.loads(proc.stdout)]
    assert codes == list(registry())


def test_db_upgrade_creates_schema_and_loads_cities(tmp_path):
    proc = sgi("db", "upgrade", "--db", f"sqlite:///{tmp_path / 'new.db'}")
    assert proc.returncode == 0, proc.stderr
    import sqlite3

    con = sqlite3.connect(tmp_path / "new.db")
    assert con.execute("SELECT count(*) FROM city").fetchone()[0] == 337
    assert con.execute("SELECT version_num FROM alembic_version").fetchone()[0]
    assert con.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_sampleweb_truth_is_written(tmp_path):
    proc = sgi("sampleweb", "truth", "-o", str(tmp_path / "truth.csv"))
    assert proc.returncode == 0
    with open(tmp_path / "truth.csv", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert rows and set(rows[0]) == {"city_code", "indicator", "period", "value", "status"}


def test_scrapy_cfg_lists_the_spiders():
    proc = subprocess.run([os.path.join(os.path.dirname(sys.executable), "scrapy"), "list"], capture_output=True,
                          text=True, timeout=120, cwd=os.path.dirname(os.path.dirname(__file__)))
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "portal" in proc.stdout.split()


@pytest.mark.slow
def test_exports_long_wide_csv_xlsx_parquet(demo, tmp_path):
    db = f"sqlite:///{demo['out'] / 'sgi.db'}"
    for args, name in [((), "long.csv"), (("--wide",), "wide.csv"), (("--wide", "--zh"), "wide.xlsx"),
                       ((), "long.parquet"), ((), "long.xlsx")]:
        proc = sgi("export", "indicators", "-o", str(tmp_path / name), "--db", db, *args)
        assert proc.returncode == 0, proc.stderr
    long = pd.read_csv(tmp_path / "long.csv", dtype={"city_code": str})
    wide = pd.read_csv(tmp_path / "wide.csv", dtype={"city_code": str})
    assert list(long.columns) == ["city_code", "city_name", "indicator", "period", "value", "status",
                                  "evidence_url", "fetched_at"]
    assert len(wide) == long["city_code"].nunique()
    # A wide cell equals the long value for the same city and indicator (site_search of one city).
    row = long[(long.indicator == "site_search") & (long.status == "ok")].iloc[0]
    cell = wide.loc[wide.city_code == row.city_code, "site_search"].iloc[0]
    assert float(cell) == float(row.value)
    # Blocked values stay empty in the wide table: missing is not zero.
    blocked = long[long.status == "blocked"].iloc[0]
    if blocked.indicator in wide.columns:
        assert pd.isna(wide.loc[wide.city_code == blocked.city_code, blocked.indicator].iloc[0])
    parquet = pd.read_parquet(tmp_path / "long.parquet")
    assert len(parquet) == len(long)
    sheets = pd.read_excel(tmp_path / "wide.xlsx", sheet_name=None)
    assert "治理能力" in sheets and "城市" in sheets["治理能力"].columns
    assert sum(len(s) for s in pd.read_excel(tmp_path / "long.xlsx", sheet_name=None).values()) == len(long)


@pytest.mark.slow
def test_sources_check_against_the_sample_web(tmp_path):
    proc = sgi("sources", "check", "--sample-web", "--json", "--db", f"sqlite:///{tmp_path / 'c.db'}")
    assert proc.returncode == 0, proc.stderr[-3000:]
    results = {r["city_code"]: r for r in json.loads(proc.stdout)}
    from sgi.sampleweb.generate import build_sample_web

    web = build_sample_web()
    assert set(results) == {c.code for c in web.cities}
    blocked = [s.city_code for s in web.sites.values() if s.fault is not None and s.fault.status in (403, 412)]
    challenged = [s.city_code for s in web.sites.values() if s.js_challenge]
    for code in blocked + challenged:
        assert results[code]["verdict"] == "blocked", results[code]
    https = [s.city_code for s in web.sites.values() if s.https]
    for code in https:   # sources list https start URLs; plain ones answer directly
        assert results[code]["verdict"] in ("responds", "redirects")
    assert sum(r["verdict"] == "responds" for r in results.values()) >= 4


def test_extract_portal_json_shape_on_a_saved_gbk_page():
    from pathlib import Path

    from sgi.indicators import registry

    page = Path(__file__).parent / "fixtures" / "pages" / "portal" / "gbk_declares_utf8.html"
    proc = sgi("extract", "portal", str(page), "--url", "http://www.example.gov.cn.test/", "--json",
               "--date", "2026-06-15", "--content-type", "text/html; charset=utf-8")
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    assert set(data) == {"url", "features"} and data["url"] == "http://www.example.gov.cn.test/"
    portal_codes = {c for c, i in registry().items() if i.source == "portal"} - {
        "portal_reachable", "broken_link_ratio", "homepage_load_ms", "stale_columns", "empty_columns"}
    assert portal_codes <= set(data["features"])
    for feature in data["features"].values():
        assert set(feature) >= {"value", "evidence"}
    # The GBK page is decoded despite its utf-8 declaration: its Chinese evidence is readable text.
    assert any("\u4e00" <= ch <= "\u9fff" for f in data["features"].values() for ch in (f["evidence"] or ""))


@pytest.mark.slow
def test_score_and_explain_on_the_demo_output(demo, tmp_path):
    db = f"sqlite:///{demo['out'] / 'sgi.db'}"
    proc = sgi("score", "--db", db, "-o", str(tmp_path / "scores.csv"), "--uncertainty", "50")
    assert proc.returncode == 0, proc.stderr[-3000:]
    scores = pd.read_csv(tmp_path / "scores.csv", dtype={"city_code": str})
    totals = scores[scores.node == "total"]
    assert {"capability", "effect", "institution"} <= set(scores.node)
    scored = totals.dropna(subset=["value"])
    assert len(scored) >= 6 and scored["rank"].notna().all()
    assert (scored["rank_p05"] <= scored["rank_median"]).all() and (scored["rank_median"] <= scored["rank_p95"]).all()
    blocked_city = "230100"   # the permanently blocked portal: no score rather than a score of zero
    assert totals.loc[totals.city_code == blocked_city, "value"].isna().all()
    explain = sgi("explain", "深圳", "--db", db)
    assert explain.returncode == 0 and "site_search" in explain.stdout and "contribution" in explain.stdout
