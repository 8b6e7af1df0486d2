"""A store that refuses or fails gives blocked / error, never absent or a smaller sum (one crawl of the
apps spider, in a subprocess, with faults injected into the sample web)."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import textwrap

import pytest

pytestmark = [pytest.mark.slow, pytest.mark.browser]

SCRIPT = textwrap.dedent("""
    import sys
    from pathlib import Path
    from sgi.crawl import run_crawl
    from sgi.sampleweb.model import Fault
    from sgi.sampleweb.runner import serve_sample_web
    out = Path(sys.argv[1])
    with serve_sample_web(out / "sw") as running:
        running.server.inject("sj.qq.com.test", None, Fault(status=403))                  # every 应用宝 page
        running.server.inject("itunes.apple.com.test", "/lookup?id=1326455891&country=cn", Fault(status=503))
        # the single-page store's data call fails once: the first render stays an empty shell
        running.server.inject("appgallery.huawei.com.test", "/webedge/appinfo/com.pingan.smt.json",
                              Fault(status=500, times=1))
        run_crawl(db_url=f"sqlite:///{out / 'f.db'}", spiders=["apps"], cities=["440300", "420100", "510100"],
                  run_key="faults", as_of=running.web.reference_date, extra_settings=running.crawl_settings(),
                  command="test", quiet=True)
""")


@pytest.fixture(scope="module")
def faulty(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("apps-faults")
    proc = subprocess.run([sys.executable, "-c", SCRIPT, str(tmp)], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-4000:]
    con = sqlite3.connect(tmp / "f.db")
    con.row_factory = sqlite3.Row
    obs = {(r["city_code"], r["indicator"]): dict(r) for r in con.execute("SELECT * FROM observation")}
    rows = {(r["store"], r["app_id"]): dict(r) for r in con.execute("SELECT * FROM app_snapshot")}
    con.close()
    return obs, rows


AGGREGATES = ("app_rating_mean", "app_rating_count_total", "app_downloads_total", "app_downloads_per_10k",
              "app_days_since_update")


def test_blocked_store(faulty):
    obs, rows = faulty
    # 深圳: i深圳 is on the App Store, so the count is known; every sum misses the blocked store
    assert (obs[("440300", "app_count")]["status"], obs[("440300", "app_count")]["value_num"]) == ("ok", 2.0)
    for code in AGGREGATES:
        o = obs[("440300", code)]
        assert o["status"] == "blocked" and o["value_num"] is None, o
    # 武汉: the removed app is absent from the App Store but its 应用宝 page could not be read
    assert obs[("420100", "app_count")]["status"] == "blocked"
    assert rows[("yyb", "com.pingan.smt")]["status"] == "blocked"
    assert rows[("apple", "1045678123")]["status"] == "absent"


def test_failed_api_answer(faulty):
    obs, rows = faulty
    assert (obs[("510100", "app_count")]["status"], obs[("510100", "app_count")]["value_num"]) == ("ok", 1.0)
    for code in AGGREGATES:
        assert obs[("510100", code)]["status"] == "error" and obs[("510100", code)]["value_num"] is None
    assert rows[("apple", "1326455891")]["status"] == "error" and rows[("apple", "1326455891")]["rating"] is None
    assert rows[("huawei", "com.chengdu.tfsmy")]["status"] == "ok"


def test_a_render_that_stays_a_shell_is_tried_again(faulty):
    obs, rows = faulty
    row = rows[("huawei", "com.pingan.smt")]
    assert row["status"] == "ok" and row["rating"] == 4.6 and row["downloads"] == 34_560_000
