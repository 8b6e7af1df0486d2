"""score_database: observations from the sgi database in, the score table and a CSV out."""

from __future__ import annotations

from datetime import datetime, timezone

import numpy as np
import pandas as pd
import pytest

storage_db = pytest.importorskip("storage.db")
models = pytest.importorskip("storage.models")
store_mod = pytest.importorskip("storage.store")
cities_mod = pytest.importorskip("sgi.cities")

from scoring.framework import ROOT  # noqa: E402
from scoring.run import score_database  # noqa: E402

from tests.scoring.conftest import write_small  # noqa: E402

CODES = ["440300", "110000", "330100"]


@pytest.fixture()
def db_url(tmp_path):
    url = f"sqlite:///{tmp_path / 's.db'}"
    store_mod.sync_cities(url, [cities_mod.lookup(c) for c in CODES])
    run_id = store_mod.start_run(url, "score-test", as_of="2026-06-30")
    now = datetime.now(timezone.utc)
    rows = []
    for i, city in enumerate(CODES):
        for code, value, status in (("site_search", 1.0 if i else None, "ok" if i else "blocked"),
                                    ("site_map", 1.0 if i < 2 else 0.0, "ok" if i < 2 else "absent"),
                                    ("reply_rate", 0.5 + 0.2 * i, "ok"),
                                    ("homepage_bytes", 12345.0, "ok")):          # descriptive: ignored
            rows.append({"run_id": run_id, "city_code": city, "indicator": code, "period": "2026-06-30",
                         "value_num": value, "status": status, "observed_at": now})
    with storage_db.connect(url) as conn:
        storage_db.upsert(conn, models.Observation, rows, keys=["city_code", "indicator", "period", "run_id"])
    yield url
    storage_db.dispose_all()


def test_scores_are_written_to_the_table_and_csv(db_url, tmp_path):
    out = tmp_path / "scores.csv"
    fw = write_small(tmp_path, min_coverage=0.4)   # capability observed, effect not: index = capability
    res = score_database(db_url, framework=str(fw), out_csv=out)
    assert res is not None
    csv = pd.read_csv(out, dtype={"city_code": str, "period": str})
    assert set(csv["city_code"]) == set(CODES) and set(csv["period"]) == {"2026"}
    total = res.index("2026").set_index("city_code")
    # Shenzhen's site_search was blocked: reweighted, not zero, and flagged by lower coverage
    blocked = res.contributions[(res.contributions.city_code == "440300") & (res.contributions.indicator == "site_search")]
    assert blocked["status"].iloc[0] == "blocked" and blocked["weight"].iloc[0] == 0
    with storage_db.get_engine(db_url).connect() as conn:
        stored = pd.read_sql("SELECT * FROM score", conn)
    assert len(stored) == len(res.scores)
    stored_total = pd.to_numeric(stored[stored.node == ROOT].set_index("city_code")["value"])
    assert total["value"].notna().all()
    assert np.allclose(stored_total.reindex(total.index), total["value"])
    cap = res.scores[res.scores.node == "capability"].set_index("city_code")["value"]
    assert np.allclose(cap.reindex(total.index), total["value"])
    assert stored[stored.node == "effect"]["value"].isna().all()       # nothing observed: missing, not 0
    # rerunning upserts instead of duplicating
    score_database(db_url, framework=str(fw))
    with storage_db.get_engine(db_url).connect() as conn:
        assert pd.read_sql("SELECT COUNT(*) AS n FROM score", conn)["n"].iloc[0] == len(res.scores)


def test_nothing_to_score_returns_none(tmp_path):
    url = f"sqlite:///{tmp_path / 'empty.db'}"
    store_mod.sync_cities(url, [cities_mod.lookup("440300")])
    try:
        assert score_database(url, framework="sgi-default") is None
    finally:
        storage_db.dispose_all()
