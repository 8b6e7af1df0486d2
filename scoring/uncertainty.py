"""Uncertainty and sensitivity analysis (Handbook step 7; COINr ``get_sensitivity``).

Each Monte Carlo draw rebuilds the index with
  * every local weight multiplied by a factor in [1 - noise, 1 + noise] and siblings renormalised to 1
    (COINr's ``get_noisy_weights`` with a uniform noise factor);
  * one normalisation from the list of alternatives;
  * one missing-data treatment from the list of alternatives.
Draws come from a Latin hypercube (SALib ``sample.latin``) over one [0, 1] input per weight with
siblings, plus one for the normalisation and one for the imputation choice (discrete choices are
the input's value binned into equal intervals). For each draw we record every city's rank in its
period; the result is the median rank and the 5th-95th percentile interval (the 90% rank interval).

Sensitivity: the scalar output per draw is the mean absolute rank shift from the nominal ranking;
first-order indices per input come from SALib ``analyze.rbd_fast`` (designed for LHS samples). The
weight inputs are many and individually small, so the group "weights" is summarised by the adjusted
R^2 of a linear fit on all of them (summing noisy indices would inflate it); each discrete choice gets
its correlation ratio eta^2 and the mean rank shift per option ("which choice moves ranks most").

Vectorisation: for a fixed (normalisation, imputation) variant the leaf matrix is fixed, so draws are
aggregated in blocks with :func:`scoring.aggregate.aggregate_tree` on a (draws, units, columns) array.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Callable

import numpy as np
import pandas as pd
from SALib.analyze import rbd_fast
from SALib.sample import latin

from scoring.aggregate import Plan, aggregate_tree

BLOCK = 64      # draws aggregated at once (memory ~ BLOCK x units x columns x 8 bytes)
RBD_RESAMPLES = 20   # bootstrap resamples for rbd_fast confidence intervals (SALib's default 100 is slow)


@dataclass
class UncertaintyResult:
    ranks: np.ndarray                 # (draws, units) rank of each unit's index in its period (NaN if unscored)
    nominal_rank: np.ndarray          # (units,)
    rank_median: np.ndarray
    rank_p05: np.ndarray
    rank_p95: np.ndarray
    sensitivity: pd.DataFrame         # input, group, S1 (rbd_fast), mean_abs_shift per option where discrete
    inputs: pd.DataFrame              # the sampled design: one row per draw
    n_draws: int


def _adjusted_r2(X: np.ndarray, y: np.ndarray) -> float:
    n, p = X.shape
    if n <= p + 1:
        return float("nan")
    A = np.column_stack([np.ones(n), X])
    coef, *_ = np.linalg.lstsq(A, y, rcond=None)
    resid = y - A @ coef
    r2 = 1.0 - resid.var() / y.var()
    return float(max(0.0, 1.0 - (1.0 - r2) * (n - 1) / (n - p - 1)))


def noisy_weights(plan: Plan, factors: np.ndarray) -> np.ndarray:
    """Multiply nominal local weights by factors (D, E) and renormalise within each parent."""
    W = plan.edge_weight[None, :] * factors
    sums = np.zeros((W.shape[0], len(plan.node_paths)))
    np.add.at(sums.T, plan.edge_parent, W.T)
    return W / np.where(sums[:, plan.edge_parent] > 0, sums[:, plan.edge_parent], 1.0)


def ranks_by_group(values: np.ndarray, groups: np.ndarray) -> np.ndarray:
    """Ranks (1 = best, ordinal with ties in unit order) within each group along the last axis;
    values (D, U); NaN values get NaN ranks."""
    out = np.full(values.shape, np.nan)
    for g in np.unique(groups):
        idx = np.flatnonzero(groups == g)
        v = values[:, idx]
        key = np.where(np.isnan(v), np.inf, -v)
        order = np.argsort(key, axis=1, kind="stable")
        r = np.empty_like(order)
        np.put_along_axis(r, order, np.arange(1, len(idx) + 1)[None, :].repeat(v.shape[0], 0), axis=1)
        out[:, idx] = np.where(np.isnan(v), np.nan, r)
    return out


def monte_carlo(plan: Plan, prepare: Callable[[str, str], tuple[np.ndarray, np.ndarray]],
                unit_groups: np.ndarray, target: np.ndarray, n_draws: int, seed: int,
                weight_noise: float, normalisations: list[str], imputations: list[str]) -> UncertaintyResult:
    """prepare(normalisation, imputation) -> (leaf values (U, L), coverage (U, I)); the first option of
    each list is the nominal one. unit_groups: the period of each unit (ranks are within a period).
    target: bool (U,) units whose rank shifts define the sensitivity output."""
    siblings = np.bincount(plan.edge_parent, minlength=len(plan.node_paths))[plan.edge_parent]
    weight_inputs = np.flatnonzero(siblings > 1) if weight_noise > 0 else np.array([], dtype=int)
    names = [f"w:{plan.edge_paths[e]}" for e in weight_inputs]
    groups = ["weights"] * len(names)
    if len(normalisations) > 1:
        names.append("normalisation"); groups.append("normalisation")
    if len(imputations) > 1:
        names.append("imputation"); groups.append("imputation")

    if names:
        problem = {"num_vars": len(names), "names": names, "bounds": [[0.0, 1.0]] * len(names)}
        X = latin.sample(problem, n_draws, seed=seed)
    else:
        problem, X = None, np.zeros((n_draws, 0))
    factors = np.ones((n_draws, len(plan.edge_weight)))
    if len(weight_inputs):
        factors[:, weight_inputs] = 1.0 + weight_noise * (2.0 * X[:, : len(weight_inputs)] - 1.0)
    W = noisy_weights(plan, factors)

    def choice(name: str, options: list[str]) -> np.ndarray:
        if name not in names:
            return np.zeros(n_draws, dtype=int)
        u = X[:, names.index(name)]
        return np.minimum((u * len(options)).astype(int), len(options) - 1)
    norm_idx = choice("normalisation", normalisations)
    imp_idx = choice("imputation", imputations)

    leaves0, cov0 = prepare(normalisations[0], imputations[0])
    nominal = aggregate_tree(plan, leaves0, cov0)[:, -1]
    nominal_rank = ranks_by_group(nominal[None, :], unit_groups)[0]

    U = leaves0.shape[0]
    root = np.full((n_draws, U), np.nan)
    for ni in np.unique(norm_idx):
        for ii in np.unique(imp_idx):
            draws = np.flatnonzero((norm_idx == ni) & (imp_idx == ii))
            if not len(draws):
                continue
            leaves, cov = prepare(normalisations[ni], imputations[ii])
            for start in range(0, len(draws), BLOCK):
                block = draws[start:start + BLOCK]
                root[block] = aggregate_tree(plan, leaves, cov, W[block])[..., -1]
    ranks = ranks_by_group(root, unit_groups)
    with warnings.catch_warnings():          # units never scored give all-NaN columns
        warnings.simplefilter("ignore", RuntimeWarning)
        med = np.nanmedian(ranks, axis=0)
        p05 = np.nanpercentile(ranks, 5, axis=0)
        p95 = np.nanpercentile(ranks, 95, axis=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        shift = np.nanmean(np.abs(ranks[:, target] - nominal_rank[None, target]), axis=1) if target.any() \
            else np.zeros(n_draws)
    shift = np.nan_to_num(shift)

    rows = []
    if names:
        if np.var(shift) > 0 and n_draws >= 20:
            res = rbd_fast.analyze(problem, X, shift, num_resamples=RBD_RESAMPLES, seed=seed)
            s1 = np.asarray(res["S1"], dtype=float)
        else:
            s1 = np.zeros(len(names))
        for name, group, s in zip(names, groups, s1):
            rows.append({"input": name, "group": group, "option": None, "S1": float(s),
                         "method": "rbd_fast first-order", "mean_abs_rank_shift": np.nan})
    # Group summaries. Summing many small rbd_fast indices would add up their estimation noise, so the
    # weights as a group get the adjusted R^2 of a linear fit of the output on all weight inputs, and each
    # discrete choice gets its correlation ratio eta^2 = Var(E[Y | option]) / Var(Y).
    var_y = float(np.var(shift))
    if len(weight_inputs):
        rows.append({"input": "weights (group)", "group": "weights", "option": None,
                     "S1": _adjusted_r2(X[:, : len(weight_inputs)], shift) if var_y > 0 else 0.0,
                     "method": "adjusted R2 of a linear fit", "mean_abs_rank_shift": float(shift.mean())})
    for name, idx, options in (("normalisation", norm_idx, normalisations), ("imputation", imp_idx, imputations)):
        if len(options) > 1:
            means = np.array([shift[idx == k].mean() if (idx == k).any() else np.nan for k in range(len(options))])
            counts = np.array([(idx == k).sum() for k in range(len(options))])
            eta2 = float(np.nansum(counts * (means - shift.mean()) ** 2) / n_draws / var_y) if var_y > 0 else 0.0
            rows.append({"input": f"{name} (group)", "group": name, "option": None, "S1": eta2,
                         "method": "correlation ratio eta2", "mean_abs_rank_shift": float(shift.mean())})
            for k, opt in enumerate(options):
                rows.append({"input": name, "group": name, "option": opt, "S1": np.nan,
                             "method": "mean |rank shift| in draws using this option",
                             "mean_abs_rank_shift": float(means[k])})
    sens = pd.DataFrame(rows, columns=["input", "group", "option", "S1", "method", "mean_abs_rank_shift"])
    inputs = pd.DataFrame(X, columns=names)
    inputs["normalisation"] = [normalisations[i] for i in norm_idx]
    inputs["imputation"] = [imputations[i] for i in imp_idx]
    inputs["mean_abs_rank_shift"] = shift
    return UncertaintyResult(ranks=ranks, nominal_rank=nominal_rank, rank_median=med, rank_p05=p05,
                             rank_p95=p95, sensitivity=sens, inputs=inputs, n_draws=n_draws)
