"""Normalisation: put indicators on a common, direction-aware scale (Handbook step 5; COINr ``Normalise``).

All functions take a 2-D array ``X`` (rows: units, i.e. city-years; columns: indicators) with NaN for
missing values, and a ``direction`` vector (+1 more is better, -1 less is better). NaN stays NaN: a
missing value is never turned into a number here. Columns are independent.

Thresholds (min, max, mean, ...) are computed over all rows passed in. The pipeline passes the whole
panel of cities AND years by default, as Renmin's efficacy-coefficient method does, so that scores are
comparable over time; pass one year's rows to get per-year thresholds.

Constant columns (max == min, including a single observed value) carry no information to rank on; they
get the top of the scale (every unit is as good as the best observed) rather than NaN or a division by
zero. For z-scores they get 0 (the mean).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
from scipy import stats

SKEW_LIMIT = 2.0        # COINr Treat(): |skew| > 2 ...
KURT_LIMIT = 3.5        # ... and (excess) kurtosis > 3.5 flags a column for treatment
WINSOR_MAX = 5          # COINr winmax: at most 5 points winsorised per column


def _oriented(X: np.ndarray, direction: np.ndarray) -> np.ndarray:
    """Flip negative indicators so larger is always better (x -> -x keeps distances)."""
    return X * np.where(np.asarray(direction) < 0, -1.0, 1.0)


def _colstats(X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Column min and max ignoring NaN (an all-NaN column gives NaN, silently)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return np.nanmin(X, axis=0), np.nanmax(X, axis=0)


def minmax(X: np.ndarray, direction: np.ndarray, low: float = 0.0, high: float = 100.0) -> np.ndarray:
    """Linear rescaling to [low, high]; the best observed value gets ``high``. Constant column -> high."""
    Z = _oriented(np.asarray(X, dtype=float), direction)
    lo, hi = _colstats(Z)
    span = hi - lo
    with np.errstate(invalid="ignore", divide="ignore"):
        frac = np.where(span > 0, (Z - lo) / np.where(span > 0, span, 1.0), 1.0)
    frac = np.where(np.isnan(Z), np.nan, frac)
    return low + (high - low) * frac


def efficacy_coefficient(X: np.ndarray, direction: np.ndarray) -> np.ndarray:
    """功效系数法 with min/max thresholds: 60 + 40 (x - min) / (max - min); negatives reversed.

    Values lie in [60, 100]; a constant column scores 100 (see module docstring).
    """
    return minmax(X, direction, 60.0, 100.0)


def zscore(X: np.ndarray, direction: np.ndarray, mean: float = 0.0, sd: float = 1.0) -> np.ndarray:
    """Standardise to the given mean and sd (COINr ``n_zscore``); constant column -> ``mean``."""
    Z = _oriented(np.asarray(X, dtype=float), direction)
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        mu = np.nanmean(Z, axis=0)
        s = np.nanstd(Z, axis=0, ddof=1)
        out = np.where(s > 0, (Z - mu) / np.where(s > 0, s, 1.0), 0.0)
    return np.where(np.isnan(Z), np.nan, mean + sd * out)


def rank_percentile(X: np.ndarray, direction: np.ndarray, low: float = 0.0, high: float = 100.0) -> np.ndarray:
    """Percentile rank (average rank for ties) mapped to (low, high]: the best unit gets ``high``."""
    Z = _oriented(np.asarray(X, dtype=float), direction)
    out = np.full(Z.shape, np.nan)
    for j in range(Z.shape[1]):
        ok = ~np.isnan(Z[:, j])
        n = ok.sum()
        if n:
            out[ok, j] = stats.rankdata(Z[ok, j], method="average") / n
    return low + (high - low) * out


def distance_to_target(X: np.ndarray, direction: np.ndarray, target: np.ndarray,
                       low: float = 0.0, high: float = 100.0) -> np.ndarray:
    """Goalposts: the worst observed value scores ``low``, reaching the target scores ``high`` (capped).

    Useful where a policy target exists (e.g. reply rate 100%, freshness within 14 days). A NaN target
    falls back to the best observed value, i.e. plain min-max.
    """
    X = np.asarray(X, dtype=float)
    d = np.where(np.asarray(direction) < 0, -1.0, 1.0)
    Z = X * d
    lo, hi = _colstats(Z)
    tgt = np.where(np.isnan(np.asarray(target, dtype=float)), hi, np.asarray(target, dtype=float) * d)
    span = tgt - lo
    with np.errstate(invalid="ignore", divide="ignore"):
        frac = np.where(span > 0, (Z - lo) / np.where(span > 0, span, 1.0), 1.0)
    frac = np.clip(frac, 0.0, 1.0)
    return np.where(np.isnan(Z), np.nan, low + (high - low) * frac)


def normalise(X: np.ndarray, direction: np.ndarray, method: str, low: float = 0.0, high: float = 100.0,
              target: np.ndarray | None = None) -> np.ndarray:
    """Dispatch by method name (the names used in framework files)."""
    if method == "minmax":
        return minmax(X, direction, low, high)
    if method == "efficacy_coefficient":
        return efficacy_coefficient(X, direction)
    if method == "zscore":
        return zscore(X, direction)
    if method == "rank":
        return rank_percentile(X, direction, low, high)
    if method == "distance_to_target":
        tgt = np.full(np.shape(X)[1], np.nan) if target is None else target
        return distance_to_target(X, direction, tgt, low, high)
    if method == "none":
        return np.asarray(X, dtype=float).copy()
    raise ValueError(f"unknown normalisation {method!r}")


# ------------------------------------------------------------------------------------ outlier treatment

@dataclass(frozen=True)
class Treatment:
    """What :func:`treat_outliers` did to one column (reported in the pipeline log and audit)."""
    column: int
    skew_before: float
    kurt_before: float
    action: str             # 'none' | 'winsorised' | 'log'
    points_winsorised: int
    skew_after: float
    kurt_after: float


def skew_kurt(x: np.ndarray) -> tuple[float, float]:
    """Sample skewness and excess kurtosis of the non-missing values (NaN if fewer than 4 values)."""
    x = x[~np.isnan(x)]
    if x.size < 4 or np.ptp(x) == 0:
        return float("nan"), float("nan")
    return float(stats.skew(x, bias=False)), float(stats.kurtosis(x, fisher=True, bias=False))


def _flagged(skew: float, kurt: float) -> bool:
    return bool(np.isfinite(skew) and abs(skew) > SKEW_LIMIT and kurt > KURT_LIMIT)


def treat_outliers(X: np.ndarray, winmax: int = WINSOR_MAX) -> tuple[np.ndarray, list[Treatment]]:
    """COINr's rule: a column with |skew| > 2 and kurtosis > 3.5 is winsorised one point at a time
    (the most extreme value on the skewed side is set to the next one) up to ``winmax`` points; if it is
    still flagged, the original column is log-transformed instead (log(x - min + 1), which keeps order
    and handles zeros). Only columns that were treated appear in the returned list.
    """
    X = np.array(X, dtype=float, copy=True)
    report: list[Treatment] = []
    for j in range(X.shape[1]):
        col = X[:, j]
        s0, k0 = skew_kurt(col)
        if not _flagged(s0, k0):
            continue
        work = col.copy()
        ok = ~np.isnan(work)
        n_w = 0
        s, k = s0, k0
        while _flagged(s, k) and n_w < winmax:
            vals = work[ok]
            if s > 0:
                top = vals.max()
                below = vals[vals < top]
                if below.size == 0:
                    break
                work[ok & (work == top)] = below.max()
            else:
                bot = vals.min()
                above = vals[vals > bot]
                if above.size == 0:
                    break
                work[ok & (work == bot)] = above.min()
            n_w += 1
            s, k = skew_kurt(work)
        if not _flagged(s, k):
            X[:, j] = work
            report.append(Treatment(j, s0, k0, "winsorised", n_w, s, k))
            continue
        logged = col.copy()
        if s0 > 0:
            logged[ok] = np.log(col[ok] - np.nanmin(col) + 1.0)
        else:   # left-skewed: mirror, log, mirror back (keeps the order)
            logged[ok] = -np.log(np.nanmax(col) - col[ok] + 1.0)
        X[:, j] = logged
        s2, k2 = skew_kurt(logged)
        report.append(Treatment(j, s0, k0, "log", 0, s2, k2))
    return X, report
