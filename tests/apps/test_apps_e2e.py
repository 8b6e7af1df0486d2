"""The demo crawl (shared `demo` fixture) against the sample web's app truth, per city and indicator."""

from __future__ import annotations

import csv
import sqlite3

import pytest

pytestmark = [pytest.mark.slow, pytest.mark.browser]


def test_app_indicators_match_the_truth(demo):
    out = demo["out"]
    con = sqlite3.connect(out / "sgi.db")
    con.row_factory = sqlite3.Row
    got = {(r["city_code"], r["indicator"], r["period"]): dict(r) for r in con.execute(
        "SELECT * FROM observation WHERE indicator LIKE 'app_%'")}
    with open(out / "truth.csv", encoding="utf-8") as fh:
        truth = [t for t in csv.DictReader(fh) if t["indicator"].startswith("app_")]
    assert len(truth) >= 40
    misses = []
    for t in truth:
        o = got.get((t["city_code"], t["indicator"], t["period"]))
        if o is None:
            misses.append(f"{t['city_code']} {t['indicator']}: no observation")
            continue
        same = (o["value_num"] is None) if t["value"] == "" else \
            (o["value_num"] is not None and abs(float(t["value"]) - o["value_num"]) <= 1e-4)
        if o["status"] != t["status"] or not same:
            misses.append(f"{t['city_code']} {t['indicator']}: got {o['value_num']} ({o['status']}; "
                          f"{o['evidence_detail']}) want {t['value']!r} ({t['status']})")
        if o["status"] in ("ok", "absent"):
            assert o["snapshot_id"] and o["evidence_snapshots"], o
    truth_cities = {t["city_code"] for t in truth}
    extra = {k for k in got if k[0] not in truth_cities}
    assert not extra, f"app observations for cities without app sources: {extra}"
    assert not misses, "\n".join(misses)
    # one snapshot row per app and store for the crawl date, even after the demo ran twice
    n = con.execute("SELECT count(*) FROM app_snapshot WHERE crawl_date = '2026-06-30'").fetchone()[0]
    keys = con.execute("SELECT count(DISTINCT store || app_id || crawl_date) FROM app_snapshot").fetchone()[0]
    assert n == keys >= 15
    con.close()
