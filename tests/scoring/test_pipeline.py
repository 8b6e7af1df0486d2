"""End-to-end pipeline behaviour: steps log, contributions, explain, periods, audit, weights, geometric."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from scoring.framework import ROOT
from scoring.pipeline import SCORE_COLUMNS, run_scoring
from scoring.synthetic import make_cities, make_observations

from tests.scoring.conftest import small_cities, small_observations, write_small


@pytest.fixture(scope="module")
def default_run():
    cities = make_cities(50, seed=4)
    obs = make_observations("sgi-default", cities, ["2022", "2023"], seed=4, missing_share=0.05, blocked_share=0.05)
    return cities, obs, run_scoring(obs, cities, "sgi-default")


def test_scores_shape_and_columns(default_run):
    cities, _, res = default_run
    assert list(res.scores.columns) == SCORE_COLUMNS
    fw = res.framework
    internal = [n for n in fw.nodes() if not n.is_indicator]
    assert len(res.scores) == len(internal) * len(cities) * 2
    assert set(res.scores["period"]) == {"2022", "2023"}
    assert (res.scores["framework"] == "sgi-default").all()
    idx = res.index("2023")
    ranked = idx.dropna(subset=["value"])
    assert ranked["value"].is_monotonic_decreasing
    assert ranked["rank"].iloc[0] == 1
    assert ranked["tier"].notna().all() and idx.loc[idx["value"].isna(), "tier"].isna().all()


def test_steps_are_logged_in_order_with_parameters(default_run):
    _, _, res = default_run
    names = [s["step"] for s in res.steps]
    assert names == ["framework", "panel", "missing", "treat", "normalise", "weights", "aggregate",
                     "rank_tier", "audit"]
    norm = next(s for s in res.steps if s["step"] == "normalise")["params"]
    assert norm == {"method": "minmax", "range": [0.0, 100.0], "scope": "panel"}
    treat = next(s for s in res.steps if s["step"] == "treat")
    assert treat["params"]["enabled"] and treat["result"]       # skewed synthetic counts were treated


def test_contributions_add_up_to_the_index(default_run):
    _, _, res = default_run
    c = res.contributions
    total = c.groupby(["city_code", "period"])["contribution"].sum(min_count=1)
    idx = res.scores[res.scores.node == ROOT].set_index(["city_code", "period"])["value"]
    both = pd.concat([total.rename("c"), idx.rename("v")], axis=1).dropna()
    assert len(both) > 90
    assert np.allclose(both["c"], both["v"])
    w = c.groupby(["city_code", "period"])["weight"].sum()
    assert np.allclose(w.loc[both.index], 1.0)                   # effective weights after reweighting
    assert (c.loc[c["normalised"].isna(), "weight"] == 0).all()


def test_explain_prints_the_tree(default_run):
    cities, _, res = default_run
    text = res.explain(cities["code"].iloc[0])
    lines = text.splitlines()
    assert "sgi-default" in lines[0] and "period 2023" in lines[0]
    assert lines[1].startswith(f"{ROOT} ")
    assert any(l.strip().startswith("capability 治理能力") for l in lines)
    leaf = next(l for l in lines if "- site_search" in l)
    for part in ("raw=", "norm=", "weight=", "contribution="):
        assert part in leaf
    with pytest.raises(KeyError):
        res.explain("nope")


def test_period_argument(tmp_path):
    fw = write_small(tmp_path)
    res = run_scoring(small_observations(), small_cities(), fw, period="2022")
    assert set(res.scores["period"]) == {"2022"}
    assert set(res.contributions["period"]) == {"2022"}
    with pytest.raises(ValueError, match="2030"):
        run_scoring(small_observations(), small_cities(), fw, period="2030")


def test_audit_tables(default_run):
    _, _, res = default_run
    a = res.audit
    ind = a.indicators.set_index("indicator")
    assert set(ind.index) == set(res.framework.indicator_codes())
    assert ind["coverage"].between(0.8, 1.0).all()                 # about 10% of cells missing
    alpha = a.cronbach.set_index("node")["alpha"]
    assert {"capability", "effect", "institution", ROOT} <= set(alpha.index)
    assert alpha[ROOT] > 0.7                                        # the synthetic data share a latent factor
    assert set(a.parent_correlations.columns) == {"node", "parent", "r"}
    ew = res.effective_weights
    assert np.isclose(ew["effective_weight"].sum(), 1.0)
    assert (ew["corr_with_index"].dropna() > 0).all()


def test_cronbach_alpha_known_value():
    from scoring.audit import cronbach_alpha
    X = np.array([[1, 2, 3], [2, 3, 4], [3, 4, 5], [4, 5, 7.0]])
    k = 3
    expected = k / (k - 1) * (1 - X.var(axis=0, ddof=1).sum() / X.sum(axis=1).var(ddof=1))
    assert cronbach_alpha(X) == pytest.approx(expected)
    assert cronbach_alpha(X) > 0.95


def test_geometric_is_below_arithmetic_city_by_city(tmp_path):
    obs, cities = small_observations(), small_cities()
    arith = run_scoring(obs, cities, write_small(tmp_path, method="efficacy_coefficient"), period="2023").index()
    geo = run_scoring(obs, cities, write_small(tmp_path, aggregation="geometric", method="efficacy_coefficient"),
                      period="2023").index()
    m = arith.set_index("city_code")["value"].to_frame("a").join(geo.set_index("city_code")["value"].rename("g"))
    assert (m["g"] <= m["a"] + 1e-9).all() and (m["g"] < m["a"] - 1e-6).any()


def test_data_driven_weights_replace_leaf_weights(tmp_path):
    p = write_small(tmp_path)
    p.write_text(p.read_text(encoding="utf-8").replace("aggregation: arithmetic", "aggregation: arithmetic\nweights: entropy"),
                 encoding="utf-8")
    res = run_scoring(small_observations(), small_cities(), p, period="2023")
    step = next(s for s in res.steps if s["step"] == "weights")
    assert step["params"]["method"] == "entropy"
    w = step["result"]
    cap = [v for k, v in w.items() if k.startswith("capability/")]
    assert np.isclose(sum(cap), 1.0) and len(set(np.round(cap, 6))) > 1
    assert res.framework.node("capability").weight == 0.6          # levels above the leaf groups stay expert


def test_input_framework_object_is_not_mutated(tmp_path):
    from scoring.framework import load_framework
    fw = load_framework(write_small(tmp_path))
    before = [n.weight for n in fw.nodes()]
    run_scoring(small_observations(), small_cities(), fw)
    assert [n.weight for n in fw.nodes()] == before


def test_shipped_frameworks_score_synthetic_data():
    cities = make_cities(30, seed=9)
    for name in ("tsinghua-dgdi-2020", "cstc-smart-2021"):
        obs = make_observations(name, cities, ["2021"], seed=9)
        idx = run_scoring(obs, cities, name).index()
        if name == "tsinghua-dgdi-2020":
            assert idx["value"].between(0, 100).all()
            assert idx["tier"].value_counts().to_dict() == {"追赶型": 11, "发展型": 6, "特色型": 6, "优质型": 4, "引领型": 3}
        else:
            assert idx["value"].between(0, 1).all()
            assert set(idx["tier"]) <= {"领军城市", "先锋城市", "探索城市"}


def test_only_observed_cities_are_scored_and_empty_input_is_an_error(tmp_path):
    fw = write_small(tmp_path)
    cities = pd.concat([small_cities(), pd.DataFrame([{"code": "X99", "name": "未采集", "province": "P",
                                                         "region": "西部", "level": "地级"}])])
    res = run_scoring(small_observations(), cities, fw)
    assert "X99" not in set(res.scores["city_code"])
    assert next(s for s in res.steps if s["step"] == "panel")["result"]["cities_without_observations_skipped"] == 1
    with pytest.raises(ValueError, match="no observations"):
        run_scoring(small_observations().assign(indicator="portal_https"), cities, fw)
