"""Weights: expert (from the framework or a file), equal, and data-driven (entropy, CRITIC, PCA).

Data-driven methods take a matrix of *normalised* values (rows units, columns indicators, NaN allowed;
rows with any NaN are dropped for the computation) and return weights that sum to 1. They are meant for
sensitivity analysis, not for the headline index: entropy weights follow dispersion only, so a feature
that nearly every city has gets almost no weight (web-assessment-methods.md section 5.3).

Effective weights answer "how much does each indicator actually drive the index?" once normalisation
and correlations are taken into account. We use the covariance (variance-contribution) decomposition:
for a linear index y = sum_i w_i x_i,  Var(y) = sum_i w_i Cov(x_i, y),  so
``S_i = w_i Cov(x_i, y) / Var(y)`` sums to 1 and gives each indicator's share of the index's variance.
An indicator with a large nominal weight but little variance (or one that runs against the others)
gets a small or negative S_i. We also report Pearson's r(x_i, y), the quantity COINr-style audits check.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from sgi.errors import ConfigError
from sgi.yamlconf import line_of, load_yaml

from scoring.framework import Framework, Node


def equal_weights(n: int) -> np.ndarray:
    return np.full(n, 1.0 / n)


def _complete_rows(X: np.ndarray) -> np.ndarray:
    X = np.asarray(X, dtype=float)
    return X[~np.isnan(X).any(axis=1)]


def entropy_weights(X: np.ndarray, shift: float = 1e-4) -> np.ndarray:
    """熵值法. Columns are min-max rescaled to [0, 1] (+ ``shift`` so logs exist), then
    p_ij = x_ij / sum_i x_ij, e_j = -(1/ln n) sum_i p_ij ln p_ij, w_j = (1 - e_j) / sum (1 - e_j).
    Equal weights if no column varies."""
    Z = _complete_rows(X)
    n, m = Z.shape
    if n < 2:
        return equal_weights(m)
    lo, hi = Z.min(axis=0), Z.max(axis=0)
    span = np.where(hi > lo, hi - lo, 1.0)
    Z = (Z - lo) / span + shift
    P = Z / Z.sum(axis=0)
    e = -(P * np.log(P)).sum(axis=0) / np.log(n)
    d = np.clip(1.0 - e, 0.0, None)
    return d / d.sum() if d.sum() > 0 else equal_weights(m)


def critic_weights(X: np.ndarray) -> np.ndarray:
    """CRITIC: C_j = sigma_j * sum_k (1 - r_jk) on min-max rescaled columns; w = C / sum C.
    Rewards contrast and low redundancy. Constant columns get weight 0 (equal weights if all are)."""
    Z = _complete_rows(X)
    n, m = Z.shape
    if n < 3:
        return equal_weights(m)
    lo, hi = Z.min(axis=0), Z.max(axis=0)
    varying = hi > lo
    Z = (Z - lo) / np.where(varying, hi - lo, 1.0)
    sigma = Z.std(axis=0, ddof=1)
    R = np.eye(m)
    if varying.sum() > 1:
        R[np.ix_(varying, varying)] = np.corrcoef(Z[:, varying], rowvar=False)
    C = sigma * (1.0 - R).sum(axis=1)
    C = np.where(varying, C, 0.0)
    return C / C.sum() if C.sum() > 0 else equal_weights(m)


def pca_weights(X: np.ndarray, min_eigenvalue: float = 1.0) -> np.ndarray:
    """PCA weights (Nicoletti et al., as in the OECD Handbook): on standardised columns, keep the
    components with eigenvalue >= ``min_eigenvalue`` (at least one); each indicator's weight is its
    squared loading on the component where it loads most, scaled by that component's share of the
    retained variance; weights are then normalised to 1."""
    Z = _complete_rows(X)
    n, m = Z.shape
    if n < 3 or m == 1:
        return equal_weights(m)
    sd = Z.std(axis=0, ddof=1)
    varying = sd > 0
    if varying.sum() < 2:
        w = varying.astype(float)
        return w / w.sum() if w.sum() else equal_weights(m)
    S = (Z[:, varying] - Z[:, varying].mean(axis=0)) / sd[varying]
    eigval, eigvec = np.linalg.eigh(np.corrcoef(S, rowvar=False))
    order = np.argsort(eigval)[::-1]
    eigval, eigvec = eigval[order], eigvec[:, order]
    keep = max(1, int((eigval >= min_eigenvalue).sum()))
    loadings = eigvec[:, :keep] * np.sqrt(np.clip(eigval[:keep], 0, None))
    sq = loadings ** 2
    sq = sq / sq.sum(axis=0)                               # squared loadings scaled to unity per component
    share = eigval[:keep] / eigval[:keep].sum()
    best = np.argmax(sq, axis=1)
    w_v = sq[np.arange(sq.shape[0]), best] * share[best]
    w = np.zeros(m)
    w[varying] = w_v
    return w / w.sum()


def data_driven_weights(X: np.ndarray, method: str) -> np.ndarray:
    if method == "equal":
        return equal_weights(np.shape(X)[1])
    if method == "entropy":
        return entropy_weights(X)
    if method == "critic":
        return critic_weights(X)
    if method == "pca":
        return pca_weights(X)
    raise ValueError(f"unknown weighting method {method!r}")


def apply_data_driven_weights(framework: Framework, normalised: pd.DataFrame, method: str) -> dict[str, float]:
    """Replace the local weights of the indicators inside each leaf group (a node whose children are all
    indicators) by ``method`` weights computed from ``normalised`` (columns = indicator codes). Node
    weights above the leaf groups stay as the framework declares them (experts set the top levels).
    Returns {indicator path: new local weight} and changes the framework's nodes in place."""
    changed: dict[str, float] = {}
    for node in framework.nodes():
        if node.is_indicator or not node.children or not all(c.is_indicator for c in node.children):
            continue
        codes = [c.code for c in node.children]
        X = normalised.reindex(columns=codes).to_numpy(dtype=float)
        w = data_driven_weights(X, method) if len(codes) > 1 else np.ones(1)
        for child, wi in zip(node.children, w):
            child.weight = float(wi)
            changed[child.path] = float(wi)
    return changed


