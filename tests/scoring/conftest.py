"""Shared helpers for the scoring tests: published tables and tiny frameworks written to tmp_path."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

REFERENCE = Path("/work/shared/reference")
PUBLISHED = REFERENCE / "published"


def published(name: str) -> pd.DataFrame:
    path = PUBLISHED / name
    if not path.exists():
        pytest.skip(f"reference table {path} not available")
    return pd.read_csv(path)


SMALL_FRAMEWORK = """\
id: small
name_zh: 小框架
aggregation: {aggregation}
normalisation: {{method: {method}, range: [0, 100], scope: panel}}
missing: {{rule: {rule}, min_coverage: {min_coverage}, group_by: region}}
tiers:
  cities: {{by: rank_share, levels: [{{name_zh: A, top_share: 0.5}}, {{name_zh: B, top_share: 1.0}}]}}
uncertainty: {{weight_noise: {noise}, normalisations: {norms}, imputations: {imps}}}
dimensions:
  - code: capability
    name_zh: 治理能力
    weight: 0.6
    indicators: [site_search, site_map, reply_rate]
  - code: effect
    name_zh: 治理效果
    weight: 0.4
    indicators: [app_rating_mean, {{code: reply_delay_median_days}}]
"""


def write_small(tmp_path: Path, aggregation="arithmetic", method="minmax", rule="reweight", min_coverage=0.5,
                noise=0.25, norms="[framework, rank]", imps="[framework, impute_group_median]") -> Path:
    p = tmp_path / f"small-{aggregation}-{method}-{rule}-{noise}.yaml"
    p.write_text(SMALL_FRAMEWORK.format(aggregation=aggregation, method=method, rule=rule, min_coverage=min_coverage,
                                        noise=noise, norms=norms, imps=imps), encoding="utf-8")
    return p


def small_cities(n: int = 8) -> pd.DataFrame:
    regions = ["东部", "中部", "西部", "东北"]
    return pd.DataFrame({"code": [f"C{i:02d}" for i in range(n)], "name": [f"城{i}" for i in range(n)],
                         "province": ["P"] * n, "region": [regions[i % 4] for i in range(n)],
                         "level": ["地级"] * n})


def small_observations(n: int = 8, years=("2022", "2023")) -> pd.DataFrame:
    """Deterministic values: city i is better than city i+1 on every indicator except a little noise."""
    rows = []
    for y_i, year in enumerate(years):
        for i in range(n):
            c = f"C{i:02d}"
            good = (n - i) / n
            rows += [
                (c, "site_search", year, 1.0 if i % 3 else 0.0, "ok" if i % 3 else "absent"),
                (c, "site_map", year, 1.0 if i < n - 2 else 0.0, "ok" if i < n - 2 else "absent"),
                (c, "reply_rate", year, 0.3 + 0.6 * good + 0.01 * y_i, "ok"),
                (c, "app_rating_mean", year, 2.0 + 3.0 * good - 0.1 * ((i * 7) % 3), "ok"),
                (c, "reply_delay_median_days", year, 30.0 - 20.0 * good + y_i, "ok"),
            ]
    return pd.DataFrame(rows, columns=["city_code", "indicator", "period", "value", "status"])
