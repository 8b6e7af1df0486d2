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
                                  "evidence_url", "fetched_at", "machine_value", "machine_status", "override_id",
                                  "override_reason", "override_by", "override_at"]
    assert len(wide) == len(long[["city_code", "period"]].drop_duplicates())   # one row per city and period
    # A wide cell equals the long value for the same city and indicator (site_search of one city).
    row = long[(long.indicator == "site_search") & (long.status == "ok")].iloc[0]
    cell = wide.loc[(wide.city_code == row.city_code) & (wide.period == row.period), "site_search"].iloc[0]
    assert float(cell) == float(row.value)
    # Blocked values stay empty in the wide table: missing is not zero.
    blocked = long[long.status == "blocked"].iloc[0]
    if blocked.indicator in wide.columns:
        assert pd.isna(wide.loc[(wide.city_code == blocked.city_code) & (wide.period == blocked.period),
                                blocked.indicator].iloc[0])
    parquet = pd.read_parquet(tmp_path / "long.parquet")
    assert len(parquet) == len(long)
    sheets = pd.read_excel(tmp_path / "wide.xlsx", sheet_name=None)
    assert "治理能力" in sheets and "城市" in sheets["治理能力"].columns
    assert sum(len(s) for s in pd.read_excel(tmp_path / "long.xlsx", sheet_name=None).values()) == len(long)


@pytest.mark.slow
def test_sources_check_against_the_sample_web(tmp_path):
    proc = sgi("sources", "check", "--sample-web", "--json", "--db", f"sqlite:///{tmp_path / 'c.db'}")
    assert proc.returncode == 0, proc.stderr[-3000:]
    results = {(r["city_code"], r["kind"]): r for r in json.loads(proc.stdout)}
    from sgi.sampleweb.generate import build_sample_web

    web = build_sample_web()
    assert {code for code, _ in results} == {c.code for c in web.cities}
    portals = [s for s in web.sites.values() if s.kind == "portal"]
    for site in portals:
        got = results[(site.city_code, "portal")]
        if (site.fault is not None and site.fault.status in (403, 412)) or site.js_challenge:
            assert got["verdict"] == "blocked", got
        else:
            assert got["verdict"] in ("responds", "redirects"), got
