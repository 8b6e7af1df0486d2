"""`sgi nightly`: crawl, score, report and health checks on the sample web (two cities), health.yaml
validation, and WARC retention (`sgi archive prune`).

Report numbers are checked against SQL written here, never against the report code's own queries.
Three nightly runs share one database:
  A  Lanzhou (620100) + Harbin (230100, every page answers 403)   -> city_fully_blocked fails, exit 3
  B  Lanzhou alone                                                 -> healthy, exit 0 (compared with A)
  C  Lanzhou with its 12345 message board down (500 everywhere)    -> items_halved fails, exit 3
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

import pytest

from sgi.errors import ConfigError
from sgi.health import load_checks

CITY, BLOCKED_CITY = "620100", "230100"
BOARD_HOST = "www.lz12345.gov.cn.test"

slow = pytest.mark.slow   # the tests that use the three crawls (the health-file and prune unit tests are fast)


def sgi(*args, cwd=None, timeout=600) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "sgi", *args], capture_output=True, text=True, timeout=timeout,
                          cwd=cwd, env={**os.environ, "COLUMNS": "200"})


@pytest.fixture(scope="module")
def nightly(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("nightly")
    db = tmp / "sgi.db"
    url = f"sqlite:///{db}"
    reports, logs = tmp / "reports", tmp / "logs"
    a = sgi("nightly", "--db", url, "--sample-web", "-c", CITY, "-c", BLOCKED_CITY, "--report-dir", str(reports),
            "--log-dir", str(logs))
    b = sgi("nightly", "--db", url, "--sample-web", "-c", CITY, "--report-dir", str(reports))
    c = subprocess.run([sys.executable, "-m", "tests.nightly_fault", url, str(tmp / "web"), str(reports), CITY,
                        BOARD_HOST], capture_output=True, text=True, timeout=600)
    con = sqlite3.connect(db)
    con.row_factory = sqlite3.Row
    keys = [r[0] for r in con.execute("SELECT run_key FROM crawl_run ORDER BY id")]
    yield {"tmp": tmp, "db": db, "url": url, "reports": reports, "logs": logs, "proc": [a, b, c], "keys": keys,
           "con": con}
    con.close()


def report(nightly, i) -> dict:
    return json.loads((nightly["reports"] / f"{nightly['keys'][i]}.json").read_text(encoding="utf-8"))


def run_id(con, key) -> int:
    return con.execute("SELECT id FROM crawl_run WHERE run_key = ?", (key,)).fetchone()[0]


def check(rep, name) -> dict:
    return next(c for c in rep["checks"] if c["check"] == name)


@slow
def test_run_keys_are_per_day_and_never_reused(nightly):
    today = date.today().isoformat()
    assert nightly["keys"] == [f"nightly-{today}", f"nightly-{today}-2", f"nightly-{today}-3"]


@slow
def test_blocked_city_fails_the_health_check_with_exit_code_3(nightly):
    proc = nightly["proc"][0]
    assert proc.returncode == 3, proc.stderr[-3000:]
    rep = report(nightly, 0)
    blocked = check(rep, "city_fully_blocked")
    assert not blocked["passed"]
    assert [f["city_code"] for f in blocked["failures"]] == [BLOCKED_CITY]
    con = nightly["con"]
    pages = con.execute("SELECT COUNT(*) FROM snapshot WHERE run_id = ? AND city_code = ?",
                        (run_id(con, nightly["keys"][0]), BLOCKED_CITY)).fetchone()[0]
    assert pages > 0 and blocked["failures"][0]["pages"] == pages
    assert rep["healthy"] is False and rep["exit_code"] == 3
    # first run: the comparative checks pass with a note
    assert check(rep, "items_halved")["passed"] and "first run" in check(rep, "items_halved")["note"]
    assert "FAIL" in (nightly["reports"] / f"{nightly['keys'][0]}.md").read_text(encoding="utf-8")


@slow
def test_without_the_blocked_city_the_run_is_healthy(nightly):
    proc = nightly["proc"][1]
    rep = report(nightly, 1)
    assert proc.returncode == 0, [c for c in rep["checks"] if not c["passed"]]
    assert rep["healthy"] and all(c["passed"] for c in rep["checks"])
    assert rep["previous"]["run_key"] == nightly["keys"][0]


@slow
def test_report_counts_match_the_database(nightly):
    con, key = nightly["con"], nightly["keys"][0]
    rid = run_id(con, key)
    rep = report(nightly, 0)
    rows = con.execute("SELECT COALESCE(city_code, '') AS city, spider, fetch_status, COUNT(*) AS n FROM snapshot "
                       "WHERE run_id = ? GROUP BY 1, 2, 3", (rid,)).fetchall()
    expected: dict = {}
    for r in rows:
        expected.setdefault((r["city"], r["spider"]), {})[r["fetch_status"]] = r["n"]
    got = {(r["city_code"], r["spider"]): r for r in rep["city_spider"]}
    assert set(got) == set(expected)
    for k, statuses in expected.items():
        assert got[k]["pages"] == sum(statuses.values()), k
        assert {s: n for s, n in got[k]["status"].items() if n} == statuses, k
        assert got[k]["blocked"] == statuses.get("blocked", 0)
        assert got[k]["unchanged"] == statuses.get("not_modified", 0) + statuses.get("reused", 0)
    assert rep["run"]["pages"] == con.execute("SELECT COUNT(*) FROM snapshot WHERE run_id = ?", (rid,)).fetchone()[0]
    assert rep["run"]["observations"] == con.execute("SELECT COUNT(*) FROM observation WHERE run_id = ?",
                                                     (rid,)).fetchone()[0]
    # new items of the first run: every message / policy document / app of the city was first seen in it
    new = {(i["table"], i["city_code"]): i["new"] for i in rep["items"]}
    messages = con.execute("SELECT COUNT(*) FROM message WHERE first_run_id = ? AND city_code = ?",
                           (rid, CITY)).fetchone()[0]
    assert messages > 0 and new[("message", CITY)] == messages
    docs = con.execute("SELECT COUNT(*) FROM policy_document WHERE city_code = ?", (CITY,)).fetchone()[0]
    assert docs > 0 and new[("policy_document", CITY)] == docs
    by_city_spider = {(r["city_code"], r["spider"]): r["new_items"] for r in rep["city_spider"]}
    assert by_city_spider[(CITY, "mailbox")] == messages
    assert rep["run"]["new_items"] == sum(i["new"] for i in rep["items"])


@slow
def test_second_run_reports_changes_against_the_first(nightly):
    con = nightly["con"]
    a, b, third = (run_id(con, key) for key in nightly["keys"])
    rep = report(nightly, 1)
    query = ("SELECT x.city_code, x.indicator, x.period FROM observation x JOIN observation y ON x.city_code = "
             "y.city_code AND x.indicator = y.indicator AND x.period = y.period WHERE x.run_id = ? AND y.run_id = ? "
             "AND (x.status != y.status OR x.value_num IS NOT y.value_num OR x.value_text IS NOT y.value_text)")
    changed = con.execute(query, (a, b)).fetchall()
    # An unchanged sample web read again the same day: the same values, the home page's load time included
    # (read from the archive, it is the time of the fetch it came from, issue 23 D4).
    assert sorted((c["city_code"], c["indicator"], c["period"]) for c in rep["changed_indicators"]) == \
        sorted(tuple(r) for r in changed)
    # the third run, whose message board is down, changes the board's indicators
    changed = con.execute(query, (b, third)).fetchall()
    assert changed
    assert sorted((c["city_code"], c["indicator"], c["period"]) for c in report(nightly, 2)["changed_indicators"]) == \
        sorted(tuple(r) for r in changed)
    # nothing new on an unchanged sample web
    messages_new = con.execute("SELECT COUNT(*) FROM message WHERE first_run_id = ?", (b,)).fetchone()[0]
    assert messages_new == 0 and {i["table"]: i["new"] for i in rep["items"]}.get("message", 0) == 0
    seen = con.execute("SELECT COUNT(*) FROM message WHERE city_code = ? AND run_id >= ?", (CITY, b)).fetchone()[0]
    msg = next(i for i in rep["items"] if i["table"] == "message")
    assert msg["seen"] == seen and msg["previous_seen"] == seen


@slow
def test_collapsed_item_count_fails_the_health_check(nightly):
    proc = nightly["proc"][2]
    assert proc.returncode == 3, proc.stderr[-3000:]
    con = nightly["con"]
    b, c = run_id(con, nightly["keys"][1]), run_id(con, nightly["keys"][2])
    before = con.execute("SELECT COUNT(*) FROM message WHERE city_code = ? AND run_id = ?", (CITY, b)).fetchone()[0]
    now = con.execute("SELECT COUNT(*) FROM message WHERE city_code = ? AND run_id = ?", (CITY, c)).fetchone()[0]
    assert before > 0 and now == 0
    rep = report(nightly, 2)
    halved = check(rep, "items_halved")
    assert not halved["passed"]
    assert {"table": "message", "city_code": CITY, "previous": before, "now": 0} in halved["failures"]
    # the board's pages are errors, not a blocked city: the portal still answered
    assert check(rep, "city_fully_blocked")["passed"]
    errors = con.execute("SELECT COUNT(*) FROM snapshot WHERE run_id = ? AND spider = 'mailbox' AND "
                         "fetch_status = 'error' AND city_code = ?", (c, CITY)).fetchone()[0]
    row = next(r for r in rep["city_spider"] if r["city_code"] == CITY and r["spider"] == "mailbox")
    assert errors > 0 and row["status"]["error"] == errors


@slow
def test_report_of_a_run_from_the_database_alone(nightly, tmp_path):
    """`sgi nightly report --run-key` rebuilds the same numbers without crawling."""
    key = nightly["keys"][0]
    proc = sgi("nightly", "report", "--run-key", key, "--db", nightly["url"], "--report-dir", str(tmp_path))
    assert proc.returncode == 3, proc.stderr[-2000:]
    again = json.loads((tmp_path / f"{key}.json").read_text(encoding="utf-8"))
    first = report(nightly, 0)
    # later runs read the same messages and documents again: the first run's new items stay its own
    assert again["city_spider"] == first["city_spider"] and again["items"] == first["items"]
    assert again["run"]["pages"] == first["run"]["pages"] and again["run"]["new_items"] == first["run"]["new_items"]


@slow
def test_log_file_per_run(nightly):
    log = nightly["logs"] / f"{nightly['keys'][0]}.log"
    text = log.read_text(encoding="utf-8")
    assert "check city_fully_blocked: FAIL" in text and "[scrapy" in text


def test_markdown_escapes_crawled_text():
    from sgi.nightly import md

    cell = md("<script>alert(1)</script> | **x** [a](javascript:b)\n")
    assert "<" not in cell and ">" not in cell
    assert "\\|" in cell and "\\*\\*" in cell and "\\[a\\]\\(" in cell and "\n" not in cell



def test_report_has_politeness_and_blocking_per_host(tmp_path):
    """The section is read from crawl_run.settings as the politeness middleware writes it (its own writer,
    fed with the stats keys the middleware counts), for two spiders of one run."""
    from sgi.nightly import build_report, write_report
    from spiders.politeness import politeness_summary, record_on_run
    from storage import db

    url = _db_with_run(tmp_path, 7)
    portal = {"sgi/politeness/crawl_delay/slow.gov.cn.test": 30.0,
              "sgi/politeness/crawl_delay_capped/slow.gov.cn.test": 120.0,
              "sgi/politeness/crawl_delay/polite.gov.cn.test": 2.0,
              "sgi/politeness/backoff/busy.gov.cn.test": 3, "sgi/politeness/backoff_max_s/busy.gov.cn.test": 8.0,
              "sgi/politeness/retry_after_capped/busy.gov.cn.test": 3600,
              "sgi/blocked/wall.gov.cn.test": 5, "sgi/blocked/browser_retry/wall.gov.cn.test": 2,
              "sgi/blocked/browser_retry_refused/wall.gov.cn.test": 1,
              "sgi/blocked/x|<b>evil</b>.test": 1,
              "downloader/request_count": 40}
    record_on_run(url, 7, "portal", politeness_summary(portal))
    record_on_run(url, 7, "mailbox", politeness_summary({"sgi/blocked/wall.gov.cn.test": 4}))
    db.dispose_all()

    rep = build_report(url, "run7")
    rows = {(r["host"], r["spider"]): r for r in rep["politeness"]}
    assert set(rows) == {("slow.gov.cn.test", "portal"), ("polite.gov.cn.test", "portal"),
                         ("busy.gov.cn.test", "portal"), ("wall.gov.cn.test", "portal"),
                         ("wall.gov.cn.test", "mailbox"), ("x|<b>evil</b>.test", "portal")}
    slow_host = rows[("slow.gov.cn.test", "portal")]
    assert (slow_host["crawl_delay_s"], slow_host["crawl_delay_asked_s"], slow_host["crawl_delay_capped"]) == (30.0, 120.0, True)
    assert rows[("polite.gov.cn.test", "portal")]["crawl_delay_capped"] is False
    busy = rows[("busy.gov.cn.test", "portal")]
    assert (busy["backoffs"], busy["backoff_max_s"], busy["retry_after_asked_s"], busy["blocked"]) == (3, 8.0, 3600, 0)
    wall = rows[("wall.gov.cn.test", "portal")]
    assert (wall["blocked"], wall["browser_retries"], wall["browser_retries_refused"]) == (5, 2, 1)
    assert rows[("wall.gov.cn.test", "mailbox")]["blocked"] == 4
    assert [r["host"] for r in rep["politeness"][:2]] == ["wall.gov.cn.test"] * 2   # most blocked first

    paths = write_report(rep, tmp_path / "reports")
    assert json.loads(paths["json"].read_text(encoding="utf-8"))["politeness"] == rep["politeness"]
    text = paths["markdown"].read_text(encoding="utf-8")
    section = text.split("## Politeness and blocking per host", 1)[1]
    table = [line for line in section.splitlines() if line.startswith("| ")]
    assert len(table) == 1 + 6
    slow_line = next(line for line in table if "slow.gov.cn.test" in line)
    assert "| 30 s | 120 s |" in slow_line
    wall_line = next(line for line in table if "wall.gov.cn.test" in line and "portal" in line)
    assert wall_line.endswith("| 5 | 2 | 1 |")
    assert "<b>" not in section and "x\\|&lt;b&gt;evil&lt;/b&gt;.test" in section


def test_report_without_politeness_data_says_so(tmp_path):
    from sgi.nightly import build_report, render_markdown

    url = _db_with_run(tmp_path, 3)
    rep = build_report(url, "run3")
    assert rep["politeness"] == []
    assert "no Crawl-delay, backoff, blocked response or browser retry recorded" in render_markdown(rep)


# --- health.yaml ------------------------------------------------------------------------------------

def write(tmp_path, text) -> Path:
    path = tmp_path / "health.yaml"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize("text,line,words", [
    ("checks:\n  - check: coverage_drop\n    max_drop: 0.2\n  - check: nonsense\n", 4, "unknown check 'nonsense'"),
    ("checks:\n  - check: items_halved\n    ratio: 2\n", 3, "ratio must be"),
    ("checks:\n  - check: items_halved\n    tables: [message, tweets]\n", 3, "unknown tables value 'tweets'"),
    ("checks:\n  - check: city_fully_blocked\n    statuses: [blocked]\n    treshold: 3\n", 4, "unknown field 'treshold'"),
    ("checks:\n  - check: zero_observations\n  - check: zero_observations\n", 3, "duplicate check name"),
    ("checks:\n  - check: coverage_drop\n    max_drop: [0.2\n", 4, "YAML syntax error"),
    ("checks:\n  - check: coverage_drop\n    enabled: maybe\n", 3, "enabled must be true or false"),
])
def test_health_file_errors_name_file_and_line(tmp_path, text, line, words):
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as exc:
        load_checks(path)
    assert exc.value.message.startswith(f"{path}:{line}:"), exc.value.message
    assert words in exc.value.message


def test_health_file_defaults_and_disabled_checks(tmp_path):
    checks = load_checks(write(tmp_path, "checks:\n  - check: items_halved\n    ratio: 0.25\n"
                                         "  - check: zero_observations\n    enabled: false\n"))
    assert [(c.kind, c.params["ratio"], c.params["min_previous"]) for c in checks] == [("items_halved", 0.25, 2)]
    assert {c.kind for c in load_checks()} >= {"coverage_drop", "city_fully_blocked", "items_halved"}


def test_invalid_health_file_stops_before_crawling(tmp_path):
    path = write(tmp_path, "checks:\n  - check: coverage_drop\n    max_drop: lots\n")
    db = tmp_path / "x.db"
    proc = sgi("nightly", "--db", f"sqlite:///{db}", "--health", str(path), "--report-dir", str(tmp_path / "r"))
    assert proc.returncode == 2
    assert f"{path}:3:" in proc.stderr.replace("\n", "")
    assert not (tmp_path / "r").exists()


# --- WARC retention ---------------------------------------------------------------------------------

@slow
def test_prune_on_crawled_runs_keeps_every_cited_file(nightly):
    con, warc = nightly["con"], nightly["db"].parent / "warc"
    before = {p.name for p in warc.iterdir()}
    dry = sgi("archive", "prune", "--db", nightly["url"], "--keep-runs", "1", "--min-age-hours", "0", "--dry-run")
    assert dry.returncode == 0, dry.stderr
    assert {p.name for p in warc.iterdir()} == before
    proc = sgi("archive", "prune", "--db", nightly["url"], "--keep-runs", "1", "--min-age-hours", "0")
    assert proc.returncode == 0, proc.stderr
    after = {p.name for p in warc.iterdir()}
    # every file the exported (latest) observations cite, and every file of the last run, is still there
    latest = con.execute(
        "SELECT s.warc_file FROM observation o JOIN snapshot s ON s.id = o.snapshot_id WHERE o.run_id = "
        "(SELECT MAX(o2.run_id) FROM observation o2 WHERE o2.city_code = o.city_code AND o2.indicator = o.indicator "
        "AND o2.period = o.period) AND s.warc_file IS NOT NULL").fetchall()
    last_run = con.execute("SELECT warc_file FROM snapshot WHERE run_id = (SELECT MAX(id) FROM crawl_run) "
                           "AND warc_file IS NOT NULL").fetchall()
    harvest = con.execute("SELECT s.warc_file FROM message m JOIN snapshot s ON s.id = m.snapshot_id "
                          "WHERE s.warc_file IS NOT NULL").fetchall()
    needed = {r[0] for r in latest + last_run + harvest}
    assert needed and needed <= after
    assert after < before, "older runs' uncited files go"
    assert f"would delete {warc}" in dry.stdout.replace("\n", "")


def _db_with_run(tmp_path, rid: int) -> str:
    """A migrated SQLite database holding one finished crawl_run (id ``rid``, key 'run<rid>'); its URL."""
    from storage import db

    url = f"sqlite:///{tmp_path / 'n.db'}"
    db.ensure_schema(url)
    db.dispose_all()
    con = sqlite3.connect(tmp_path / "n.db")
    _insert_run(con, rid)
    con.commit()
    con.close()
    return url


def _insert_run(con, rid, state="finished"):
    con.execute("INSERT INTO crawl_run (id, run_key, started_at, who, command, spiders, cities, as_of, sample_web, "
                "requests, responses_by_status, items, errors, state, settings) VALUES "
                "(?, ?, '2026-01-01', '', '', '[]', '[]', '2026-01-01', 0, 0, '{}', 0, 0, ?, '{}')",
                (rid, f"run{rid}", state))


def _insert_snapshot(con, sid, rid, warc_file, reused_from=None):
    con.execute("INSERT INTO snapshot (id, run_id, city_code, spider, requested_url, final_url, fetch_status, "
                "fetched_at, rendered, warc_file, warc_offset, warc_length, reused_from) VALUES "
                "(?, ?, '620100', 'portal', 'http://x.test/', 'http://x.test/', 'ok', '2026-01-01', 0, ?, 0, 1, ?)",
                (sid, rid, warc_file, reused_from))


def _insert_obs(con, rid, indicator, snap, evidence=()):
    con.execute("INSERT INTO observation (run_id, city_code, indicator, period, status, rule, rule_version, "
                "snapshot_id, evidence_snapshots, observed_at) VALUES (?, '620100', ?, '2026', 'ok', '', '', ?, ?, "
                "'2026-01-01')", (rid, indicator, snap, json.dumps(list(evidence))))


def test_prune_keeps_cited_files_and_deletes_only_unreferenced_old_ones(tmp_path):
    from sgi.cities import load_cities
    from storage import db
    from storage.store import sync_cities

    path = tmp_path / "p.db"
    url = f"sqlite:///{path}"
    db.ensure_schema(url)
    sync_cities(url, load_cities())
    db.dispose_all()
    con = sqlite3.connect(path)
    for rid in range(1, 6):
        _insert_run(con, rid)
    _insert_snapshot(con, "s1-cited", 1, "f1-cited.warc.gz")            # latest value of indicator A
    _insert_snapshot(con, "s1-old", 1, "f1-old.warc.gz")                # superseded by run 3
    _insert_snapshot(con, "s1-evidence", 1, "f1-evidence.warc.gz")      # in evidence_snapshots of a latest value
    _insert_snapshot(con, "s2-origin", 2, "f2-origin.warc.gz")          # body reused by run 5
    _insert_snapshot(con, "s2-message", 2, "f2-message.warc.gz")        # a message's evidence
    _insert_snapshot(con, "s3", 3, "f3.warc.gz")                        # latest value of indicator B
    _insert_snapshot(con, "s3-plain", 3, "f3-plain.warc.gz")            # cited by nothing
    _insert_snapshot(con, "s4", 4, "f4.warc.gz")
    _insert_snapshot(con, "s5-reused", 5, "f5.warc.gz", reused_from="s2-origin")
    _insert_snapshot(con, "s2-replay", 2, "f2-replay.warc.gz")          # what the next incremental crawl replays
    _insert_obs(con, 1, "site_search", "s1-cited", ["s1-evidence"])
    _insert_obs(con, 1, "site_map", "s1-old")
    _insert_obs(con, 3, "site_map", "s3")
    con.execute("INSERT INTO message (city_code, board, message_id, snapshot_id) VALUES ('620100', 'b', 'm1', "
                "'s2-message')")
    con.execute("INSERT INTO url_state (spider, url_key, last_snapshot_id) VALUES ('portal', 'k', 's2-replay')")
    con.commit()
    con.close()
    warc = tmp_path / "warc"
    warc.mkdir()
    names = ["f1-cited", "f1-old", "f1-evidence", "f2-origin", "f2-message", "f2-replay", "f3", "f3-plain", "f4", "f5",
             "orphan"]
    old = time.time() - 3 * 86400
    for name in names:
        (warc / f"{name}.warc.gz").write_bytes(b"x")
        os.utime(warc / f"{name}.warc.gz", (old, old))

    def files():
        return {p.name.removesuffix(".warc.gz") for p in warc.iterdir()}

    args = ["archive", "prune", "--db", url, "--archive-dir", str(warc), "--keep-runs", "2"]
    dry = sgi(*args, "--dry-run")
    assert dry.returncode == 0, dry.stderr
    assert files() == set(names)
    would = {line.split("/")[-1].removesuffix(".warc.gz") for line in dry.stdout.splitlines()
             if line.startswith("would delete ")}
    assert would == {"f1-old", "f3-plain"}
    # a recently written unreferenced file is never deleted
    os.utime(warc / "f3-plain.warc.gz", None)
    proc = sgi(*args)
    assert proc.returncode == 0, proc.stderr
    assert files() == set(names) - {"f1-old"}
    proc = sgi(*args, "--min-age-hours", "0", "--include-orphans")
    assert proc.returncode == 0, proc.stderr
    assert files() == set(names) - {"f1-old", "f3-plain", "orphan"}
