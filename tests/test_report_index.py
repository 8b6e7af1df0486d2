"""`sgi report` on the demo database: every scored city in the ranking with its score, a page that
renders in headless Chromium without errors (Plotly graphs drawn, headers sort), and crawled or typed
text that cannot run script (XSS)."""

from __future__ import annotations

import shutil
import sqlite3
import subprocess
import sys

import pytest
from parsel import Selector

from scoring.run import score_database
from storage import db

pytestmark = pytest.mark.slow

XSS_SCRIPT = "<script>window.__xss=1</script>"
XSS_IMG = "<img src=x onerror=window.__xss=1>"


def demo_url(demo) -> str:
    return f"sqlite:///{demo['out'] / 'sgi.db'}"


@pytest.fixture(scope="module")
def report(demo, tmp_path_factory):
    """The report of the demo database, written through the real CLI."""
    path = tmp_path_factory.mktemp("report") / "report.html"
    proc = subprocess.run([sys.executable, "-m", "sgi", "report", "--db", demo_url(demo), "-o", str(path)],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return path


@pytest.fixture(scope="module")
def xss_report(demo, tmp_path_factory):
    """A copy of the demo database with script in a city name, a failed fetch's URL and error, and an
    override's reason and evidence URL; its report."""
    from sgi.report.index import build_index_report
    from storage.overrides import add_override

    work = tmp_path_factory.mktemp("xss")
    shutil.copy(demo["out"] / "sgi.db", work / "sgi.db")
    url = f"sqlite:///{work / 'sgi.db'}"
    con = sqlite3.connect(work / "sgi.db")
    with con:
        con.execute("UPDATE city SET name = ? WHERE code = '440300'", (f"深圳{XSS_SCRIPT}{XSS_IMG}",))
        con.execute("UPDATE snapshot SET final_url = ?, error = ? WHERE id = (SELECT id FROM snapshot"
                    " WHERE fetch_status = 'blocked' ORDER BY id LIMIT 1)",
                    (f"http://x.test/{XSS_IMG}", f"challenge page {XSS_SCRIPT}"))
        con.execute("UPDATE observation SET evidence_detail = ? WHERE city_code = '330100'", (XSS_SCRIPT + XSS_IMG,))
    con.close()
    oid = add_override(url, "440300", "site_search", "no", reason=f"image only {XSS_SCRIPT}{XSS_IMG}",
                       by=f"eve{XSS_IMG}", evidence_url="http://x.test/")
    with sqlite3.connect(work / "sgi.db") as con:   # add_override refuses it; a hand-edited database may hold one
        con.execute("UPDATE override SET evidence_url = ? WHERE id = ?", (f"javascript:window.__xss=1//{XSS_SCRIPT}", oid))
    con.close()
    path = build_index_report(url, work / "report.html")
    db.dispose_all()
    return {"path": path, "url": url, "override": oid}


@pytest.fixture(scope="module")
def chromium():
    from playwright.sync_api import sync_playwright

    from spiders.browser import launch_options

    with sync_playwright() as pw:
        # The sample-web options: every host name but *.test fails to resolve, so the report cannot
        # reach the network even if it tried (it must not need to).
        browser = pw.chromium.launch(**launch_options(True, None))
        yield browser
        browser.close()


def open_page(browser, path):
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    problems = []
    page.on("console", lambda msg: problems.append(f"console {msg.type}: {msg.text}")
            if msg.type in ("error", "warning") else None)
    page.on("pageerror", lambda exc: problems.append(f"page error: {exc}"))
    page.on("request", lambda req: problems.append(f"request: {req.url}")
            if not req.url.startswith(("file:", "data:", "blob:")) else None)
    page.goto(path.as_uri(), wait_until="load")
    page.wait_for_function("document.querySelectorAll('.js-plotly-plot').length >= 5", timeout=30000)
    return page, problems


def test_every_scored_city_is_in_the_ranking_with_its_scores(demo, report):
    result = score_database(demo_url(demo), write_db=False)
    scores = result.scores[result.scores["period"] == "2026"]
    total = scores[scores.node == "total"].set_index("city_code")
    capability = scores[scores.node == "capability"].set_index("city_code")["value"]
    assert total["value"].notna().sum() >= 5
    html = report.read_text(encoding="utf-8")
    assert "<script src" not in html and html.count("<script>") >= 2     # everything inline: works offline
    rows = Selector(text=html).css("#ranking-table tbody tr")
    by_city = {r.attrib["data-city"]: r for r in rows}
    assert set(by_city) == set(total.index)       # every evaluated city, the unscored one included
    for code, rec in total.iterrows():
        row = by_city[code]
        shown = row.css("td.total::text").get()
        if rec["value"] != rec["value"]:          # no score: an em dash, never 0
            assert shown == "—" and "unscored" in row.attrib.get("class", "")
            continue
        assert shown == f"{rec['value']:.2f}"
        assert float(row.css("td.total::attr(data-sort)").get()) == pytest.approx(rec["value"])
        assert row.css("td.num::text").get() == f"{rec['rank']:.0f}"
        assert row.css("td.dim-capability::text").get() == f"{capability[code]:.2f}"
    ranks = [float(r.css("td.num::attr(data-sort)").get()) for r in rows if r.css("td.num::attr(data-sort)").get()]
    assert ranks == sorted(ranks)                 # best first


@pytest.mark.browser
def test_report_renders_in_chromium_without_errors_and_sorts(report, chromium):
    page, problems = open_page(chromium, report)
    try:
        assert page.evaluate("document.querySelectorAll('.js-plotly-plot').length") >= 7
        assert page.evaluate("document.querySelectorAll('.js-plotly-plot .main-svg').length") >= 7
        assert problems == []
        # Sorting the ranking by index score: ascending, cities without a score last.
        page.click("#ranking-table th:nth-child(7)")
        totals = page.eval_on_selector_all("#ranking-table tbody td.total", "cells => cells.map(c => c.dataset.sort)")
        scored = [float(t) for t in totals if t]
        assert scored == sorted(scored) and totals[len(scored):] == [""] * (len(totals) - len(scored))
        page.click("#ranking-table th:nth-child(7)")
        totals = page.eval_on_selector_all("#ranking-table tbody td.total", "cells => cells.map(c => c.dataset.sort)")
        scored = [float(t) for t in totals if t]
        assert scored == sorted(scored, reverse=True)
        # Fetch counts sort as numbers (2 < 89 < 130), not as text ('130' < '2').
        page.click("#health-table th:nth-child(3)")
        fetches = page.eval_on_selector_all("#health-table tbody tr td:nth-child(3)",
                                            "cells => cells.map(c => Number(c.dataset.sort))")
        assert len(fetches) >= 5 and fetches == sorted(fetches)
        assert problems == []
    finally:
        page.close()


@pytest.mark.browser
def test_script_in_names_evidence_and_overrides_does_not_run(xss_report, chromium):
    html = xss_report["path"].read_text(encoding="utf-8")
    assert XSS_SCRIPT not in html and XSS_IMG not in html
    assert "&lt;script&gt;window.__xss=1&lt;/script&gt;" in html       # shown as text, escaped
    page, problems = open_page(chromium, xss_report["path"])
    try:
        page.wait_for_timeout(500)   # an onerror handler would have fired by now
        assert page.evaluate("typeof window.__xss") == "undefined"
        assert page.evaluate("document.querySelectorAll('img').length") == 0
        assert problems == []
        # The text is readable as text, in the ranking and in the override list.
        city = page.inner_text("#ranking-table tr[data-city='440300'] td.city")
        assert city == f"深圳{XSS_SCRIPT}{XSS_IMG}"
        reasons = page.inner_text("#overrides-table")
        assert f"image only {XSS_SCRIPT}{XSS_IMG}" in reasons
        # The override is in the report and counted for the city.
        assert page.inner_text("#ranking-table tr[data-city='440300'] td:last-child") == "1"
    finally:
        page.close()


def test_override_changes_the_reported_score(demo, xss_report):
    machine = score_database(demo_url(demo), write_db=False).index("2026").set_index("city_code")
    corrected = score_database(xss_report["url"], write_db=False).index("2026").set_index("city_code")
    assert corrected.loc["440300", "value"] < machine.loc["440300", "value"]
    row = Selector(text=xss_report["path"].read_text(encoding="utf-8")).css(
        "#ranking-table tr[data-city='440300'] td.total::text").get()
    assert row == f"{corrected.loc['440300', 'value']:.2f}"
