"""The item pipeline hands observations to the store; broken items are dropped and counted, never stored."""

from __future__ import annotations

from datetime import datetime, timezone
from types import SimpleNamespace

import pytest
from scrapy.exceptions import DropItem
from scrapy.statscollectors import MemoryStatsCollector
from sqlalchemy import select

from sgi.cities import lookup
from spiders.items import ObservationItem
from spiders.pipelines import ObservationPipeline
from storage import db
from storage.models import Observation
from storage.store import CrawlStore, start_run, sync_cities


@pytest.fixture()
def crawler(tmp_path):
    url = f"sqlite:///{tmp_path / 'p.db'}"
    sync_cities(url, [lookup("440300")])
    run_id = start_run(url, "pipe")
    store = CrawlStore(url, run_id, archive_dir=tmp_path / "warc")
    from scrapy.settings import Settings

    fake = SimpleNamespace(sgi_store=store, settings=Settings())
    fake.stats = MemoryStatsCollector(fake)
    yield fake
    store.close()
    db.dispose_all()


def test_observations_pass_through_to_the_database(crawler):
    store = crawler.sgi_store
    ref = store.record_response(city_code="440300", spider="portal", requested_url="http://a.test/",
                                final_url="http://a.test/", http_status=200, reason="OK", headers=[],
                                body=b"<html></html>", fetched_at=datetime.now(timezone.utc), elapsed_ms=1,
                                fetch_status="ok", content_type="text/html", encoding="utf-8", rendered=False)
    pipe = ObservationPipeline(crawler)
    item = ObservationItem(city_code="440300", indicator="site_search", period="2026-06-30", status="ok",
                           value=True, rule="portal.site_search", rule_version="1", snapshot_id=ref.id,
                           evidence_url=ref.url, evidence_detail="<form>")
    assert pipe.process_item(item) is item
    blocked = ObservationItem(city_code="440300", indicator="site_map", period="2026-06-30", status="blocked",
                              snapshot_id=ref.id, evidence_detail="HTTP 412")
    pipe.process_item(blocked)
    pipe.close_spider()
    with store.engine.connect() as conn:
        rows = dict(conn.execute(select(Observation.indicator, Observation.status)).all())
    assert rows == {"site_search": "ok", "site_map": "blocked"}
    assert crawler.stats.get_value("sgi/status/blocked") == 1


def test_an_item_without_evidence_is_dropped_and_counted(crawler):
    pipe = ObservationPipeline(crawler)
    with pytest.raises(DropItem, match="needs evidence"):
        pipe.process_item(ObservationItem(city_code="440300", indicator="site_search", period="2026-06-30",
                                          status="absent", value=False))
    assert crawler.stats.get_value("sgi/observations_rejected") == 1
    pipe.close_spider()
    with crawler.sgi_store.engine.connect() as conn:
        assert conn.execute(select(Observation)).first() is None


@pytest.mark.parametrize("change, message", [
    (dict(indicator="reply_rate", value=1.5), r"reply_rate \(share\) must be between 0 and 1, not 1.5"),
    (dict(indicator="messages_total", value=-3), r"messages_total \(count\) must be at least 0, not -3"),
    (dict(indicator="messages_total", value=float("inf")), "not a finite number"),
    (dict(value=2), "site_search is yes/no"),
])
def test_a_value_outside_its_indicators_unit_is_stored_as_an_error_saying_so(crawler, change, message):
    import re

    store = crawler.sgi_store
    ref = store.record_response(city_code="440300", spider="portal", requested_url="http://a.test/",
                                final_url="http://a.test/", http_status=200, reason="OK", headers=[],
                                body=b"<html></html>", fetched_at=datetime.now(timezone.utc), elapsed_ms=1,
                                fetch_status="ok", content_type="text/html", encoding="utf-8", rendered=False)
    fields = dict(city_code="440300", indicator="site_search", period="2026-06-30", status="ok", value=True,
                  rule="t", snapshot_id=ref.id, evidence_url=ref.url) | change
    pipe = ObservationPipeline(crawler)
    stored = pipe.process_item(ObservationItem(**fields))
    assert stored.status == "error" and stored.value is None
    assert crawler.stats.get_value("sgi/observations_out_of_range") == 1
    pipe.close_spider()
    with store.engine.connect() as conn:
        row = conn.execute(select(Observation)).one()
    assert (row.status, row.value_num, row.value_text, row.snapshot_id) == ("error", None, None, ref.id)
    assert re.search(message, row.evidence_detail)


@pytest.mark.parametrize("change, message", [
    (dict(period="2026-13-45"), "period '2026-13-45' is not a real date"),
    (dict(evidence_url="javascript:alert(1)"), "evidence URL 'javascript:alert\\(1\\)' is not an http"),
])
def test_an_impossible_period_or_uncitable_url_is_dropped_and_counted(crawler, change, message):
    store = crawler.sgi_store
    ref = store.record_response(city_code="440300", spider="portal", requested_url="http://a.test/",
                                final_url="http://a.test/", http_status=200, reason="OK", headers=[],
                                body=b"<html></html>", fetched_at=datetime.now(timezone.utc), elapsed_ms=1,
                                fetch_status="ok", content_type="text/html", encoding="utf-8", rendered=False)
    fields = dict(city_code="440300", indicator="site_search", period="2026-06-30", status="ok", value=True,
                  rule="t", snapshot_id=ref.id, evidence_url=ref.url) | change
    pipe = ObservationPipeline(crawler)
    with pytest.raises(DropItem, match=message):
        pipe.process_item(ObservationItem(**fields))
    assert crawler.stats.get_value("sgi/observations_rejected") == 1
    pipe.close_spider()
    with store.engine.connect() as conn:
        assert conn.execute(select(Observation)).first() is None


def test_crawls_make_no_records_their_handlers_drop_and_restore_the_root_level():
    import logging

    from spiders.extensions import skip_unlogged_records

    root = logging.getLogger()
    saved_level, saved_handlers = root.level, list(root.handlers)
    handler = logging.StreamHandler()
    handler.setLevel(logging.WARNING)
    try:
        root.handlers[:] = [handler]
        root.setLevel(logging.NOTSET)
        skip_unlogged_records(+1)
        skip_unlogged_records(+1)            # a second spider of the process
        assert not logging.getLogger("scrapy.core.scraper").isEnabledFor(logging.DEBUG)
        assert logging.getLogger("x").isEnabledFor(logging.WARNING)
        skip_unlogged_records(-1)
        assert root.level == logging.WARNING  # one spider still runs
        skip_unlogged_records(-1)
        assert root.level == logging.NOTSET
        # a handler that takes every record keeps the root at NOTSET
        everything = logging.StreamHandler()
        root.handlers[:] = [handler, everything]
        skip_unlogged_records(+1)
        assert root.level == logging.NOTSET
        skip_unlogged_records(-1)
    finally:
        root.handlers[:] = saved_handlers
        root.setLevel(saved_level)
