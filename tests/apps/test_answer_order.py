"""Issue 23 D25: a city's app indicators cite the same store answer whatever order the stores answered in
(identical runs alternated between the App Store and 应用宝). The spider's merge step runs on a real
database and store; the listings are given in both arrival orders."""

from __future__ import annotations

from datetime import date, datetime, timezone

from scrapy.utils.test import get_crawler

from collectors.apps import OK, Listing
from sgi.sources import Source
from spiders.apps import AppsSpider, CityState
from storage.store import SnapshotRef, start_run

DAY = date(2026, 6, 30)
APPLE = Source("440300", "app", "i深圳（App Store）", "https://itunes.apple.com/lookup?id=1463587382&country=cn",
               ("itunes.apple.com",), options={"app": "i深圳", "store": "apple", "population": 17_000_000})
YYB = Source("440300", "app", "i深圳（应用宝）", "https://sj.qq.com/appdetail/com.pingan.smt", ("sj.qq.com",),
             options={"app": "i深圳", "store": "yyb"})


def _answers():
    at = datetime(2026, 6, 30, 2, tzinfo=timezone.utc)
    apple = (APPLE, Listing("apple", "1463587382", OK, name="i深圳", rating=4.5, rating_count=300,
                            release_date=date(2026, 6, 1), url=APPLE.start_url),
             SnapshotRef("snap-apple", APPLE.start_url, at, "d1", "ok", 200))
    yyb = (YYB, Listing("yyb", "com.pingan.smt", OK, name="i深圳", rating=4.0, rating_count=100, downloads=5000,
                        release_date=date(2026, 6, 20), url=YYB.start_url),
           SnapshotRef("snap-yyb", YYB.start_url, at, "d2", "ok", 200))
    return apple, yyb


def _finish(tmp_path, key: str, listings) -> list[tuple]:
    url = f"sqlite:///{tmp_path / 'apps.db'}"
    run_id = start_run(url, key, command="test", spiders=["apps"], as_of=DAY.isoformat())
    crawler = get_crawler(AppsSpider, {"SGI_DATABASE_URL": url, "SGI_RUN_ID": run_id, "SGI_AS_OF": DAY.isoformat(),
                                       "SGI_ARCHIVE_DIR": str(tmp_path / "warc")})
    spider = AppsSpider.from_crawler(crawler)
    state = CityState("440300", [APPLE, YYB], listings=list(listings))
    items = list(spider._finish(state))
    assert len(items) > 5
    return sorted((i.indicator, i.status, repr(i.value), i.snapshot_id, i.evidence_url, tuple(i.evidence_snapshots))
                  for i in items)


def test_the_cited_store_does_not_depend_on_the_order_of_answers(tmp_path):
    apple, yyb = _answers()
    first = _finish(tmp_path, "apple-first", [apple, yyb])
    second = _finish(tmp_path, "yyb-first", [yyb, apple])
    assert first == second
    # the source file's order: the App Store entry comes first, so its answer is the one cited
    assert {row[3] for row in first if row[1] == OK} == {"snap-apple"}
