"""`sgi demo` (shared session fixture, run twice): every opendata indicator matches the sample web's
truth for every platform; failing platforms are error (never absent or 0); cities without a platform
have no opendata rows; the dataset table holds each catalogue once, citing archived answers."""

from __future__ import annotations

import sqlite3

import pytest

from sgi.indicators import registry
from tests.test_demo_e2e import _same, observations, truth_rows

pytestmark = [pytest.mark.slow, pytest.mark.browser]

CODES = {c for c, i in registry().items() if i.source == "opendata"}
PLATFORM_CITIES = {"440300", "330100", "510100", "370200", "620100"}


def test_opendata_indicators_match_the_truth_for_every_platform(demo):
    out = demo["out"]
    got = {(o["city_code"], o["indicator"], o["period"]): o for o in observations(out)}
    truth = [t for t in truth_rows(out) if t["indicator"] in CODES]
    assert {t["city_code"] for t in truth} == PLATFORM_CITIES
    assert len(truth) == len(PLATFORM_CITIES) * len(CODES)
    misses = []
    for t in truth:
        o = got.get((t["city_code"], t["indicator"], t["period"]))
        if o is None:
            misses.append(f"{t['city_code']} {t['indicator']}: no observation")
            continue
        if o["status"] != t["status"] or not _same(t["indicator"], t["value"], o):
            misses.append(f"{t['city_code']} {t['indicator']}: got {o['value_num']!r} ({o['status']}; "
                          f"{o['evidence_detail']}) want {t['value']!r} ({t['status']})")
    assert not misses, f"{len(misses)} mismatches:\n" + "\n".join(misses)


def test_failing_platforms_are_error_and_cite_their_answers(demo):
    for o in observations(demo["out"]):
        if o["indicator"] in CODES and o["city_code"] in ("370200", "620100"):
            assert o["status"] == "error" and o["value_num"] is None and o["value_text"] is None, o
            assert o["snapshot_id"], "an error still cites the failed answer"


def test_cities_without_a_platform_get_no_opendata_rows(demo):
    cities = {o["city_code"] for o in observations(demo["out"]) if o["indicator"] in CODES}
    assert cities == PLATFORM_CITIES


def test_values_cite_every_list_answer(demo):
    rows = {(o["city_code"], o["indicator"]): o for o in observations(demo["out"]) if o["indicator"] in CODES}
    hz = rows[("330100", "opendata_datasets")]
    import json

    snaps = json.loads(hz["evidence_snapshots"]) if isinstance(hz["evidence_snapshots"], str) else hz["evidence_snapshots"]
    assert len(snaps) >= 44          # 2,150 datasets at 50 a page (+ the retried error page)
    cd = rows[("510100", "opendata_publishers")]
    cd_snaps = json.loads(cd["evidence_snapshots"]) if isinstance(cd["evidence_snapshots"], str) else cd["evidence_snapshots"]
    assert len(cd_snaps) >= 9 + 130   # list pages and detail pages


def test_dataset_table_holds_each_catalogue_once(demo):
    con = sqlite3.connect(demo["out"] / "sgi.db")
    try:
        rows = dict(con.execute("SELECT city_code, count(*) FROM dataset GROUP BY city_code").fetchall())
        distinct = con.execute("SELECT count(DISTINCT platform || '|' || dataset_id), count(*) FROM dataset").fetchone()
        removed = con.execute("SELECT count(*) FROM dataset WHERE removed").fetchone()[0]
        unsourced = con.execute("SELECT count(*) FROM dataset d LEFT JOIN snapshot s ON s.id = d.snapshot_id "
                                "WHERE s.id IS NULL OR s.warc_file IS NULL").fetchone()[0]
    finally:
        con.close()
    assert rows == {"440300": 327, "330100": 2150, "510100": 130}
    assert distinct[0] == distinct[1] and removed == 0 and unsourced == 0
