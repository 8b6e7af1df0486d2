"""Monte Carlo uncertainty: rank intervals, collapse without perturbation, determinism, sensitivity."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from scoring.aggregate import aggregate_tree, compile_plan, leaf_coverage
from scoring.framework import ROOT, load_framework
from scoring.pipeline import run_scoring
from scoring.synthetic import make_cities, make_observations
from scoring.uncertainty import noisy_weights

from tests.scoring.conftest import small_cities, small_observations, write_small


@pytest.fixture(scope="module")
def default_run():
    cities = make_cities(80, seed=2)
    obs = make_observations("sgi-default", cities, ["2022", "2023"], seed=2, missing_share=0.05, blocked_share=0.05)
    return cities, obs, run_scoring(obs, cities, "sgi-default", period="2023", uncertainty=300, seed=11)


def test_rank_interval_contains_the_median(default_run):
    _, _, res = default_run
    idx = res.index("2023")
    scored = idx[idx["value"].notna()]
    assert len(scored) > 60
    assert (scored["rank_p05"] <= scored["rank_median"]).all()
    assert (scored["rank_median"] <= scored["rank_p95"]).all()
    assert (scored["rank_p95"] > scored["rank_p05"]).any()          # perturbation does move ranks
    # non-index rows carry no interval
    assert res.scores.loc[res.scores.node != ROOT, "rank_median"].isna().all()


def test_sensitivity_reports_each_choice(default_run):
    _, _, res = default_run
    sens = res.sensitivity
    assert {"weights", "normalisation", "imputation"} <= set(sens["group"])
    options = sens[sens["option"].notna()]
    assert set(options.loc[options.input == "normalisation", "option"]) == {"minmax", "zscore", "rank"}
    # the framework's own choices reproduce the nominal ranking best: their draws move ranks least
    norm = options[options.input == "normalisation"].set_index("option")["mean_abs_rank_shift"]
    assert norm.idxmin() == "minmax"
    imp = options[options.input == "imputation"].set_index("option")["mean_abs_rank_shift"]
    assert imp.idxmin() == "reweight"
    groups = sens[sens["input"].str.endswith("(group)")].set_index("group")["S1"]
    assert set(groups.index) == {"weights", "normalisation", "imputation"}
    assert groups.between(0, 1).all() and groups.max() > 0.05
    per_input = sens[sens["method"] == "rbd_fast first-order"]
    assert per_input["S1"].notna().all() and len(per_input) > 50
    assert next(s for s in res.steps if s["step"] == "uncertainty")["params"]["draws"] == 300


def test_results_are_deterministic_given_the_seed(default_run):
    cities, obs, res = default_run
    again = run_scoring(obs, cities, "sgi-default", period="2023", uncertainty=300, seed=11)
    pd.testing.assert_frame_equal(res.scores, again.scores)
    other = run_scoring(obs, cities, "sgi-default", period="2023", uncertainty=300, seed=12)
    pd.testing.assert_series_equal(res.scores["value"], other.scores["value"])     # seed only moves the MC
    assert not res.scores["rank_p95"].equals(other.scores["rank_p95"]) or \
        not res.scores["rank_median"].equals(other.scores["rank_median"])


def test_zero_perturbation_collapses_the_interval(tmp_path):
    fw = write_small(tmp_path, noise=0, norms="[framework]", imps="[framework]")
    res = run_scoring(small_observations(), small_cities(), fw, period="2023", uncertainty=100, seed=1)
    idx = res.index("2023")
    assert (idx["rank_p05"] == idx["rank_p95"]).all()
    assert (idx["rank_median"] == idx["rank"]).all()


def test_noisy_weights_stay_normalised_within_each_parent():
    fw = load_framework("sgi-default")
    plan = compile_plan(fw)
    rng = np.random.default_rng(0)
    W = noisy_weights(plan, rng.uniform(0.75, 1.25, size=(50, len(plan.edge_weight))))
    for k in range(len(plan.node_paths)):
        sel = plan.edge_parent == k
        assert np.allclose(W[:, sel].sum(axis=1), 1.0)
    assert np.allclose(noisy_weights(plan, np.ones((1, len(plan.edge_weight))))[0], plan.edge_weight)


def test_batched_aggregation_equals_one_draw_at_a_time():
    fw = load_framework("sgi-default")
    plan = compile_plan(fw)
    rng = np.random.default_rng(5)
    V = rng.uniform(0, 100, size=(40, plan.n_leaves))
    V[rng.uniform(size=V.shape) < 0.15] = np.nan
    cov = leaf_coverage(plan, ~np.isnan(V), np.ones_like(V, dtype=bool))
    W = noisy_weights(plan, rng.uniform(0.75, 1.25, size=(7, len(plan.edge_weight))))
    batched = aggregate_tree(plan, V, cov, W)
    for d in range(7):
        single = aggregate_tree(plan, V, cov, W[d])
        np.testing.assert_allclose(batched[d], single, equal_nan=True)
