"""The audit's evidence folder (sgi/report/audit.py, issue 23 D20/D21), opened from disk in headless Chromium:
no archived script runs, whatever link is clicked, and no letter's raw page or personal data is copied there."""

from __future__ import annotations

import sqlite3
from datetime import datetime, timezone
from pathlib import Path

import pytest

from collectors.mailbox import find_pii
from sgi.report.audit import environment, letter_messages, load_snapshots, write_evidence_page
from storage import db
from storage.store import CrawlStore, start_run, sync_cities
from sgi.cities import lookup

pytestmark = [pytest.mark.browser]

LIVE_HTML = ("<html><head><meta charset='utf-8'><title>首页</title></head><body><h1>深圳市人民政府</h1>"
             "<a href='/x.html'>网站地图</a><script>alert('live-body-script')</script>"
             "<img src=x onerror=\"alert('live-img')\"></body></html>").encode()
LIVE_XML = (b"<?xml version='1.0'?><html xmlns='http://www.w3.org/1999/xhtml'><body>"
            b"<script>alert('live-xml')</script></body></html>")
PHONE, EMAIL = "19738445813", "someone@example.com"
LETTER = (f"<html><head><meta charset='utf-8'><title>关于占道经营的问题（联系电话{PHONE}）</title></head><body>"
          f"<div>来信内容：我家门口有人占道经营，请联系 {EMAIL}，身份证号 110101199003071234。</div>"
          "<script>alert('live-letter')</script></body></html>").encode()


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("evidence")
    url = f"sqlite:///{tmp / 'e.db'}"
    sync_cities(url, [lookup("440300")])
    run_id = start_run(url, "ev", as_of="2026-06-30")
    store = CrawlStore(url, run_id, archive_dir=tmp / "warc")
    refs = {}
    for name, spider, page_url, body, ctype in (
            ("home", "portal", "http://www.sz.gov.cn.test/", LIVE_HTML, "text/html; charset=utf-8"),
            ("xml", "portal", "http://www.sz.gov.cn.test/sitemap.xml", LIVE_XML, "application/xml"),
            ("letter", "mailbox", "http://www.sz.gov.cn.test/hdjl/detail?id=7", LETTER, "text/html; charset=utf-8")):
        refs[name] = store.record_response(
            city_code="440300", spider=spider, requested_url=page_url, final_url=page_url, http_status=200,
            reason="OK", headers=[("Content-Type", ctype)], body=body, fetched_at=datetime.now(timezone.utc),
            elapsed_ms=5.0, fetch_status="ok", content_type=ctype, encoding="utf-8", rendered=False).id
    store.close()
    con = sqlite3.connect(tmp / "e.db")      # what the mailbox pipeline stores from the letter: scrubbed
    con.execute("INSERT INTO message (city_code, board, message_id, title, status, submitted_date, snapshot_id) "
                "VALUES ('440300', 'szmail', '7', '关于占道经营的问题（联系电话[电话]）', 'replied', '2026-06-01', ?)",
                (refs["letter"],))
    con.commit()
    con.close()
    snapshots = load_snapshots(url, list(refs.values()))
    for snap_id, messages in letter_messages(url, [refs["letter"]]).items():
        snapshots[snap_id]["letter_messages"] = messages
    ev_dir = tmp / "report_evidence"
    ev_dir.mkdir()
    env = environment()
    for snap_id, row in snapshots.items():
        write_evidence_page(env, row, ev_dir, tmp / "warc", back="../report.html")
    db.dispose_all()
    return {"dir": ev_dir, "refs": refs}


@pytest.fixture(scope="module")
def chromium():
    from playwright.sync_api import sync_playwright

    from spiders.browser import launch_options

    with sync_playwright() as p:
        browser = p.chromium.launch(**launch_options(False))
        yield browser
        browser.close()


def _open(chromium, path: Path):
    page = chromium.new_page()
    page.sgi_dialogs = []
    page.on("dialog", lambda d: (page.sgi_dialogs.append(d.message), d.dismiss()))
    page.goto(path.as_uri())
    page.wait_for_timeout(300)
    return page


@pytest.mark.parametrize("name", ["home", "xml"])
def test_the_raw_body_link_never_runs_the_archived_page(folder, chromium, name):
    viewer = folder["dir"] / f"{folder['refs'][name]}.html"
    page = _open(chromium, viewer)
    try:
        assert page.sgi_dialogs == []                        # the sandboxed frame runs nothing
        link = page.locator("#body-file")
        raw = folder["dir"] / link.get_attribute("href")
        assert raw.read_bytes() == (LIVE_HTML if name == "home" else LIVE_XML)   # byte for byte
        link.click()
        page.wait_for_timeout(1500)
        assert page.sgi_dialogs == []                        # D21: Chromium ran 'live-body-script' here
        if page.url.startswith("file:"):                     # opened (as text), not downloaded
            assert page.evaluate("() => document.contentType") == "text/plain"
    finally:
        page.close()


def test_the_viewer_still_shows_the_archived_page_in_its_sandboxed_frame(folder, chromium):
    page = _open(chromium, folder["dir"] / f"{folder['refs']['home']}.html")
    try:
        frame = next(f for f in page.frames if f != page.main_frame)
        assert "深圳市人民政府" in frame.inner_text("body")
        assert page.get_attribute("#archived", "sandbox") == ""
        assert page.sgi_dialogs == []
    finally:
        page.close()


def test_a_letter_page_is_not_copied_and_nothing_personal_reaches_the_folder(folder, chromium):
    letter = folder["refs"]["letter"]
    files = sorted(p.name for p in folder["dir"].iterdir())
    assert [f for f in files if f.startswith(letter)] == [f"{letter}.html"]     # the viewer only, no body
    for path in folder["dir"].iterdir():
        text = path.read_bytes().decode("utf-8", "replace")
        assert not find_pii(text), (path.name, find_pii(text))
        assert "来信内容" not in text and "live-letter" not in text
    page = _open(chromium, folder["dir"] / f"{letter}.html")
    try:
        assert page.locator("#body-file").count() == 0 and page.locator("iframe").count() == 0
        assert "关于占道经营的问题（联系电话[电话]）" in page.inner_text("#letter-messages")
        assert "[电话]" in page.inner_text("#page-title")
        assert page.sgi_dialogs == []
    finally:
        page.close()