def load_expert_weights(path: str | Path) -> dict[str, float]:
    """Expert weights from a YAML file ``{weights: {node_path: weight, ...}}`` (local weights, e.g. from
    a budget-allocation exercise or AHP). Paths must exist in the framework they are applied to."""
    data = load_yaml(path)
    if not isinstance(data, dict) or not isinstance(data.get("weights"), dict):
        raise ConfigError(str(path), line_of(data), "expected a mapping with a 'weights' mapping of node path -> weight")
    out: dict[str, float] = {}
    for key, value in data["weights"].items():
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
            raise ConfigError(str(path), data["weights"].line_of(key), f"{key}: weight must be a non-negative number")
        out[str(key)] = float(value)
    return out


def apply_expert_weights(framework: Framework, weights: dict[str, float], source: str = "<weights>") -> None:
    """Set local weights by node path; each parent's children must still sum to 1 (1e-6)."""
    by_path = {n.path: n for n in framework.nodes()}
    for p, w in weights.items():
        if p not in by_path:
            raise ConfigError(source, None, f"{p}: no such node in framework {framework.id}")
        by_path[p].weight = w
    for node in framework.nodes():
        if node.children and not framework.is_points:
            total = sum(c.weight for c in node.children)
            if abs(total - 1.0) > 1e-6:
                raise ConfigError(source, None, f"{node.path}: weights of its children sum to {total:.6g}, not 1")


def nominal_effective_weights(framework: Framework) -> dict[str, float]:
    """Product of local weights from the root to each indicator (what the index 'says' it weights)."""
    out: dict[str, float] = {}

    def walk(node: Node, acc: float) -> None:
        for c in node.children:
            if c.is_indicator:
                out[c.code] = acc * c.weight
            else:
                walk(c, acc * c.weight)
    walk(framework.root, 1.0)
    return out


def variance_contributions(normalised: pd.DataFrame, weights: pd.Series, index: pd.Series) -> pd.DataFrame:
    """Effective weights after normalisation (see module docstring): per indicator, the nominal weight,
    S_i = w_i Cov(x_i, y) / Var(y), and r(x_i, y). Computed on units with the index and the indicator
    observed (pairwise); the shares are scaled to sum to 1."""
    rows = []
    y = index.astype(float)
    var_y = y.var(ddof=1)
    for code in normalised.columns:
        x = normalised[code].astype(float)
        ok = x.notna() & y.notna()
        if ok.sum() < 3 or not np.isfinite(var_y) or var_y == 0:
            cov, r = np.nan, np.nan
        else:
            cov = float(np.cov(x[ok], y[ok], ddof=1)[0, 1])
            sx = x[ok].std(ddof=1)
            r = cov / (sx * y[ok].std(ddof=1)) if sx > 0 else np.nan
        w = float(weights.get(code, np.nan))
        rows.append({"indicator": code, "nominal_weight": w, "w_cov": w * cov, "corr_with_index": r})
    out = pd.DataFrame(rows)
    total = out["w_cov"].sum(skipna=True)
    # Dividing by sum_i w_i Cov(x_i, y) rather than Var(y) makes the shares sum to 1 whatever the index's
    # scale (points, 0..100, 60..100); for an exactly linear index the two are equal.
    out["effective_weight"] = out["w_cov"] / total if total else np.nan
    return out.drop(columns="w_cov")
