"""Policy harvest end to end on the shared demo output: counts per category against the sample web's
truth for every city, attachments recorded with reasons, reposts kept as URLs of one document."""

from __future__ import annotations

import csv
import sqlite3
from collections import defaultdict

import pytest

pytestmark = [pytest.mark.slow, pytest.mark.browser]


def _rows(demo, sql):
    con = sqlite3.connect(demo["out"] / "sgi.db")
    con.row_factory = sqlite3.Row
    rows = [dict(r) for r in con.execute(sql)]
    con.close()
    return rows


def _policy_truth(demo):
    with open(demo["out"] / "truth.csv", encoding="utf-8") as fh:
        return [r for r in csv.DictReader(fh)
                if r["indicator"].startswith("policy_") and r["indicator"] != "policy_interpretation"
                or r["indicator"] == "work_report_env_term_freq"]


def test_policy_counts_match_the_truth_for_every_city(demo):
    truth = _policy_truth(demo)
    assert len(truth) >= 8 * 16 * 7
    got = {(o["city_code"], o["indicator"], o["period"]): o for o in _rows(demo, "SELECT * FROM observation")}
    misses, table = [], defaultdict(list)
    for t in truth:
        o = got.get((t["city_code"], t["indicator"], t["period"]))
        if o is None:
            misses.append(f"{t['city_code']} {t['indicator']} {t['period']}: no observation")
            continue
        ok = o["status"] == t["status"] and o["value_num"] is not None and abs(o["value_num"] - float(t["value"])) <= 1e-4
        if not ok:
            misses.append(f"{t['city_code']} {t['indicator']} {t['period']}: got {o['value_num']} ({o['status']}) "
                          f"want {t['value']} ({t['status']})")
        if len(t["period"]) == 10 and t["indicator"].startswith("policy_cat_"):
            table[t["city_code"]].append(f"{t['indicator'][11:]}={o['value_num']:g}/{t['value']}")
    print("\ncumulative category counts got/truth:")
    for city, cells in sorted(table.items()):
        print(city, " ".join(cells))
    assert not misses, f"{len(misses)} mismatches:\n" + "\n".join(misses[:50])


def test_policy_values_cite_list_pages(demo):
    obs = _rows(demo, "SELECT * FROM observation WHERE indicator LIKE 'policy_cat_%' OR indicator = 'policy_docs_total'")
    assert obs
    for o in obs:
        assert o["status"] == "ok" and o["snapshot_id"] and o["evidence_snapshots"], o
    # Harbin has no policy library: nothing is reported for it (not zero).
    assert not [o for o in obs if o["city_code"] == "230100"]


def test_attachments_are_recorded_with_digest_text_or_reason(demo):
    atts = {r["url"].split("/")[-1]: r for r in _rows(demo, "SELECT * FROM policy_attachment")}
    pdf, docx = atts["P020260105_tasks.pdf"], atts["P020260105_terms.docx"]
    assert pdf["status"] == "ok" and len(pdf["digest"]) == 64 and "重点任务分工表" in pdf["text"]
    assert docx["status"] == "ok" and "名词解释" in docx["text"]
    big = atts["scan_50mb.pdf"]
    assert big["status"] == "skipped" and big["skip_reason"].startswith("size cap") and big["text"] is None
    assert big["size"] == 50 * 1024 * 1024
    broken = atts["broken.pdf"]
    assert broken["status"] == "skipped" and broken["skip_reason"].startswith("corrupt") and broken["digest"]
    assert atts["fj1.doc"]["skip_reason"].startswith("unsupported format")


def test_reposts_are_one_document_with_every_url(demo):
    docs = _rows(demo, "SELECT * FROM policy_document WHERE kind = 'document'")
    per_city = defaultdict(int)
    for d in docs:
        per_city[d["city_code"]] += 1
    assert set(per_city.values()) == {27} and len(per_city) == 8
    import json
    multi = [d for d in docs if len(json.loads(d["urls"])) > 1]
    assert len(multi) == 16                       # two reposts per city: by 文号, and by near-identical text
    assert any(d["doc_key"].startswith("url:") for d in multi) and any(d["doc_key"].startswith("no:") for d in multi)
    for d in multi:
        assert d["url"] in json.loads(d["urls"])
    reports = _rows(demo, "SELECT * FROM policy_document WHERE kind = 'work_report'")
    assert len(reports) == 8 and all(r["doc_key"] == "work_report:2026" and r["body_text"] for r in reports)


def test_stored_issuer_and_written_date_match_the_truth(demo):
    """Issuers written '市…局' on the pages are stored with their city; the 成文日期 is stored, never the
    生成日期 the pages also show (truth: sgi.sampleweb.policy.ISSUERS / WRITTEN, data of the generator)."""
    import re

    from sgi.sampleweb import policy as gen
    from sgi.sampleweb.generate import DEFAULT_SEED, REFERENCE_DATE, build_sample_web

    build_sample_web(DEFAULT_SEED, REFERENCE_DATE)          # fills gen.ISSUERS / gen.WRITTEN
    docs = _rows(demo, "SELECT url, issuer, written_date FROM policy_document WHERE kind = 'document'")
    checked = 0
    for d in docs:
        key = re.sub(r"^(https?://[^/:]+):\d+", r"\1", d["url"])
        if key in gen.ISSUERS:
            assert d["issuer"] == gen.ISSUERS[key], key
            assert d["written_date"] == gen.WRITTEN[key].isoformat(), key
            checked += 1
    assert checked == len(docs) == 8 * 27
