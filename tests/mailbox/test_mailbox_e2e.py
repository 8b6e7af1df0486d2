"""End to end on the shared demo (`sgi demo`, run twice): every mailbox indicator of every city and
period matches the sample web's truth, every board's breakdown matches its truth, and no stored text
holds a phone number, an ID-card number, an e-mail address or a letter's body."""

from __future__ import annotations

import csv
import sqlite3

import pytest

from collectors.mailbox import CODES, find_pii
from sgi.sampleweb.generate import build_sample_web
from sgi.sampleweb.mailbox import board_truth

pytestmark = [pytest.mark.slow, pytest.mark.browser]


def _con(demo):
    con = sqlite3.connect(demo["out"] / "sgi.db")
    con.row_factory = sqlite3.Row
    return con


def _close(want, got) -> bool:
    if want is None or want == "":
        return got is None
    return got is not None and abs(float(want) - float(got)) <= 1e-4


def test_mailbox_indicators_match_the_truth_for_every_city_and_period(demo):
    with open(demo["out"] / "truth.csv", encoding="utf-8") as fh:
        truth = [t for t in csv.DictReader(fh) if t["indicator"] in CODES]
    assert len(truth) >= 3 * 3 * len(CODES)
    con = _con(demo)
    got = {(r["city_code"], r["indicator"], r["period"]): r for r in con.execute(
        "SELECT * FROM observation WHERE indicator IN (%s)" % ",".join("?" * len(CODES)), CODES)}
    misses = []
    for t in truth:
        o = got.get((t["city_code"], t["indicator"], t["period"]))
        if o is None or o["status"] != t["status"] or not _close(t["value"], o["value_num"]):
            misses.append(f"{t['city_code']} {t['indicator']} {t['period']}: got "
                          f"{(o['value_num'], o['status']) if o else None} want {t['value']!r} ({t['status']})")
        elif o["status"] == "ok":
            assert o["snapshot_id"] and len(o["evidence_snapshots"]) > 5   # every list / API page cited
    assert not misses, "\n".join(misses)
    assert {t["status"] for t in truth} >= {"ok", "not_applicable"}   # 南宁 has no population
    con.close()


def test_every_board_matches_its_truth(demo):
    web = build_sample_web()
    con = _con(demo)
    run_id = con.execute("SELECT id FROM crawl_run WHERE run_key = 'demo'").fetchone()[0]
    got = {(r["board"], r["period"]): r for r in con.execute(
        "SELECT * FROM message_board_stat WHERE run_id = ?", (run_id,))}
    rows = board_truth(web)
    assert {r["board"] for r in rows} == {"hz-mayor", "rmw-539", "rmw-1012", "nn-12345",
                                          "xm-mayor", "qd-12345", "wh-ldly", "cd-ldly", "lz-12345"}
    misses = []
    for want in rows:
        g = got.get((want["board"], want["period"]))
        assert g is not None and g["status"] == "ok", (want["board"], want["period"])
        for code in CODES:
            if not _close(want[code], g[code]):
                misses.append(f"{want['board']} {want['period']} {code}: got {g[code]} want {want[code]}")
    assert not misses, "\n".join(misses)
    con.close()


def test_messages_table_holds_the_hard_cases(demo):
    con = _con(demo)
    by_board = dict(con.execute("SELECT board, count(*) FROM message GROUP BY board").fetchall())
    assert by_board == {"hz-mayor": 300, "rmw-539": 400, "rmw-1012": 250, "nn-12345": 350,   # duplicates merged
                        "xm-mayor": 90, "qd-12345": 120, "wh-ldly": 150, "cd-ldly": 110, "lz-12345": 70}
    assert con.execute("SELECT count(*) FROM message WHERE date_flag = 'reply_before_submit'").fetchone()[0] == 2
    assert con.execute("SELECT count(*) FROM message WHERE detail_status = 'not_found'").fetchone()[0] == 2
    assert con.execute("SELECT count(*) FROM message WHERE run_id IS NULL OR snapshot_id IS NULL").fetchone()[0] == 0
    assert con.execute("SELECT count(*) FROM message WHERE title LIKE '%[电话]%' OR title LIKE '%[身份证号]%'"
                       " OR title LIKE '%[邮箱]%'").fetchone()[0] > 10
    con.close()


def test_no_stored_text_contains_personal_data(demo):
    """Every text column of every table of the demo database."""
    con = _con(demo)
    tables = [r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
    hits, scanned = [], 0
    for table in tables:
        for row in con.execute(f"SELECT * FROM {table}"):
            for col in row.keys():
                value = row[col]
                if isinstance(value, str):
                    scanned += 1
                    hits += [(table, col, h) for h in find_pii(value)]
                    # the letters' bodies (来信内容) are never stored either
                    assert "尊敬的领导" not in value, (table, col)
    assert scanned > 10000
    assert not hits, hits[:20]
    con.close()
