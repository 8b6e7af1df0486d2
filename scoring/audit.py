"""Statistical audit of an index (Handbook step 4; COINr ``get_stats``, ``get_corr``, ``get_cronbach``).

What it reports, and why:

* coverage per indicator: share of applicable city-years with a value (a JRC audit flags < 65%);
* skewness / kurtosis and whether outlier treatment was applied;
* correlations between indicators of the same parent (r > 0.9: probably double counting) and of each
  indicator / node with its parent (r <= 0 or ~0: it does not measure what its parent measures);
* Cronbach's alpha per dimension (internal consistency of its indicators; 0.7 is the usual benchmark):
  alpha = k/(k-1) (1 - sum var_i / var(sum)), on normalised values with pairwise-complete covariances.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from scoring.normalise import skew_kurt

COLLINEAR_R = 0.9
WEAK_R = 0.1
LOW_COVERAGE = 0.65


def cronbach_alpha(X: np.ndarray) -> float:
    """Cronbach's alpha over the columns of X: k/(k-1) (1 - sum_i var_i / sum_ij cov_ij).

    Covariances are pairwise-complete (each pair over the rows where both are observed), so a few gaps
    spread over many indicators do not leave the audit without complete cases; with no gaps this is the
    textbook formula. NaN with fewer than 2 columns or 3 rows."""
    X = np.asarray(X, dtype=float)
    k = X.shape[1]
    if k < 2 or X.shape[0] < 3:
        return float("nan")
    C = pd.DataFrame(X).cov(min_periods=3).to_numpy()
    if np.isnan(C).any():
        return float("nan")
    total_var = C.sum()
    if total_var <= 0:
        return float("nan")
    return float(k / (k - 1) * (1 - np.trace(C) / total_var))


def _corr(a: pd.Series, b: pd.Series) -> float:
    ok = a.notna() & b.notna()
    if ok.sum() < 3 or a[ok].std() == 0 or b[ok].std() == 0:
        return float("nan")
    return float(np.corrcoef(a[ok], b[ok])[0, 1])


@dataclass
class Audit:
    indicators: pd.DataFrame                    # per indicator: coverage, n, skew, kurtosis, treatment
    parent_correlations: pd.DataFrame           # per node/indicator: r with its parent
    pair_correlations: pd.DataFrame             # pairs of sibling indicators with |r| >= 0.9 or r < 0
    cronbach: pd.DataFrame                      # per internal node: alpha over its leaves, k, n complete
    flags: list[str] = field(default_factory=list)


def run_audit(framework, plan, raw: pd.DataFrame, applicable: pd.DataFrame, normalised: pd.DataFrame,
              node_values: pd.DataFrame, treatments: dict[str, str]) -> Audit:
    """raw / normalised: (units x indicator codes); node_values: (units x node paths, incl. leaves)."""
    rows = []
    flags: list[str] = []
    for code in plan.leaf_codes:
        ap = applicable[code]
        n_ap = int(ap.sum())
        n_val = int((raw[code].notna() & ap).sum())
        cov = n_val / n_ap if n_ap else float("nan")
        s, k = skew_kurt(raw[code].to_numpy(dtype=float))
        rows.append({"indicator": code, "applicable": n_ap, "available": n_val, "coverage": cov,
                     "skew": s, "kurtosis": k, "treatment": treatments.get(code, "none")})
        if n_ap and cov < LOW_COVERAGE:
            flags.append(f"{code}: coverage {cov:.0%} is below {LOW_COVERAGE:.0%}")
    indicators = pd.DataFrame(rows)

    parent_rows, pair_rows, alpha_rows = [], [], []
    for node in framework.nodes():
        if node.is_indicator or not node.children:
            continue
        parent_series = node_values[node.path]
        for c in node.children:
            r = _corr(node_values[c.path], parent_series)
            parent_rows.append({"node": c.path, "parent": node.path, "r": r})
            if np.isfinite(r) and r < WEAK_R and len(node.children) > 1:
                flags.append(f"{c.path}: correlation with {node.path} is {r:.2f}")
        leaf_children = [c for c in node.children if c.is_indicator]
        for i, a in enumerate(leaf_children):
            for b in leaf_children[i + 1:]:
                r = _corr(normalised[a.code], normalised[b.code])
                if np.isfinite(r) and (abs(r) >= COLLINEAR_R or r < 0):
                    pair_rows.append({"parent": node.path, "a": a.code, "b": b.code, "r": r})
                    if abs(r) >= COLLINEAR_R:
                        flags.append(f"{a.code} and {b.code}: r = {r:.2f} (possible double counting)")
        leaves = [l.code for l in node.leaves()]
        X = normalised[leaves].to_numpy(dtype=float)
        alpha_rows.append({"node": node.path, "k": len(leaves),
                           "n_complete": int((~np.isnan(X).any(axis=1)).sum()), "alpha": cronbach_alpha(X)})
    return Audit(indicators=indicators,
                 parent_correlations=pd.DataFrame(parent_rows, columns=["node", "parent", "r"]),
                 pair_correlations=pd.DataFrame(pair_rows, columns=["parent", "a", "b", "r"]),
                 cronbach=pd.DataFrame(alpha_rows, columns=["node", "k", "n_complete", "alpha"]),
                 flags=flags)
