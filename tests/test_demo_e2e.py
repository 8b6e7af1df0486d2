"""End to end: `sgi demo` crawls the sample web through the real CLI, Scrapy, Chromium, the pipeline,
SQLite and WARC. Run twice to prove idempotence; then every value is checked against the truth."""

from __future__ import annotations

import csv
import sqlite3
from collections import defaultdict
from pathlib import Path

import pytest

from sgi.indicators import registry
from storage.warc import read_record, sha256_hex

pytestmark = [pytest.mark.slow, pytest.mark.browser]


def observations(out: Path) -> list[dict]:
    con = sqlite3.connect(out / "sgi.db")
    con.row_factory = sqlite3.Row
    rows = [dict(r) for r in con.execute(
        "SELECT o.*, s.warc_file, s.warc_offset, s.digest, s.final_url FROM observation o "
        "LEFT JOIN snapshot s ON s.id = o.snapshot_id")]
    con.close()
    return rows


def truth_rows(out: Path) -> list[dict]:
    with open(out / "truth.csv", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def test_demo_writes_its_files(demo):
    out = demo["out"]
    assert (out / "sgi.db").exists()
    with open(out / "indicators.csv", encoding="utf-8") as fh:
        reader = csv.DictReader(fh)
        assert reader.fieldnames == ["city_code", "city_name", "indicator", "period", "value", "status",
                                     "evidence_url", "fetched_at", "machine_value", "machine_status", "override_id",
                                     "override_reason", "override_by", "override_at"]
        rows = list(reader)
    assert len(rows) > 100
    assert {r["status"] for r in rows} <= {"ok", "absent", "blocked", "error", "not_applicable"}
    assert "observations by city and status" in demo["stdout"]


def test_every_ok_value_has_evidence_readable_from_the_warc(demo):
    out = demo["out"]
    checked = 0
    for row in observations(out):
        if row["status"] not in ("ok", "absent"):
            continue
        assert row["snapshot_id"] and row["evidence_url"] and row["rule"] and row["rule_version"], row
        assert row["warc_file"], f"no WARC record for {row['indicator']} of {row['city_code']}"
        record = read_record(out / "warc", row["warc_file"], row["warc_offset"])
        assert sha256_hex(record.body) == row["digest"]
        assert record.url == row["final_url"]
        checked += 1
    assert checked > 100


def test_blocked_site_is_blocked_never_absent(demo):
    truth = [t for t in truth_rows(demo["out"]) if t["status"] == "blocked"]
    assert truth, "the sample web must contain a blocked portal"
    blocked_cities = {t["city_code"] for t in truth}
    got = {(o["city_code"], o["indicator"]): o for o in observations(demo["out"])}
    for t in truth:
        o = got.get((t["city_code"], t["indicator"]))
        assert o is not None, f"missing observation {t['indicator']} for blocked city {t['city_code']}"
        assert o["status"] == "blocked" and o["value_num"] is None and o["value_text"] is None, o
        assert o["snapshot_id"], "a blocked value still cites the blocked response"
    for o in observations(demo["out"]):
        if o["city_code"] in blocked_cities and o["indicator"] != "portal_ipv6":
            assert o["status"] != "absent"


def test_a_passed_javascript_challenge_is_recorded_with_the_rendered_documents_answer(demo):
    """The plain request gets the 412 challenge (blocked); the browser runs its script, which sets the
    cookie and reloads: the rendered body is the reloaded document's, and so are its status and headers."""
    from urllib.parse import urlsplit

    from sgi.sampleweb.generate import build_sample_web

    hosts = {s.host for s in build_sample_web().sites.values() if s.js_challenge}
    assert hosts, "the sample web must contain a portal behind a JavaScript challenge"
    con = sqlite3.connect(demo["out"] / "sgi.db")
    homes = [(u, status, http, rendered) for u, status, http, rendered in con.execute(
        "SELECT requested_url, fetch_status, http_status, rendered FROM snapshot") if urlsplit(u).hostname in hosts
        and urlsplit(u).path == "/"]
    con.close()
    assert {(status, http) for _, status, http, rendered in homes if not rendered} >= {("blocked", 412)}
    assert {(status, http) for _, status, http, rendered in homes if rendered} == {("ok", 200)}


def test_rerunning_the_demo_is_idempotent(demo):
    assert demo["first"]["counts"] == demo["second"]["counts"]
    assert demo["first"]["observations"] == demo["second"]["observations"]


def _same(indicator: str, truth_value: str, obs: dict) -> bool:
    unit = registry()[indicator].unit
    if truth_value == "":
        return obs["value_num"] is None and obs["value_text"] is None
    if unit == "text":
        return obs["value_text"] == truth_value
    if obs["value_num"] is None:
        return False
    return abs(float(truth_value) - obs["value_num"]) <= 1e-4


def test_portal_indicators_match_the_truth_for_every_city(demo):
    """Precision and recall per feature are printed; any miss fails."""
    out = demo["out"]
    got = {(o["city_code"], o["indicator"], o["period"]): o for o in observations(out)}
    portal_codes = {c for c, i in registry().items() if i.source in ("portal", "dns")}
    misses, stats = [], defaultdict(lambda: {"tp": 0, "fp": 0, "fn": 0, "tn": 0})
    for t in truth_rows(out):
        if t["indicator"] not in portal_codes:
            continue
        o = got.get((t["city_code"], t["indicator"], t["period"]))
        if o is None:
            misses.append(f"{t['city_code']} {t['indicator']}: no observation (truth {t['value']!r} {t['status']})")
            continue
        if registry()[t["indicator"]].unit == "bool" and t["status"] in ("ok", "absent"):
            truth_yes, got_yes = t["value"] == "1", o["value_num"] == 1.0
            key = {(True, True): "tp", (False, True): "fp", (True, False): "fn", (False, False): "tn"}
            stats[t["indicator"]][key[(truth_yes, got_yes)]] += 1
        if o["status"] != t["status"] or not _same(t["indicator"], t["value"], o):
            misses.append(f"{t['city_code']} {t['indicator']}: got {o['value_num'] if o['value_text'] is None else o['value_text']!r}"
                          f" ({o['status']}; {o['evidence_detail']}) want {t['value']!r} ({t['status']})")
    report = []
    for code, s in sorted(stats.items()):
        precision = s["tp"] / (s["tp"] + s["fp"]) if s["tp"] + s["fp"] else 1.0
        recall = s["tp"] / (s["tp"] + s["fn"]) if s["tp"] + s["fn"] else 1.0
        report.append(f"{code:26s} precision {precision:.2f} recall {recall:.2f}")
    print("\n".join(report))
    assert not misses, f"{len(misses)} mismatches:\n" + "\n".join(misses)


def test_demo_scores_every_readable_city_on_all_three_dimensions(demo):
    """scores.csv has capability, effect and institutional sub-scores for every sample city except the
    one whose portal blocks everything: that city gets no score at all, never a zero."""
    import pandas as pd

    scores = pd.read_csv(demo["out"] / "scores.csv", dtype={"city_code": str})
    year = scores[scores.period.astype(str) == "2026"]
    wide = year[year.node.isin(["total", "capability", "effect", "institution"])].pivot_table(
        index="city_code", columns="node", values="value")
    blocked = {t["city_code"] for t in truth_rows(demo["out"])
               if t["indicator"] == "portal_reachable" and t["status"] == "blocked"}
    sample = {t["city_code"] for t in truth_rows(demo["out"])}
    for city in sample - blocked:
        for node in ("capability", "effect", "institution", "total"):
            assert city in wide.index and pd.notna(wide.loc[city, node]), (city, node)
    for city in blocked:
        assert city not in wide.index or wide.loc[city].isna().all()


def test_nothing_beside_the_warc_files_holds_personal_data_from_letters(demo):
    """Issue 23 D20: after two demo crawls a cache beside the archive (the page-rule memo, since removed)
    held 65 answers with unscrubbed message titles. Raw letters live in the WARC files only: no other file
    of the archive directory, and no text column of the database, holds their personal data."""
    from collectors.mailbox import find_pii

    out = demo["out"]
    con = sqlite3.connect(out / "sgi.db")
    letters = con.execute("SELECT warc_file, warc_offset FROM snapshot WHERE spider = 'mailbox' "
                          "AND warc_file IS NOT NULL").fetchall()
    personal = set()
    for warc_file, offset in letters:
        body = read_record(out / "warc", warc_file, offset).body
        personal |= {hit for _, hit in find_pii(body.decode("utf-8", "replace"))}
    assert len(personal) > 10, "the sample letters should carry personal data (else this test proves nothing)"
    others = [p for p in (out / "warc").rglob("*") if p.is_file() and not p.name.endswith(".warc.gz")]
    for path in others:
        data = path.read_bytes().decode("utf-8", "replace")
        assert not [p for p in personal if p in data], path
    for (table,) in con.execute("SELECT name FROM sqlite_master WHERE type = 'table'").fetchall():
        columns = [c[1] for c in con.execute(f"PRAGMA table_info('{table}')") if c[2].upper() in ("TEXT", "VARCHAR", "JSON", "")]
        for column in columns:
            for (value,) in con.execute(f'SELECT "{column}" FROM "{table}" WHERE "{column}" IS NOT NULL'):
                text = value if isinstance(value, str) else str(value)
                assert not [p for p in personal if p in text], (table, column, text[:200])
    con.close()
