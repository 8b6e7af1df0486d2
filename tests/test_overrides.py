"""Auditor overrides: they change the effective value, the score and the exports; removal restores the
machine value; the history stays; bad input is refused with the problem named. Real SQLite in tmp dirs."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from datetime import datetime, timezone

import pandas as pd
import pytest
from typer.testing import CliRunner

from scoring.run import score_database
from sgi.cities import lookup
from sgi.errors import SgiError
from storage import db
from storage.exports import export_indicators, export_overrides, observations_frame
from storage.overrides import active_overrides, add_override, overrides_frame, remove_override
from storage.store import CrawlStore, start_run, sync_cities

CITIES = ["440300", "330100", "510100", "420100"]
DAY = "2026-06-30"
FRAMEWORK = """\
id: tiny
name_zh: 小框架
aggregation: arithmetic
normalisation: {method: minmax, range: [0, 100], scope: panel}
missing: {rule: reweight, min_coverage: 0.5, group_by: region}
tiers:
  cities: {by: rank_share, levels: [{name_zh: A, top_share: 0.5}, {name_zh: B, top_share: 1.0}]}
dimensions:
  - {code: capability, name_zh: 治理能力, weight: 0.5, indicators: [site_search, site_map]}
  - {code: effect, name_zh: 治理效果, weight: 0.5, indicators: [reply_rate]}
