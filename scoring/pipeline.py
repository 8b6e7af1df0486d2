"""The scoring pipeline: observations in, a documented composite index out.

Modelled on COINr / the OECD-JRC Handbook: the index is a sequence of explicit steps, each logged
with its parameters in ``ScoreResult.steps`` so a score can be reproduced and audited:

 1. ``framework``   load and validate the framework (tree, weights, methods)
 2. ``panel``       latest observation per city, indicator and year; statuses -> values / missing / n.a.
 3. ``missing``     the framework's missing-data rule (imputed cells flagged)
 4. ``treat``       optional outlier treatment (|skew| > 2 and kurtosis > 3.5)
 5. ``normalise``   thresholds over all cities and years (or per year)
 6. ``weights``     expert weights from the file, or data-driven ones inside leaf groups
 7. ``aggregate``   level by level, reweighting over available children with a coverage floor
 8. ``rank_tier``   ranks within each period and node; tiers for the index
 9. ``audit``       coverage, correlations, Cronbach's alpha, effective weights
10. ``uncertainty`` Monte Carlo over weights, normalisation and imputation (if requested)

Entry point: :func:`run_scoring`.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from sgi.indicators import registry

from scoring import normalise as norm
from scoring.aggregate import Plan, aggregate_tree, compile_plan, effective_weights, leaf_coverage, report_scale
from scoring.audit import Audit, run_audit
from scoring.framework import ROOT, Framework, load_framework
from scoring.missing import apply_missing_rule
from scoring.panel import Panel, build_panel
from scoring.tiers import assign_tiers, rank_desc
from scoring.uncertainty import UncertaintyResult, monte_carlo
from scoring.weights import apply_data_driven_weights, nominal_effective_weights, variance_contributions

SCORE_COLUMNS = ["city_code", "framework", "node", "period", "value", "rank", "tier", "coverage", "imputed",
                 "contribution"]


@dataclass
class Prepared:
    """Leaf matrix for one (normalisation, missing rule) choice, on all panel rows."""
    raw: pd.DataFrame            # raw values after imputation (and before treatment)
    treated: pd.DataFrame        # after outlier treatment
    normalised: pd.DataFrame     # on the framework's scale (fractions for points frameworks)
    imputed: pd.DataFrame        # bool
    available: np.ndarray        # (U, L) bool
    coverage: np.ndarray         # (U, I)
    treatments: dict[str, str]
    missing_summary: dict


@dataclass
class ScoreResult:
    framework: Framework
    scores: pd.DataFrame
    contributions: pd.DataFrame
    steps: list[dict[str, Any]]
    audit: Audit | None = None
    sensitivity: pd.DataFrame | None = None
    uncertainty: UncertaintyResult | None = None
    effective_weights: pd.DataFrame | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def index(self, period: str | None = None) -> pd.DataFrame:
        """Index rows only (node 'total'), optionally for one period, best first."""
        s = self.scores[self.scores["node"] == ROOT]
        if period is not None:
            s = s[s["period"] == str(period)]
        return s.sort_values(["period", "rank"]).reset_index(drop=True)

    def explain(self, city_code: str, period: str | None = None) -> str:
        """A printable tree for one city: each node's value (rank, coverage), and per indicator the raw
        value, normalised value, effective weight in the index and contribution."""
        city_code = str(city_code)
        sc = self.scores[self.scores["city_code"] == city_code]
        if sc.empty:
            raise KeyError(f"no scores for city {city_code!r}")
        period = str(period) if period is not None else max(sc["period"])
        sc = sc[sc["period"] == period].set_index("node")
        ct = self.contributions[(self.contributions["city_code"] == city_code)
                                & (self.contributions["period"] == period)].set_index("path")
        fw = self.framework
        unit = "points" if fw.is_points else "score"
        lines = [f"{fw.id} ({fw.name_zh}) - city {city_code}, period {period}, {fw.aggregation} aggregation, "
                 f"{fw.normalisation.method} normalisation"]

        def fmt(x: Any, nd: int = 2) -> str:
            return "NA" if x is None or (isinstance(x, float) and np.isnan(x)) else f"{x:.{nd}f}"

        def walk(node, depth: int) -> None:
            pad = "  " * depth
            if node.is_indicator:
                r = ct.loc[node.path] if node.path in ct.index else None
                if r is None:
                    return
                flag = " [imputed]" if bool(r["imputed"]) else ""
                status = f" ({r['status']})" if r["status"] not in ("ok", "") else ""
                if r["status"] == "":
                    status = " (no observation)"
                lines.append(f"{pad}- {node.code} {node.name_zh}: raw={fmt(r['raw'], 3)}{status}{flag} "
                             f"norm={fmt(r['normalised'], 3)} weight={fmt(r['weight'], 4)} "
                             f"contribution={fmt(r['contribution'], 3)}")
                return
            r = sc.loc[node.path] if node.path in sc.index else None
            if r is not None:
                tier = f" tier={r['tier']}" if isinstance(r["tier"], str) else ""
                rank = f" rank={int(r['rank'])}" if pd.notna(r["rank"]) else ""
                lines.append(f"{pad}{node.code} {node.name_zh}: {unit}={fmt(r['value'])}{rank}{tier} "
                             f"coverage={fmt(r['coverage'])} imputed={int(r['imputed'])}")
            for c in node.children:
                walk(c, depth + 1)
        walk(fw.root, 0)
        return "\n".join(lines)


# ------------------------------------------------------------------------------------------- helpers

def _norm_range(fw: Framework, method: str) -> tuple[float, float]:
    if fw.is_points:
        return 0.0, 1.0
    if method == fw.normalisation.method:
        return fw.normalisation.range
    if method == "efficacy_coefficient":
        return 60.0, 100.0
    lo, hi = fw.normalisation.range
    return (lo, hi) if method in ("minmax", "rank", "distance_to_target") else (0.0, 100.0)


def _normalise_frame(fw: Framework, plan: Plan, X: pd.DataFrame, method: str) -> pd.DataFrame:
    leaves = fw.indicators()
    direction = np.array([n.direction for n in leaves], dtype=float)
    target = np.array([np.nan if n.target is None else n.target for n in leaves])
    lo, hi = _norm_range(fw, method)
    if fw.normalisation.scope == "period":
        parts = []
        for _, block in X.groupby(level="period", sort=False):
            parts.append(pd.DataFrame(norm.normalise(block.to_numpy(float), direction, method, lo, hi, target),
                                      index=block.index, columns=X.columns))
        out = pd.concat(parts).reindex(X.index)
    else:
        out = pd.DataFrame(norm.normalise(X.to_numpy(float), direction, method, lo, hi, target),
                           index=X.index, columns=X.columns)
    if fw.is_points and method in ("zscore", "none"):
        pass        # unbounded scales are only used for ranking in the Monte Carlo
    return out


def prepare(panel: Panel, cities: pd.DataFrame, fw: Framework, plan: Plan, method: str, rule: str) -> Prepared:
    filled = apply_missing_rule(panel, cities, rule, fw.missing.group_by, fw.missing.fallback)
    treated = filled.raw
    treatments: dict[str, str] = {}
    if fw.normalisation.treat_outliers:
        arr, report = norm.treat_outliers(filled.raw.to_numpy(float))
        treated = pd.DataFrame(arr, index=filled.raw.index, columns=filled.raw.columns)
        for t in report:
            code = filled.raw.columns[t.column]
            treatments[code] = (f"{t.action}" + (f" ({t.points_winsorised} points)" if t.action == "winsorised" else "")
                                + f"; skew {t.skew_before:.2f} -> {t.skew_after:.2f}, "
                                  f"kurtosis {t.kurt_before:.2f} -> {t.kurt_after:.2f}")
    normalised = _normalise_frame(fw, plan, treated, method)
    available = normalised.notna().to_numpy() & panel.applicable.to_numpy()
    normalised = normalised.where(available)
    coverage = leaf_coverage(plan, available, panel.applicable.to_numpy())
    return Prepared(raw=filled.raw, treated=treated, normalised=normalised, imputed=filled.imputed,
                    available=available, coverage=coverage, treatments=treatments, missing_summary=filled.summary)


def _check_cities(cities: pd.DataFrame) -> pd.DataFrame:
    if "code" not in cities.columns:
        raise ValueError("cities must have a 'code' column (plus name, province, region, level)")
    out = cities.copy()
    out["code"] = out["code"].astype(str)
    return out


# ------------------------------------------------------------------------------------------ entry point

def run_scoring(observations: pd.DataFrame, cities: pd.DataFrame, framework: str | Framework,
                period: str | None = None, uncertainty: int = 0, seed: int = 0) -> ScoreResult:
    """Score cities with a framework.

    observations: city_code, indicator, period ('YYYY' | 'YYYY-MM-DD' | 'R365:YYYY-MM-DD'), value, status.
    cities: code, name, province, region, level (group columns for imputation).
    period: the year to report ('2023'); None reports every year in the data. Normalisation thresholds
        use all years unless the framework says scope: period.
    uncertainty: number of Monte Carlo draws (0 = none). seed fixes the draws; results are deterministic.
    """
    steps: list[dict[str, Any]] = []
    fw = copy.deepcopy(load_framework(framework))
    steps.append({"step": "framework", "params": {"id": fw.id, "source": fw.source, "aggregation": fw.aggregation,
                                                   "indicators": len(fw.indicators()), "nodes": len(fw.nodes())}})
    cities = _check_cities(cities)
    plan = compile_plan(fw)
    reg = registry()
    bool_codes = {c for c in plan.leaf_codes if c in reg and reg[c].unit == "bool"}
    # The evaluated cities are those with at least one observation (any status) for the framework's
    # indicators; cities in the table that were never crawled are not scored at all.
    panel = build_panel(observations, plan.leaf_codes, None, bool_codes)
    if not panel.years:
        raise ValueError(f"no observations for any indicator of framework {fw.id}")
    unknown = sorted(set(panel.cities) - set(cities["code"]))
    not_observed = len(set(cities["code"]) - set(panel.cities))
    steps.append({"step": "panel", "params": {"years": panel.years, "cities": len(panel.cities),
                                               "rule": "latest observation per city, indicator and year; "
                                                       "ok/absent are values, blocked/error missing, "
                                                       "not_applicable excluded"},
                  "result": {"cells": int(panel.raw.size), "values": int(panel.observed.to_numpy().sum()),
                             "not_applicable": int((~panel.applicable).to_numpy().sum()),
                             "rows_for_other_indicators_ignored": int((~observations["indicator"].isin(plan.leaf_codes)).sum()),
                             "cities_not_in_city_table": unknown[:20],
                             "cities_without_observations_skipped": not_observed}})
    if period is not None:
        period = str(period)
        if period not in panel.years:
            raise ValueError(f"period {period!r} has no observations (years in data: {', '.join(panel.years)})")
    report_years = [period] if period is not None else list(panel.years)

    method = fw.normalisation.method
    cache: dict[tuple[str, str], Prepared] = {}

    def get(method_: str, rule_: str) -> Prepared:
        key = (method_, rule_)
        if key not in cache:
            cache[key] = prepare(panel, cities, fw, plan, method_, rule_)
        return cache[key]

    prep = get(method, fw.missing.rule)
    steps.append({"step": "missing", "params": {"rule": fw.missing.rule, "min_coverage": fw.missing.min_coverage,
                                                 "group_by": fw.missing.group_by, "fallback": fw.missing.fallback},
                  "result": prep.missing_summary})
    steps.append({"step": "treat", "params": {"enabled": fw.normalisation.treat_outliers,
                                               "rule": "|skew| > 2 and kurtosis > 3.5: winsorise <= 5 points, else log"},
                  "result": prep.treatments})
    steps.append({"step": "normalise", "params": {"method": method, "range": list(_norm_range(fw, method)),
                                                   "scope": fw.normalisation.scope}})

    if fw.weight_method != "expert":
        changed = apply_data_driven_weights(fw, prep.normalised, fw.weight_method)
        plan = compile_plan(fw)
        steps.append({"step": "weights", "params": {"method": fw.weight_method, "scope": "indicators within leaf groups"},
                      "result": changed})
    else:
        steps.append({"step": "weights", "params": {"method": "expert (framework file)"},
                      "result": {p: w for p, w in zip(plan.edge_paths, plan.edge_weight.tolist())}})

    values = aggregate_tree(plan, prep.normalised.to_numpy(float), prep.coverage)
    steps.append({"step": "aggregate", "params": {"method": fw.aggregation, "min_coverage": plan.min_coverage,
                                                   "missing": "weights rescaled over available children"}})

    # ---- assemble scores
    units = prep.normalised.index
    unit_period = units.get_level_values("period").to_numpy()
    unit_city = units.get_level_values("city_code").to_numpy()
    scale = report_scale(plan, fw)
    L = plan.n_leaves
    node_vals = values[:, L:] * scale[None, :]
    imputed_leaf = prep.imputed.to_numpy()
    imputed_counts = np.stack([imputed_leaf[:, ls].sum(axis=1) for ls in plan.leaf_sets], axis=1)
    eff_leaf, eff_node = effective_weights(plan, values)
    root_scale = scale[-1]
    additive = fw.aggregation != "geometric"
    node_contrib = (eff_node * values[:, L:] * root_scale) if additive else np.full(node_vals.shape, np.nan)
    frames = []
    for k, path in enumerate(plan.node_paths):
        frames.append(pd.DataFrame({"city_code": unit_city, "framework": fw.id, "node": path, "period": unit_period,
                                    "value": node_vals[:, k], "coverage": prep.coverage[:, k],
                                    "imputed": imputed_counts[:, k], "contribution": node_contrib[:, k]}))
    scores = pd.concat(frames, ignore_index=True)
    scores = scores[scores["period"].isin(report_years)].copy()
    scores["rank"] = scores.groupby(["period", "node"])["value"].transform(lambda v: pd.Series(rank_desc(v), index=v.index))
    scores["tier"] = None
    scheme = fw.tier_scheme()
    if scheme is not None:
        for p in report_years:
            sel = (scores["node"] == ROOT) & (scores["period"] == p)
            scores.loc[sel, "tier"] = assign_tiers(scores.loc[sel, "value"].to_numpy(), scheme,
                                                   scores.loc[sel, "rank"].to_numpy())
    node_order = {n.path: i for i, n in enumerate(fw.nodes())}
    scores["_o"] = scores["node"].map(node_order)
    scores = scores.sort_values(["period", "_o", "rank", "city_code"], na_position="last").drop(columns="_o")
    scores = scores.reset_index(drop=True)[SCORE_COLUMNS]
    steps.append({"step": "rank_tier", "params": {"ranks": "1 = best within period and node, ties share the best rank",
                                                   "tiers": None if scheme is None else
                                                   {"scheme": scheme.name, "by": scheme.by, "levels": list(scheme.levels)}}})

    # ---- contributions (per city, period, indicator)
    status = panel.status.to_numpy()
    rows = {
        "city_code": np.repeat(unit_city, L), "period": np.repeat(unit_period, L),
        "indicator": np.tile(plan.leaf_codes, len(units)), "path": np.tile(plan.leaf_paths, len(units)),
        "status": status.reshape(-1), "raw": prep.raw.to_numpy(float).reshape(-1),
        "normalised": prep.normalised.to_numpy(float).reshape(-1),
        "weight": eff_leaf.reshape(-1), "imputed": imputed_leaf.reshape(-1),
    }
    contributions = pd.DataFrame(rows)
    with np.errstate(invalid="ignore", divide="ignore"):
        if additive:
            contributions["contribution"] = contributions["weight"] * contributions["normalised"].fillna(0.0) * root_scale
        else:
            contributions["contribution"] = contributions["weight"] * np.log(contributions["normalised"])
    contributions.loc[contributions["weight"] == 0, "contribution"] = np.where(
        contributions.loc[contributions["weight"] == 0, "normalised"].notna(), 0.0, np.nan)
    contributions = contributions[contributions["period"].isin(report_years)].reset_index(drop=True)

    # ---- audit and effective weights
    node_frame = pd.DataFrame(values, index=units, columns=plan.all_paths)
    audit = run_audit(fw, plan, prep.raw, panel.applicable, prep.normalised, node_frame, prep.treatments)
    nominal_w = pd.Series(nominal_effective_weights(fw))
    eff = variance_contributions(prep.normalised, nominal_w, node_frame[ROOT])
    steps.append({"step": "audit", "params": {"effective_weights": "S_i = w_i Cov(x_i, y) / sum_j w_j Cov(x_j, y)",
                                               "cronbach": "per internal node over its leaves, pairwise-complete covariances"},
                  "result": {"flags": audit.flags[:50]}})

    result = ScoreResult(framework=fw, scores=scores, contributions=contributions, steps=steps, audit=audit,
                         effective_weights=eff)

    # ---- uncertainty
    if uncertainty and uncertainty > 0:
        spec = fw.uncertainty
        norms = [method if n == "framework" else n for n in spec.normalisations]
        imps = [fw.missing.rule if m == "framework" else m for m in spec.imputations]
        if fw.aggregation == "geometric":
            norms = [n for n in norms if n not in ("zscore", "none")]
        norms = list(dict.fromkeys(norms))
        imps = list(dict.fromkeys(imps))

        def prep_fn(m: str, r: str) -> tuple[np.ndarray, np.ndarray]:
            pr = get(m, r)
            return pr.normalised.to_numpy(float), pr.coverage

        target = np.isin(unit_period, report_years)
        unc = monte_carlo(plan, prep_fn, unit_period, target, int(uncertainty), seed, spec.weight_noise, norms, imps)
        result.uncertainty = unc
        result.sensitivity = unc.sensitivity
        idx = pd.MultiIndex.from_arrays([unit_city, unit_period])
        for col, arr in (("rank_median", unc.rank_median), ("rank_p05", unc.rank_p05), ("rank_p95", unc.rank_p95)):
            s = pd.Series(arr, index=idx)
            is_root = result.scores["node"] == ROOT
            keys = pd.MultiIndex.from_arrays([result.scores["city_code"], result.scores["period"]])
            result.scores[col] = np.where(is_root, s.reindex(keys).to_numpy(), np.nan)
        steps.append({"step": "uncertainty", "params": {"draws": int(uncertainty), "seed": seed,
                                                         "weight_noise": spec.weight_noise, "normalisations": norms,
                                                         "imputations": imps, "sampling": "SALib latin",
                                                         "sensitivity": "SALib rbd_fast on mean |rank shift|"}})
    return result
