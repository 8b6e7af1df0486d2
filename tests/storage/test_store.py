from datetime import datetime, timezone

import pytest
from sqlalchemy import func, select, text

from storage import db
from storage.models import City, Observation, Snapshot
from storage.store import CrawlStore, start_run, sync_cities
from storage.warc import read_record
from sgi.cities import lookup


@pytest.fixture()
def store(tmp_path):
    url = f"sqlite:///{tmp_path / 't.db'}"
    sync_cities(url, [lookup("440300")])
    run_id = start_run(url, "test-run", as_of="2026-06-30")
    s = CrawlStore(url, run_id, archive_dir=tmp_path / "warc")
    yield s
    s.close()
    db.dispose_all()


def snapshot(store, url="http://www.sz.gov.cn.test/", body=b"<html>ok</html>", status="ok"):
    return store.record_response(city_code="440300", spider="portal", requested_url=url, final_url=url,
                                 http_status=200, reason="OK", headers=[("Content-Type", "text/html")], body=body,
                                 fetched_at=datetime.now(timezone.utc), elapsed_ms=5.0, fetch_status=status,
                                 content_type="text/html", encoding="utf-8", rendered=False)


def count(store, model):
    with store.engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(model)).scalar()


def test_sqlite_is_in_wal_mode(store):
    with store.engine.connect() as conn:
        assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"


def test_value_without_evidence_is_refused(store):
    with pytest.raises(ValueError, match="needs evidence"):
        store.record_observation(city_code="440300", indicator="site_search", period="2026-06-30",
                                 status="ok", value=True)
    with pytest.raises(ValueError, match="needs evidence"):
        store.record_observation(city_code="440300", indicator="site_search", period="2026-06-30",
                                 status="absent", value=False)


def test_blocked_carries_no_value_and_unknown_codes_fail(store):
    ref = snapshot(store)
    with pytest.raises(ValueError, match="must not carry a value"):
        store.record_observation(city_code="440300", indicator="site_search", period="2026-06-30",
                                 status="blocked", value=0, snapshot_id=ref.id)
    with pytest.raises(Exception, match="unknown indicator"):
        store.record_observation(city_code="440300", indicator="val2", period="2026-06-30", status="ok",
                                 value=1, snapshot_id=ref.id)


def test_observations_upsert_by_natural_key(store):
    ref = snapshot(store)
    for value in (True, False, True):
        store.record_observation(city_code="440300", indicator="site_search", period="2026-06-30",
                                 status="ok" if value else "absent", value=value, snapshot_id=ref.id,
                                 evidence_url=ref.url)
        store.flush()
    assert count(store, Observation) == 1
    with store.engine.connect() as conn:
        row = conn.execute(select(Observation.value_num, Observation.status, Observation.evidence_snapshots)).one()
    assert row == (1.0, "ok", [ref.id])


def test_snapshot_points_at_a_readable_warc_record(store):
    ref = snapshot(store, body="<html>网站地图</html>".encode("gbk"))
    store.flush()
    with store.engine.connect() as conn:
        snap = conn.execute(select(Snapshot).where(Snapshot.id == ref.id)).one()
    record = read_record(store.archive_dir, snap.warc_file, snap.warc_offset)
    assert record.body == "<html>网站地图</html>".encode("gbk")
    assert record.digest == snap.digest == ref.digest


def test_rerun_of_the_same_run_key_replaces_snapshots(tmp_path):
    url = f"sqlite:///{tmp_path / 'r.db'}"
    sync_cities(url, [lookup("440300")])
    for _ in range(2):
        run_id = start_run(url, "same-key")
        s = CrawlStore(url, run_id, archive_dir=tmp_path / "warc")
        snapshot(s)
        snapshot(s)          # a second fetch of the same URL in one run is a second snapshot
        s.close()
    with db.get_engine(url).connect() as conn:
        assert conn.execute(select(func.count()).select_from(Snapshot)).scalar() == 2
        assert conn.execute(select(func.count()).select_from(City)).scalar() == 1
    db.dispose_all()


def test_sample_web_ports_are_not_part_of_a_page_identity():
    from storage.store import page_identity

    assert page_identity("http://www.sz.gov.cn.test:18630/a?b=1") == "http://www.sz.gov.cn.test/a?b=1"
    assert page_identity("https://data.x.gov.cn.test:443/") == "https://data.x.gov.cn.test/"
    assert page_identity("https://www.gov.cn:8443/a") == "https://www.gov.cn:8443/a"   # real hosts keep theirs


def test_the_same_page_on_another_sample_port_is_the_same_snapshot(store):
    a = snapshot(store, url="http://www.sz.gov.cn.test:18630/")
    store._attempts.clear()           # a rerun of the run starts counting again
    b = snapshot(store, url="http://www.sz.gov.cn.test:40111/")
    assert a.id == b.id


@pytest.mark.parametrize("wildcards", ["%%%%%%", "______", "%_%_%_"])
def test_an_evidence_id_prefix_is_taken_literally(store, wildcards):
    """Issue 23 D26: LIKE wildcards in an id are characters, not patterns (one snapshot: they matched it)."""
    from sgi.errors import SgiError
    from storage.evidence import find_snapshot

    ref = snapshot(store)
    store.flush()
    assert find_snapshot(store.url, ref.id[:8])["id"] == ref.id
    with pytest.raises(SgiError, match="no snapshot"):
        find_snapshot(store.url, wildcards)
    with pytest.raises(SgiError, match="no snapshot"):
        find_snapshot(store.url, ref.id[:6] + "%")
