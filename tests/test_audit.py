"""`sgi audit` end to end on one sample city, read back in headless Chromium with the network cut off.

The audit runs twice through real processes (one Scrapy reactor each): first plainly through the CLI,
then (tests/audit_again.py) with the city's open-data platform refusing us, after an auditor has
overridden one value. Expectations come from the indicator registry, the database rows and the WARC
records read by storage code, never from the report itself.
"""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import urllib.request
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest
from bs4 import BeautifulSoup

from sgi.indicators import registry
from sgi.sampleweb.policy import XSS_PROBE
from storage.warc import read_record

pytestmark = [pytest.mark.slow, pytest.mark.browser]

CITY = "440300"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
OVERRIDDEN = "site_search"
# Indicators the crawl reports: every registry indicator except imported yearbook figures.
CRAWLED = {code for code, ind in registry().items() if ind.source != "import"}


def _run(args: list[str], env: dict) -> subprocess.CompletedProcess:
    proc = subprocess.run([sys.executable, "-m", *args], capture_output=True, text=True, timeout=300, env=env)
    assert proc.returncode == 0, f"{args} failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-5000:]}"
    return proc


@pytest.fixture(scope="module")
def audits(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("audit")
    url = f"sqlite:///{tmp / 'audit.db'}"
    env = {**os.environ, "SGI_ARCHIVE_DIR": str(tmp / "warc")}
    first = _run(["sgi", "audit", CITY, "--sample-web", "-o", str(tmp / "report.html"), "--db", url], env)
    # Between the audits an auditor corrects one value; the second audit finds open data refused.
    from storage.db import dispose_all
    from storage.overrides import add_override

    add_override(url, CITY, OVERRIDDEN, "no", reason="the search box returns nothing", by="auditor-test")
    dispose_all()
    _run(["tests.audit_again", url, str(tmp / "again.html")], env)
    con = sqlite3.connect(tmp / "audit.db")
    con.row_factory = sqlite3.Row
    runs = [dict(r) for r in con.execute("SELECT id, run_key FROM crawl_run ORDER BY id")]
    con.close()
    assert len(runs) == 2 and all(r["run_key"].startswith(f"audit-{CITY}-") for r in runs), runs
    return {"tmp": tmp, "url": url, "db": tmp / "audit.db", "warc": tmp / "warc", "runs": runs,
            "stdout": first.stdout}


def db_rows(audits, run_index: int, sql: str, *params) -> list[dict]:
    con = sqlite3.connect(audits["db"])
    con.row_factory = sqlite3.Row
    rows = [dict(r) for r in con.execute(sql, (audits["runs"][run_index]["id"], *params))]
    con.close()
    return rows


def observations(audits, run_index: int) -> dict[tuple, dict]:
    rows = db_rows(audits, run_index, "SELECT * FROM observation WHERE run_id = ? AND city_code = ?", CITY)
    return {(r["indicator"], r["period"]): r for r in rows}


@pytest.fixture(scope="module")
def chromium():
    from playwright.sync_api import sync_playwright

    from spiders.browser import launch_options

    with sync_playwright() as p:
        browser = p.chromium.launch(**launch_options(False))
        yield browser
        browser.close()


@pytest.fixture
def offline_page(chromium):
    """A page that can read local files only: every other request is aborted and remembered."""
    context = chromium.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    page.sgi_outside, page.sgi_errors = [], []

    def route(r):
        if r.request.url.startswith(("file:", "data:")):
            r.continue_()
        else:
            page.sgi_outside.append(r.request.url)
            r.abort()

    page.route("**/*", route)
    page.on("console", lambda m: page.sgi_errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: page.sgi_errors.append(str(e)))
    yield page
    context.close()


def report_rows(page) -> list[dict]:
    return page.eval_on_selector_all(
        "#indicator-table tr.indicator",
        "els => els.map(e => ({indicator: e.dataset.indicator, period: e.dataset.period, status: e.dataset.status,"
        " machine: e.dataset.machineStatus, text: e.innerText}))")


def test_every_indicator_of_the_spiders_has_a_row_with_the_database_status(audits, offline_page):
    offline_page.goto((audits["tmp"] / "report.html").as_uri())
    rows = report_rows(offline_page)
    assert {r["indicator"] for r in rows} == CRAWLED
    db = observations(audits, 0)
    shown = {(r["indicator"], r["period"]): r for r in rows}
    for key, obs in db.items():
        assert key in shown, f"observation {key} has no row"
        assert shown[key]["status"] == obs["status"], (key, shown[key]["status"], obs["status"])
    observed_codes = {code for code, _ in db}
    for key, row in shown.items():
        if key not in db:   # a row without an observation can only be an indicator the run never reported
            assert row["status"] == "missing" and row["indicator"] not in observed_codes, row
    assert offline_page.sgi_outside == [] and offline_page.sgi_errors == []


def test_evidence_link_opens_the_archived_page_offline(audits, offline_page):
    offline_page.goto((audits["tmp"] / "report.html").as_uri())
    link = offline_page.locator("tr[data-indicator='work_report_env_term_freq'] a.evidence-link").first
    snapshot_id = link.get_attribute("data-snapshot")
    (snap,) = db_rows(audits, 0, "SELECT * FROM snapshot WHERE run_id = ? AND id = ?", snapshot_id)
    archived = read_record(audits["warc"], snap["warc_file"], snap["warc_offset"])
    link.click()
    offline_page.wait_for_load_state("load")
    assert offline_page.url.endswith(f"/{snapshot_id}.html")
    assert offline_page.inner_text("#warc-file").strip() == snap["warc_file"]
    assert offline_page.inner_text("#digest").strip() == snap["digest"]
    frame = next(f for f in offline_page.frames if f != offline_page.main_frame)
    body_file = offline_page.url.rsplit("/", 1)[0] + "/" + offline_page.get_attribute("#body-file", "href")
    shown_file = Path(unquote(urlsplit(body_file).path))
    assert shown_file.read_bytes() == archived.body          # the bytes of the WARC record, unchanged
    assert shown_file.name.endswith(".html.txt")             # opened from disk, shown as text: never run
    heading = BeautifulSoup(archived.body, "lxml").h1.get_text(strip=True)
    assert heading in frame.inner_text("body").replace("\n", "")
    assert offline_page.sgi_outside == [] and offline_page.sgi_errors == []


def test_the_evidence_folder_holds_no_letter_and_no_personal_data(audits):
    """Issue 23 D20: letters' raw pages stay in the WARC archive; the folder shows what the database keeps."""
    from collectors.mailbox import find_pii

    folder = audits["tmp"] / "report_evidence"
    letters = {r["id"]: r for r in db_rows(audits, 0, "SELECT * FROM snapshot WHERE run_id = ? AND spider = 'mailbox'")}
    viewers = {p.name.split(".")[0] for p in folder.glob("*.html") if ".body." not in p.name}
    cited = letters.keys() & viewers
    personal = set()      # phone numbers, e-mail addresses, ID numbers on the cited letters' raw pages
    for snap_id in cited:
        if letters[snap_id]["warc_file"]:
            body = read_record(audits["warc"], letters[snap_id]["warc_file"], letters[snap_id]["warc_offset"]).body
            personal |= {hit for _, hit in find_pii(body.decode("utf-8", "replace"))}
    assert cited and personal, "the audit should cite letter pages with personal data (else this proves nothing)"
    for path in folder.iterdir():
        assert not (path.name.split(".")[0] in letters and ".body." in path.name), path.name
        text = path.read_bytes().decode("utf-8", "replace")
        assert not [p for p in personal if p in text], path.name


def test_crawled_markup_is_shown_as_text_and_never_runs(audits, offline_page):
    for page_path in (audits["tmp"] / "report.html", audits["tmp"] / "again.html"):
        offline_page.goto(page_path.as_uri())
        assert XSS_PROBE in offline_page.inner_text("#indicator-table"), "the probe title should reach the report"
        assert offline_page.evaluate("() => window.__xss") is None
        assert offline_page.locator("script").count() == 0
        assert offline_page.locator("img[src='x']").count() == 0
    offline_page.locator("tr[data-indicator='work_report_env_term_freq'] a.evidence-link").first.click()
    offline_page.wait_for_load_state("load")
    assert XSS_PROBE in offline_page.inner_text("#page-title")
    assert offline_page.evaluate("() => window.__xss") is None
    assert offline_page.sgi_errors == []


def test_report_screenshot_and_the_archived_portal_screenshot(audits, offline_page):
    offline_page.goto((audits["tmp"] / "report.html").as_uri())
    shot = audits["tmp"] / "report.png"
    offline_page.screenshot(path=str(shot), full_page=True)
    data = shot.read_bytes()
    assert data.startswith(PNG_SIGNATURE) and len(data) > 10_000
    (snap,) = db_rows(audits, 0, "SELECT * FROM snapshot WHERE run_id = ? AND spider = 'audit' AND city_code = ?", CITY)
    assert snap["fetch_status"] == "ok" and snap["content_type"] == "image/png" and snap["warc_file"]
    record = read_record(audits["warc"], snap["warc_file"], snap["warc_offset"])
    assert record.body.startswith(PNG_SIGNATURE) and record.url.startswith("urn:screenshot:https://www.sz.gov.cn.test")
    width = offline_page.eval_on_selector("#portal-screenshot", "img => img.naturalWidth")
    assert width == 1280


def test_second_audit_lists_what_changed_and_shows_the_override(audits, offline_page):
    before, after = observations(audits, 0), observations(audits, 1)
    changed = {k[0] for k in set(before) | set(after)
               if k not in before or k not in after
               or (before[k]["value_num"], before[k]["value_text"], before[k]["status"])
               != (after[k]["value_num"], after[k]["value_text"], after[k]["status"])}
    assert after[("opendata_datasets", next(p for c, p in after if c == "opendata_datasets"))]["status"] == "blocked"
    offline_page.goto((audits["tmp"] / "again.html").as_uri())
    assert offline_page.inner_text("#previous-run").strip() == audits["runs"][0]["run_key"]
    listed = offline_page.eval_on_selector_all(
        "#changes-table tr.change", "els => els.map(e => [e.dataset.indicator, e.dataset.oldStatus, e.dataset.newStatus])")
    assert {c for c, _, _ in listed} == changed
    assert ["opendata_datasets", "ok", "blocked"] in listed
    rows = {r["indicator"]: r for r in report_rows(offline_page)}
    assert rows["opendata_datasets"]["status"] == "blocked"
    # blocked is shown differently from absent
    colours = offline_page.evaluate(
        "() => ['blocked', 'absent'].map(s => getComputedStyle(document.querySelector("
        "'.legend .badge.status-' + s)).backgroundColor)")
    assert colours[0] != colours[1]
    fixed = rows[OVERRIDDEN]
    machine = next(o for (c, _), o in after.items() if c == OVERRIDDEN)
    assert fixed["machine"] == machine["status"] == "ok" and fixed["status"] == "absent"
    assert "the search box returns nothing" in fixed["text"] and "auditor-test" in fixed["text"]


def test_report_shows_the_city_score_and_rank(audits, offline_page):
    from scoring.run import score_database

    scores = score_database(audits["url"], framework="sgi-default", write_db=False).scores
    total = scores[(scores["city_code"] == CITY) & (scores["node"] == "total") & scores["value"].notna()]
    latest = total.sort_values("period").iloc[-1]
    offline_page.goto((audits["tmp"] / "again.html").as_uri())
    card = offline_page.inner_text("#score-total")
    assert f"{latest['value']:.1f}" in card and "rank 1 of 1" in card   # the only city in the database
    for node in ("capability", "effect", "institution"):
        assert offline_page.locator(f"#score-{node}").count() == 1


def test_sgi_evidence_extracts_and_serves_the_archived_body(audits, tmp_path):
    from storage.evidence import evidence_server, load_evidence, serve_in_thread
    from sgi.errors import SgiError

    (snap,) = db_rows(audits, 0, "SELECT s.* FROM observation o JOIN snapshot s ON s.id = o.snapshot_id "
                                 "WHERE o.run_id = ? AND o.indicator = 'portal_reachable'")
    archived = read_record(audits["warc"], snap["warc_file"], snap["warc_offset"])
    env = {**os.environ, "SGI_ARCHIVE_DIR": str(audits["warc"])}
    _run(["sgi", "evidence", snap["id"][:10], "-o", str(tmp_path / "home.html"), "--db", audits["url"]], env)
    assert (tmp_path / "home.html").read_bytes() == archived.body

    evidence = load_evidence(audits["url"], snap["id"], archive_dir=audits["warc"])
    server = evidence_server(evidence)
    serve_in_thread(server)
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{server.server_address[1]}/", timeout=10) as answer:
            assert answer.read() == archived.body
            assert answer.headers["Content-Security-Policy"].startswith("sandbox")
    finally:
        server.shutdown()
        server.server_close()
    with pytest.raises(SgiError):
        evidence_server(evidence, host="0.0.0.0")
