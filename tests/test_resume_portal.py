"""The portal spider after a resume and on a same-day rerun (issue 23, D4 and D5).

D5: a crawl killed right after the browser passed Wuhan's JavaScript challenge (420100) and resumed
reports what an uninterrupted crawl reports. Before, the resumed run read the rendered home page back
from its journal, no browser ran, the challenge cookies were gone and the article pages came back 412:
page_meta_tags_share (and site_map) turned blocked.

D4: homepage_load_ms is the time of a real fetch and cites the snapshot of that fetch: after a resume
the journalled fetch's time, on a same-day rerun (the page not due, read from the archive) the time
of the fetch that got the body. Before, it was the time to read the archive back (0.2-2 ms), citing
a 'reused' snapshot or a journalled one whose recorded time it did not match.

The sample web runs in this process; each crawl runs in its own process (one reactor per process).
"""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
from datetime import date

import pytest

pytestmark = [pytest.mark.slow, pytest.mark.browser]

CHALLENGE = "420100"      # 武汉: JS cookie challenge, every page needs the browser's cookie
PLAIN = "620100"          # 兰州: a plain portal
CITIES = f"{CHALLENGE},{PLAIN}"
DAY = date(2026, 6, 30)


def _crawl(ctx, db: str, key: str, *flags) -> None:
    proc = subprocess.run([sys.executable, "-m", "tests.crawl_once", str(ctx["settings"]), f"sqlite:///{ctx['tmp'] / db}",
                           key, DAY.isoformat(), CITIES, "--spiders=portal", *flags],
                          capture_output=True, text=True, timeout=300, env=ctx["env"])
    assert proc.returncode == 0, proc.stderr[-4000:]


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    from sgi.sampleweb.runner import serve_sample_web

    tmp = tmp_path_factory.mktemp("resume-portal")
    with serve_sample_web(tmp / "web") as running:
        settings = tmp / "settings.json"
        settings.write_text(json.dumps(running.crawl_settings()))
        ctx = {"tmp": tmp, "settings": settings, "env": {**os.environ, "SGI_ARCHIVE_DIR": str(tmp / "warc")}}
        _crawl(ctx, "ref.db", "ref")
        killed = subprocess.Popen([sys.executable, "-m", "tests.kill_after_render", str(settings),
                                   f"sqlite:///{tmp / 'killed.db'}", "killed", DAY.isoformat(), CITIES, "portal",
                                   CHALLENGE], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=ctx["env"],
                                  start_new_session=True)
        _out, err = killed.communicate(timeout=300)
        try:
            os.killpg(killed.pid, signal.SIGKILL)    # the browser it started, if still there
        except ProcessLookupError:
            pass
        assert killed.returncode == -signal.SIGKILL, err[-3000:]
        con = sqlite3.connect(tmp / "killed.db")
        before_resume = con.execute("SELECT city_code, rendered, http_status FROM snapshot").fetchall()
        con.close()
        _crawl(ctx, "killed.db", "killed", "--resume")
        _crawl(ctx, "ref.db", "again")          # the same day again: pages not due come from the archive
    return {"tmp": tmp, "before_resume": before_resume}


def observations(db, run_key: str) -> dict:
    con = sqlite3.connect(db)
    rows = con.execute("SELECT o.city_code, o.indicator, o.value_num, o.value_text, o.status FROM observation o "
                       "JOIN crawl_run r ON r.id = o.run_id WHERE r.run_key = ? AND o.indicator != 'homepage_load_ms'",
                       (run_key,)).fetchall()
    con.close()
    return {(c, i): (vn, vt, st) for c, i, vn, vt, st in rows}


def load_times(db, run_key: str) -> dict:
    """city -> (value, cited snapshot: fetch_status, elapsed_ms, reused_from, run key)"""
    con = sqlite3.connect(db)
    rows = con.execute(
        "SELECT o.city_code, o.value_num, s.fetch_status, s.elapsed_ms, s.reused_from, sr.run_key FROM observation o "
        "JOIN crawl_run r ON r.id = o.run_id LEFT JOIN snapshot s ON s.id = o.snapshot_id "
        "LEFT JOIN crawl_run sr ON sr.id = s.run_id WHERE r.run_key = ? AND o.indicator = 'homepage_load_ms'",
        (run_key,)).fetchall()
    con.close()
    return {c: rest for c, *rest in rows}


def test_the_kill_came_after_the_render_and_before_the_articles(runs):
    rows = runs["before_resume"]
    assert (CHALLENGE, 1, 200) in rows                       # the browser got through
    assert sum(c == CHALLENGE for c, _r, _s in rows) == 2    # the plain 412 and the render: nothing else
    assert any(c == PLAIN for c, _r, _s in rows)             # the plain portal's home is journalled


def test_a_resumed_crawl_keeps_the_challenge_cookies(runs):
    ref, resumed = observations(runs["tmp"] / "ref.db", "ref"), observations(runs["tmp"] / "killed.db", "killed")
    assert ref[(CHALLENGE, "page_meta_tags_share")][2] == "ok"
    assert not [k for k, v in resumed.items() if v[2] == "blocked"]
    assert resumed == ref


def test_a_same_day_rerun_keeps_the_challenge_cookies(runs):
    ref, again = observations(runs["tmp"] / "ref.db", "ref"), observations(runs["tmp"] / "ref.db", "again")
    assert again == ref


@pytest.mark.parametrize("db, run_key", [("killed.db", "killed"), ("ref.db", "again"), ("ref.db", "ref")])
def test_the_load_time_is_that_of_the_fetch_it_cites(runs, db, run_key):
    times = load_times(runs["tmp"] / db, run_key)
    assert set(times) == {CHALLENGE, PLAIN}
    for city, (value, fetch_status, elapsed_ms, reused_from, cited_run) in times.items():
        assert fetch_status == "ok" and reused_from is None, (city, fetch_status)    # a real fetch ...
        assert value == round(elapsed_ms, 1), (city, value, elapsed_ms)               # ... and its time
    if run_key == "again":
        # the plain home page was not due: its time is the earlier run's fetch, cited as such
        assert times[PLAIN][4] == "ref"