"""


@pytest.fixture()
def url(tmp_path):
    """Four cities crawled once (with evidence); 420100 has no site_map observation at all."""
    url = f"sqlite:///{tmp_path / 'o.db'}"
    sync_cities(url, [lookup(c) for c in CITIES])
    store = CrawlStore(url, start_run(url, "r1", as_of=DAY), archive_dir=tmp_path / "warc")
    for i, city in enumerate(CITIES):
        page = f"http://portal-{city}.test/"
        ref = store.record_response(city_code=city, spider="portal", requested_url=page, final_url=page,
                                    http_status=200, reason="OK", headers=[("Content-Type", "text/html")],
                                    body=f"<html>{city}</html>".encode(), fetched_at=datetime.now(timezone.utc),
                                    elapsed_ms=3.0, fetch_status="ok", content_type="text/html",
                                    encoding="utf-8", rendered=False)
        values = {"site_search": True, "reply_rate": 0.9 - 0.2 * i}
        if city != "420100":
            values["site_map"] = i % 2 == 0
        for code, value in values.items():
            status = "absent" if value is False else "ok"
            store.record_observation(city_code=city, indicator=code, period=DAY, status=status, value=value,
                                     rule=f"test.{code}", snapshot_id=ref.id, evidence_url=page)
    store.close()
    yield url
    db.dispose_all()


@pytest.fixture()
def framework(tmp_path):
    path = tmp_path / "tiny.yaml"
    path.write_text(FRAMEWORK, encoding="utf-8")
    return str(path)


def effective(url, city, indicator):
    df = observations_frame(url)
    rows = df[(df.city_code == city) & (df.indicator == indicator)]
    assert len(rows) == 1, rows
    return rows.iloc[0]


def total(url, framework, city):
    scores = score_database(url, framework=framework, write_db=False).index("2026").set_index("city_code")
    return float(scores.loc[city, "value"])


def machine_rows(url):
    path = db.sqlite_path(url)
    with sqlite3.connect(path) as con:
        return con.execute("SELECT city_code, indicator, period, value_num, value_text, status FROM observation"
                           " ORDER BY id").fetchall()


def test_override_changes_value_score_and_exports_and_removal_restores(url, framework, tmp_path):
    before_rows = machine_rows(url)
    before_score = total(url, framework, "440300")
    oid = add_override(url, "深圳", "site_search", "no", reason="the search box is a picture", by="alice")

    row = effective(url, "440300", "site_search")
    assert (row.value, row.status) == (0, "absent")
    assert (row.machine_value, row.machine_status) == (1, "ok")
    assert (row.override_id, row.override_by, row.override_reason) == (oid, "alice", "the search box is a picture")
    assert row.override_at.startswith(str(datetime.now(timezone.utc).year))
    untouched = effective(url, "330100", "site_search")
    assert untouched.override_id is None and untouched.machine_value == untouched.value == 1
    assert machine_rows(url) == before_rows                       # the machine's rows are never modified
    assert total(url, framework, "440300") < before_score - 1     # the score follows the auditor

    export_indicators(tmp_path / "long.csv", url=url)
    long = pd.read_csv(tmp_path / "long.csv", dtype={"city_code": str})
    hit = long[(long.city_code == "440300") & (long.indicator == "site_search")].iloc[0]
    assert (hit.value, hit.status, hit.machine_value, hit.machine_status) == (0, "absent", 1, "ok")
    assert (hit.override_id, hit.override_by) == (oid, "alice")
    assert long[long.override_id.notna()].shape[0] == 1
    export_indicators(tmp_path / "wide.csv", url=url, wide=True)
    wide = pd.read_csv(tmp_path / "wide.csv", dtype={"city_code": str}).set_index("city_code")
    assert wide.loc["440300", "site_search"] == 0 and wide.loc["330100", "site_search"] == 1
    export_indicators(tmp_path / "long.parquet", url=url)
    parquet = pd.read_parquet(tmp_path / "long.parquet")
    assert parquet[parquet.override_id.notna()].override_by.tolist() == ["alice"]
    export_indicators(tmp_path / "long.xlsx", url=url)
    sheet = pd.read_excel(tmp_path / "long.xlsx", sheet_name="capability")
    assert sheet[sheet.override_id.notna()].machine_status.tolist() == ["ok"]

    assert remove_override(url, oid, by="bob", reason="the box works after all") == oid
    row = effective(url, "440300", "site_search")
    assert (row.value, row.status, row.override_id) == (1, "ok", None)
    assert total(url, framework, "440300") == pytest.approx(before_score)
    assert active_overrides(url).empty
    assert export_overrides(tmp_path / "audit.csv", url=url) == 1
    trail = pd.read_csv(tmp_path / "audit.csv", dtype={"city_code": str}).iloc[0]
    assert (trail.id, trail.created_by, trail.removed_by, trail.removed_reason) == \
        (oid, "alice", "bob", "the box works after all")
    assert isinstance(trail.removed_at, str) and trail.removed_at


def test_a_new_override_retires_the_previous_and_keeps_it(url):
    first = add_override(url, "440300", "reply_rate", "0.5", reason="counted twice", by="alice")
    second = add_override(url, "440300", "reply_rate", "0.55", reason="recounted", by="carol")
    active = active_overrides(url)
    assert active["id"].tolist() == [second] and active["value"].tolist() == [0.55]
    history = overrides_frame(url, include_removed=True).set_index("id")
    assert history.loc[first, "removed_reason"] == f"replaced by override #{second}"
    assert history.loc[first, "removed_by"] == "carol" and history.loc[second, "removed_at"] is None
    assert effective(url, "440300", "reply_rate").value == 0.55


def test_override_without_machine_observation_appears_with_the_auditor_as_evidence(url, framework):
    before = score_database(url, framework=framework, write_db=False)
    cov_before = before.scores.set_index(["city_code", "node"]).loc[("420100", "capability"), "coverage"]
    oid = add_override(url, "武汉", "site_map", "yes", reason="site map in the footer", by="dan",
                       evidence_url="http://portal-420100.test/sitemap.html")
    row = effective(url, "420100", "site_map")
    assert (row.value, row.status, row.period) == (1, "ok", DAY)     # the city's crawl date
    assert row.machine_status is None and row.machine_value is None and row.override_id == oid
    assert row.evidence_url == "http://portal-420100.test/sitemap.html"
    assert "dan" in row.evidence_detail and "site map in the footer" in row.evidence_detail
    after = score_database(url, framework=framework, write_db=False)
    cov_after = after.scores.set_index(["city_code", "node"]).loc[("420100", "capability"), "coverage"]
    assert cov_after > cov_before


def test_a_period_override_beats_an_all_periods_one(url):
    add_override(url, "440300", "reply_rate", "0.1", reason="all periods", by="alice")
    specific = add_override(url, "440300", "reply_rate", "0.2", reason="this crawl", by="alice", period=DAY)
    row = effective(url, "440300", "reply_rate")
    assert (row.value, row.override_id) == (0.2, specific)
    assert len(active_overrides(url)) == 2      # different periods: both stay active


def test_status_not_applicable_and_absent(url):
    add_override(url, "330100", "site_map", None, reason="no portal pages at all", by="eve", status="not_applicable")
    row = effective(url, "330100", "site_map")
    assert row.status == "not_applicable" and row.value is None and row.machine_status == "absent"
    add_override(url, "510100", "site_search", "", reason="no search", by="eve", status="absent")
    assert effective(url, "510100", "site_search").value == 0      # an absent yes/no feature is a real 0


@pytest.mark.parametrize("kwargs, message", [
    (dict(indicator="val2"), "unknown indicator code 'val2'"),
    (dict(city="Atlantis"), "unknown city 'Atlantis'"),
    (dict(reason=""), "needs a reason"),
    (dict(by="  "), "needs the auditor's name"),
    (dict(value="maybe"), "site_search is yes/no; 'maybe' is not a yes/no value"),
    (dict(indicator="reply_rate", value="lots"), "reply_rate is a number (share); 'lots' is not a number"),
    (dict(status="blocked"), "override status 'blocked' is not one of ok, absent, not_applicable"),
    (dict(status="not_applicable"), "not_applicable for site_search must not carry a value"),
    (dict(value=None), "needs a value or --status"),
    (dict(period="last year"), "period 'last year' is not YYYY"),
    # D10: values, dates and URLs are checked against the indicator registry's units
    (dict(indicator="reply_rate", value="5"), "reply_rate (share) must be between 0 and 1, not 5"),
    (dict(indicator="messages_total", value="-7"), "messages_total (count) must be at least 0, not -7"),
    (dict(indicator="population", value="0"), "population (count) must be between 1 and 1,000,000,000, not 0"),
    (dict(value="no", period="2026-13-45"), "period '2026-13-45' is not a real date"),
    (dict(value="no", evidence_url="javascript:alert(8)"), "evidence URL 'javascript:alert(8)' is not an http(s)"),
    (dict(value="no", evidence_url="file:///etc/passwd"), "evidence URL 'file:///etc/passwd' is not an http(s)"),
])
def test_bad_input_is_refused_naming_the_problem(url, kwargs, message):
    args = dict(city="440300", indicator="site_search", value="yes", reason="why", by="who") | kwargs
    with pytest.raises(SgiError) as info:
        add_override(url, args.pop("city"), args.pop("indicator"), args.pop("value"), **args)
    assert message in info.value.message and info.value.hint
    assert overrides_frame(url, include_removed=True).empty


def test_removing_what_is_not_active_is_refused(url):
    with pytest.raises(SgiError, match="no override #7"):
        remove_override(url, 7, by="bob", reason="x")
    oid = add_override(url, "440300", "site_search", "no", reason="why", by="alice")
    with pytest.raises(SgiError, match="needs a reason"):
        remove_override(url, oid, by="bob", reason="")
    remove_override(url, ("深圳", "site_search"), by="bob", reason="checked again")
    with pytest.raises(SgiError, match=f"override #{oid} was already removed"):
        remove_override(url, oid, by="bob", reason="again")
    with pytest.raises(SgiError, match="no active override of site_search for 440300"):
        remove_override(url, ("440300", "site_search"), by="bob", reason="again")


def test_cli_short_form_remove_list_and_export(url, tmp_path, monkeypatch):
    from sgi.cli import app, out

    monkeypatch.setattr(out, "_width", 250)     # table cells unwrapped, so the test can read them
    runner = CliRunner()
    res = runner.invoke(app, ["override", "深圳", "site_search", "no", "--reason", "image only", "--by", "alice",
                              "--db", url])
    assert res.exit_code == 0, res.output
    assert "override #1" in res.output and "absent" in res.output
    res = runner.invoke(app, ["override", "add", "杭州", "reply_rate", "0.4", "--reason", "r", "--by", "bob",
                              "--period", DAY, "--db", url])
    assert res.exit_code == 0, res.output
    res = runner.invoke(app, ["override", "list", "--db", url])
    assert "image only" in res.output and "330100" in res.output
    res = runner.invoke(app, ["override", "--remove", "1", "--by", "carol", "--reason", "wrong", "--db", url])
    assert res.exit_code == 0, res.output
    res = runner.invoke(app, ["override", "list", "--db", url])
    assert "image only" not in res.output
    res = runner.invoke(app, ["override", "list", "--all", "--db", url])
    assert "image only" in res.output and "carol" in res.output
    res = runner.invoke(app, ["export", "overrides", "-o", str(tmp_path / "o.xlsx"), "--db", url])
    assert res.exit_code == 0, res.output
    assert len(pd.read_excel(tmp_path / "o.xlsx")) == 2


def test_cli_error_is_one_line_with_a_hint(url):
    proc = subprocess.run([sys.executable, "-m", "sgi", "override", "深圳", "site_search", "yes", "--by", "alice",
                           "--db", url], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2
    assert "error: an override needs a reason" in proc.stderr and "hint:" in proc.stderr


def test_cli_refuses_an_out_of_range_value_in_one_line(url):
    proc = subprocess.run([sys.executable, "-m", "sgi", "override", "add", "深圳", "messages_total", "--reason", "r",
                           "--by", "t", "--db", url, "--", "-7"], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.splitlines()[0] == "error: messages_total (count) must be at least 0, not -7"
    assert overrides_frame(url, include_removed=True).empty
