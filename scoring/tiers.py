"""Ranks and tiers.

Two ways of naming groups, both found in published indices:

* by score thresholds (Tsinghua provinces: 70 / 65 / 60 / 50; CSTC: 0.85 / 0.70): a unit is in the
  first tier (best first) whose ``min`` its score reaches;
* by rank share (Tsinghua cities: top 10%, 25%, 45%, 65%, rest). With n ranked units, a unit of rank r
  (1 = best) is in the first tier whose cumulative share s satisfies ``r <= floor(s * n)``, i.e. each
  cut-off is the share of n rounded *down*. For Tsinghua's 101 cities the cut-offs are floor(10.1) = 10,
  floor(25.25) = 25, floor(45.45) = 45, floor(65.65) = 65 and 101, giving 10 / 15 / 20 / 20 / 36 as
  published; rounding to nearest would give 66 at the fourth cut-off (10/15/20/21/35), which is not what
  was published. Equivalently: the tier of the smallest share s with r / n <= s. A tiny epsilon guards
  against float error in s * n (0.1 * 100 must give 10, not 9.999...). Tied units share the best
  rank ('min' method), so a tie across a cut-off puts all of them in the better tier.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from scoring.framework import TierScheme

_EPS = 1e-9


def rank_desc(values: np.ndarray | pd.Series, decimals: int = 9) -> np.ndarray:
    """Competition ranks (1 = highest; ties share the best rank, 'min' method); NaN stays NaN.
    Values are rounded to ``decimals`` first so float noise does not break ties."""
    v = pd.Series(np.asarray(values, dtype=float)).round(decimals)
    return v.rank(ascending=False, method="min").to_numpy()


def rank_share_cutoffs(n: int, shares: list[float] | tuple[float, ...]) -> list[int]:
    """The last rank of each tier: floor(share * n) (see module docstring)."""
    return [int(math.floor(s * n + _EPS)) for s in shares]


def tier_by_rank_share(ranks: np.ndarray, n: int, scheme: TierScheme) -> np.ndarray:
    names = [name for name, _ in scheme.levels]
    cut = rank_share_cutoffs(n, [s for _, s in scheme.levels])
    out = np.full(len(ranks), None, dtype=object)
    for i, r in enumerate(np.asarray(ranks, dtype=float)):
        if np.isnan(r):
            continue
        for name, c in zip(names, cut):
            if r <= c:
                out[i] = name
                break
        else:
            out[i] = names[-1]
    return out


def tier_by_score(values: np.ndarray, scheme: TierScheme) -> np.ndarray:
    out = np.full(len(values), None, dtype=object)
    for i, v in enumerate(np.asarray(values, dtype=float)):
        if np.isnan(v):
            continue
        for name, lo in scheme.levels:
            if v >= lo - _EPS:
                out[i] = name
                break
    return out


def assign_tiers(values: np.ndarray, scheme: TierScheme, ranks: np.ndarray | None = None) -> np.ndarray:
    """Tier names for one group of units (one period, one node). Ranks are computed from values
    unless given (e.g. a published rank order)."""
    values = np.asarray(values, dtype=float)
    if scheme.by == "score":
        return tier_by_score(values, scheme)
    if ranks is None:
        ranks = rank_desc(values)
    n = int(np.sum(~np.isnan(np.asarray(ranks, dtype=float))))
    return tier_by_rank_share(ranks, n, scheme)
