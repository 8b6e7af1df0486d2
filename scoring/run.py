"""Score what is in the database: observations and cities in, the ``score`` table (and a CSV) out.

This is the glue the CLI and ``sgi demo`` call; the scoring itself is :func:`scoring.pipeline.run_scoring`.
"""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import pandas as pd

from scoring.framework import load_framework
from scoring.pipeline import ScoreResult, run_scoring

OBSERVATION_COLUMNS = ["city_code", "indicator", "period", "value", "status"]
CITY_COLUMNS = ["code", "name", "province", "region", "level"]


def _none_if_nan(x):
    if x is None:
        return None
    if isinstance(x, (float, np.floating)) and np.isnan(x):
        return None
    return x.item() if isinstance(x, np.generic) else x


def score_database(db_url: str | None = None, framework: str = "sgi-default", period: str | None = None,
                   uncertainty: int = 0, seed: int = 0, out_csv: str | Path | None = None, run_key: str = "",
                   write_db: bool = True) -> ScoreResult | None:
    """Score the latest observations in the database with a framework.

    Returns None when the database holds no observation for any of the framework's indicators.
    Scores are upserted into the ``score`` table keyed by (framework, city, node, period, run_key).
    """
    from sqlalchemy import text

    from storage import db
    from storage.exports import observations_frame
    from storage.models import Score

    fw = load_framework(framework)
    obs = observations_frame(db_url, apply_overrides=True)   # auditors' corrections beat the machine's values
    obs = obs[obs["indicator"].isin(fw.indicator_codes())]
    if obs.empty:
        return None
    obs = obs[OBSERVATION_COLUMNS].copy()
    obs["value"] = pd.to_numeric(obs["value"], errors="coerce")      # text values are never scored
    engine = db.ensure_schema(db_url)
    with engine.connect() as conn:
        cities = pd.read_sql(text("SELECT code, name, province, region, level FROM city"), conn)
    result = run_scoring(obs, cities, fw, period=period, uncertainty=uncertainty, seed=seed)
    scores = result.scores
    if out_csv is not None:
        out_csv = Path(out_csv)
        out_csv.parent.mkdir(parents=True, exist_ok=True)
        scores.to_csv(out_csv, index=False, encoding="utf-8")
    if write_db:
        now = datetime.now(timezone.utc)
        fields = ["framework", "city_code", "node", "period", "value", "rank", "tier", "coverage", "imputed",
                  "rank_median", "rank_p05", "rank_p95"]
        rows = []
        for rec in scores.reindex(columns=fields).to_dict("records"):
            row = {k: _none_if_nan(v) for k, v in rec.items()}
            row["imputed"] = int(row["imputed"] or 0)
            row["run_key"] = run_key
            row["computed_at"] = now
            rows.append(row)
        with db.connect(db_url) as conn:
            db.upsert(conn, Score, rows, keys=["framework", "city_code", "node", "period", "run_key"])
    return result
