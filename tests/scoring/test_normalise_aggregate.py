"""Invariants of normalisation, weights and aggregation (property-based where it pays)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from scoring import normalise as norm
from scoring.aggregate import points_sum, weighted_arithmetic, weighted_geometric
from scoring.weights import critic_weights, entropy_weights, pca_weights

finite = st.floats(min_value=-1e6, max_value=1e6, allow_nan=False, allow_infinity=False)
column = arrays(np.float64, st.integers(2, 40), elements=finite)
FAST = settings(max_examples=80, deadline=None)


def _with_nans(x: np.ndarray, mask_seed: int) -> np.ndarray:
    rng = np.random.default_rng(mask_seed)
    y = x.copy()
    y[rng.uniform(size=x.size) < 0.2] = np.nan
    return y


@FAST
@given(column, st.integers(0, 10_000))
def test_minmax_stays_in_range_and_keeps_nan(x, seed):
    x = _with_nans(x, seed)
    for d in (1, -1):
        y = norm.minmax(x[:, None], np.array([d]), 0.0, 100.0)[:, 0]
        assert np.array_equal(np.isnan(y), np.isnan(x))          # missing stays missing, never 0
        ok = ~np.isnan(y)
        assert np.all((y[ok] >= 0.0) & (y[ok] <= 100.0))


@FAST
@given(column)
def test_minmax_is_monotone_for_positive_and_reversed_for_negative(x):
    pos = norm.minmax(x[:, None], np.array([1]), 0, 1)[:, 0]
    neg = norm.minmax(x[:, None], np.array([-1]), 0, 1)[:, 0]
    order = np.argsort(x, kind="stable")
    assert np.all(np.diff(pos[order]) >= -1e-12)
    assert np.all(np.diff(neg[order]) <= 1e-12)
    if np.ptp(x) > 0:
        assert pos[np.argmax(x)] == 1.0 and pos[np.argmin(x)] == 0.0
        assert neg[np.argmin(x)] == 1.0 and neg[np.argmax(x)] == 0.0
        assert np.allclose(pos + neg, 1.0)


@FAST
@given(arrays(np.float64, st.tuples(st.integers(2, 30), st.integers(1, 5)), elements=finite),
       st.lists(st.sampled_from([1, -1]), min_size=5, max_size=5))
def test_efficacy_coefficient_is_in_60_100(X, dirs):
    d = np.array(dirs[: X.shape[1]])
    Y = norm.efficacy_coefficient(X, d)
    assert np.all((Y >= 60.0) & (Y <= 100.0))
    for j in range(X.shape[1]):
        if np.ptp(X[:, j]) > 0:
            assert Y[:, j].min() == 60.0 and Y[:, j].max() == 100.0


def test_constant_columns_get_a_documented_value_not_nan():
    X = np.array([[3.0, 1.0], [3.0, np.nan], [3.0, np.nan]])
    for fn, expected in ((lambda X, d: norm.minmax(X, d, 0, 100), 100.0),
                         (norm.efficacy_coefficient, 100.0),
                         (norm.zscore, 0.0)):
        Y = fn(X, np.array([1, -1]))
        assert np.all(Y[:, 0] == expected)
        assert Y[0, 1] == expected and np.isnan(Y[1:, 1]).all()


def test_efficacy_formula_matches_renmin_for_both_directions():
    x = np.array([[0.0], [5.0], [10.0]])
    assert norm.efficacy_coefficient(x, np.array([1]))[:, 0].tolist() == [60.0, 80.0, 100.0]
    assert norm.efficacy_coefficient(x, np.array([-1]))[:, 0].tolist() == [100.0, 80.0, 60.0]


@FAST
@given(column)
def test_rank_and_zscore_preserve_order(x):
    for fn in (lambda v: norm.rank_percentile(v, np.array([1]), 0, 100), lambda v: norm.zscore(v, np.array([1]))):
        y = fn(x[:, None])[:, 0]
        i, j = np.argmax(x), np.argmin(x)
        assert y[i] >= y[j]
        order = np.argsort(x, kind="stable")
        assert np.all(np.diff(y[order]) >= -1e-9)


def test_distance_to_target_caps_at_target():
    x = np.array([[10.0], [50.0], [90.0], [100.0]])
    y = norm.distance_to_target(x, np.array([1]), np.array([90.0]), 0, 100)[:, 0]
    assert y.tolist() == [0.0, 50.0, 100.0, 100.0]
    days = np.array([[1.0], [14.0], [30.0]])
    y = norm.distance_to_target(days, np.array([-1]), np.array([14.0]), 0, 100)[:, 0]
    assert y.tolist() == [100.0, 100.0, 0.0]


def test_outlier_treatment_follows_coinr_rule_and_reports():
    rng = np.random.default_rng(0)
    normal = rng.normal(50, 5, size=200)
    skewed = np.exp(rng.normal(0, 1.5, size=200))         # log-normal: heavy right tail
    one_spike = normal.copy()
    one_spike[0] = 500.0                                  # a single outlier: winsorising fixes it
    X = np.column_stack([normal, skewed, one_spike])
    Y, report = norm.treat_outliers(X)
    treated = {t.column: t for t in report}
    assert 0 not in treated and np.array_equal(Y[:, 0], X[:, 0])
    assert treated[2].action == "winsorised" and 1 <= treated[2].points_winsorised <= 5
    assert treated[1].action in ("winsorised", "log")
    for t in report:
        assert abs(t.skew_before) > 2 and t.kurt_before > 3.5
        assert not (abs(t.skew_after) > 2 and t.kurt_after > 3.5)
    # treatment keeps the order of values (ties may be created by winsorising)
    order = np.argsort(X[:, 1], kind="stable")
    assert np.all(np.diff(Y[order, 1]) >= -1e-12)


# ---------------------------------------------------------------------------------- aggregation

pos_values = st.floats(min_value=0.0, max_value=100.0, allow_nan=False)


@FAST
@given(st.integers(1, 8).flatmap(lambda k: st.tuples(
    arrays(np.float64, k, elements=pos_values),
    arrays(np.float64, k, elements=st.floats(min_value=0.01, max_value=1.0)))))
def test_weighted_means_lie_between_min_and_max_child_and_geometric_below_arithmetic(case):
    v, w = case
    w = w / w.sum()
    a = weighted_arithmetic(v, w)
    g = weighted_geometric(v, w)
    assert v.min() - 1e-9 <= a <= v.max() + 1e-9
    assert v.min() - 1e-9 <= g <= v.max() + 1e-9
    assert g <= a + 1e-9


@FAST
@given(st.integers(2, 8).flatmap(lambda k: st.tuples(
    arrays(np.float64, k, elements=pos_values),
    arrays(np.float64, k, elements=st.floats(min_value=0.01, max_value=1.0)),
    arrays(np.bool_, k))))
def test_missing_children_are_reweighted_not_zeroed(case):
    v, w, missing = case
    w = w / w.sum()
    vm = np.where(missing, np.nan, v)
    a = weighted_arithmetic(vm, w)
    if missing.all():
        assert np.isnan(a)
        return
    keep = ~missing
    expected = (v[keep] * w[keep]).sum() / w[keep].sum()
    assert np.isclose(a, expected)
    assert v[keep].min() - 1e-9 <= a <= v[keep].max() + 1e-9


def test_geometric_mean_is_zero_with_a_zero_child_and_rejects_negatives():
    assert weighted_geometric(np.array([0.0, 50.0]), np.array([0.5, 0.5])) == 0.0
    assert np.isclose(weighted_geometric(np.array([4.0, 16.0]), np.array([0.5, 0.5])), 8.0)
    with pytest.raises(ValueError):
        weighted_geometric(np.array([-1.0, 2.0]), np.array([0.5, 0.5]))


def test_points_sum_checks_maxima():
    assert points_sum(np.array([[5.0, 7.5]]), np.array([10, 7.5]))[0] == 12.5
    with pytest.raises(ValueError):
        points_sum(np.array([[11.0, 1.0]]), np.array([10, 7.5]))


# ---------------------------------------------------------------------------------- weights

def test_data_driven_weights_sum_to_one_and_behave():
    rng = np.random.default_rng(3)
    base = rng.normal(size=300)
    X = np.column_stack([
        base + rng.normal(scale=0.1, size=300),            # 0 and 1 nearly duplicate each other
        base + rng.normal(scale=0.1, size=300),
        rng.normal(size=300),                              # 2 independent
        (rng.uniform(size=300) < 0.98).astype(float),      # 3 a feature nearly every city has
    ])
    for fn in (entropy_weights, critic_weights, pca_weights):
        w = fn(X)
        assert np.isclose(w.sum(), 1.0) and np.all(w >= 0)
    # entropy gives the near-universal boolean little weight relative to a spread-out column
    we = entropy_weights(X)
    assert we[3] < we[2]
    # CRITIC rewards the independent column over the redundant pair
    wc = critic_weights(X)
    assert wc[2] > wc[0] and wc[2] > wc[1]


@FAST
@given(st.integers(1, 500), st.lists(st.floats(min_value=0.01, max_value=0.99), min_size=1, max_size=5, unique=True))
def test_rank_share_tiers_partition_units_by_floor_cutoffs(n, shares):
    from scoring.framework import TierScheme
    from scoring.tiers import rank_share_cutoffs, tier_by_rank_share
    shares = sorted(shares) + [1.0]
    scheme = TierScheme("t", "rank_share", tuple((f"T{i}", s) for i, s in enumerate(shares)))
    tiers = tier_by_rank_share(np.arange(1, n + 1), n, scheme)
    assert all(t is not None for t in tiers)
    cut = rank_share_cutoffs(n, shares)
    expected = np.diff([0] + cut)
    counts = [int((tiers == f"T{i}").sum()) for i in range(len(shares))]
    assert counts == list(expected) and sum(counts) == n
    # tiers never get better as rank gets worse
    idx = [int(t[1:]) for t in tiers]
    assert idx == sorted(idx)
