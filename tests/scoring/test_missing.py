"""Missing-data rules: statuses mean what they say, and a missing value is never scored as zero."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from scoring.framework import ROOT
from scoring.missing import MissingDataError
from scoring.panel import build_panel, period_year_and_date
from scoring.pipeline import run_scoring

from tests.scoring.conftest import small_cities, small_observations, write_small


def _set(obs: pd.DataFrame, city: str, indicator: str, period: str, value, status: str) -> pd.DataFrame:
    obs = obs.copy()
    sel = (obs.city_code == city) & (obs.indicator == indicator) & (obs.period == period)
    assert sel.sum() == 1
    obs.loc[sel, "value"] = value
    obs.loc[sel, "status"] = status
    return obs


def _node(res, city: str, node: str, period: str = "2023") -> pd.Series:
    s = res.scores
    row = s[(s.city_code == city) & (s.node == node) & (s.period == period)]
    assert len(row) == 1
    return row.iloc[0]


def _leaf(res, city: str, code: str, period: str = "2023") -> pd.Series:
    c = res.contributions
    row = c[(c.city_code == city) & (c.indicator == code) & (c.period == period)]
    assert len(row) == 1
    return row.iloc[0]


@pytest.mark.parametrize("status,value", [("blocked", np.nan), ("error", np.nan), ("blocked", 0.0)])
def test_blocked_or_error_is_reweighted_never_zero(tmp_path, status, value):
    fw = write_small(tmp_path)
    cities, base = small_cities(), small_observations()
    obs = _set(base, "C00", "reply_rate", "2023", value, status)
    res = run_scoring(obs, cities, fw, period="2023")
    leaf = _leaf(res, "C00", "reply_rate")
    assert leaf["status"] == status
    assert np.isnan(leaf["raw"]) and np.isnan(leaf["normalised"])     # a blocked 0.0 is not a value
    assert leaf["weight"] == 0.0
    cap = _node(res, "C00", "capability")
    others = [_leaf(res, "C00", c)["normalised"] for c in ("site_search", "site_map")]
    assert cap["value"] == pytest.approx(np.mean(others))              # reweighted over the available two
    assert cap["coverage"] == pytest.approx(2 / 3)
    assert _node(res, "C00", ROOT)["coverage"] == pytest.approx(4 / 5)
    # scoring the same cell as a measured zero gives a different (lower) capability score
    zero = run_scoring(_set(base, "C00", "reply_rate", "2023", 0.0, "ok"), cities, fw, period="2023")
    assert _node(zero, "C00", "capability")["value"] < cap["value"] - 1.0
    assert _leaf(zero, "C00", "reply_rate")["normalised"] == 0.0


def test_impute_group_median_is_flagged_and_uses_the_group(tmp_path):
    fw = write_small(tmp_path, rule="impute_group_median")
    cities = small_cities()
    obs = _set(small_observations(), "C00", "reply_rate", "2023", np.nan, "blocked")
    res = run_scoring(obs, cities, fw, period="2023")
    leaf = _leaf(res, "C00", "reply_rate")
    # C00 is in 东部 with C04 only; the group median is C04's value
    c04 = _leaf(res, "C04", "reply_rate")
    assert leaf["imputed"] and leaf["raw"] == pytest.approx(c04["raw"]) and leaf["status"] == "blocked"
    assert not c04["imputed"]
    assert _node(res, "C00", "capability")["imputed"] == 1
    assert _node(res, "C00", "effect")["imputed"] == 0
    assert _node(res, "C00", ROOT)["imputed"] == 1
    assert res.contributions["imputed"].sum() == 1
    assert "[imputed]" in res.explain("C00")
    assert next(s for s in res.steps if s["step"] == "missing")["result"]["imputed_cells"] == 1


def test_impute_group_median_falls_back_to_year_median_when_group_is_empty(tmp_path):
    fw = write_small(tmp_path, rule="impute_group_median")
    obs = small_observations()
    for c in ("C00", "C04"):                       # the whole 东部 group blocked
        obs = _set(obs, c, "reply_rate", "2023", np.nan, "blocked")
    res = run_scoring(obs, small_cities(), fw, period="2023")
    year_values = obs[(obs.indicator == "reply_rate") & (obs.period == "2023") & (obs.status == "ok")]["value"]
    assert _leaf(res, "C00", "reply_rate")["raw"] == pytest.approx(year_values.median())


def test_carry_forward_takes_last_year(tmp_path):
    fw = write_small(tmp_path, rule="carry_forward")
    obs = _set(small_observations(), "C03", "app_rating_mean", "2023", np.nan, "error")
    res = run_scoring(obs, small_cities(), fw, period="2023")
    leaf = _leaf(res, "C03", "app_rating_mean")
    last_year = obs[(obs.city_code == "C03") & (obs.indicator == "app_rating_mean") & (obs.period == "2022")]
    assert leaf["imputed"] and leaf["raw"] == pytest.approx(last_year["value"].iloc[0])


def test_fail_rule_stops_and_names_the_cell(tmp_path):
    fw = write_small(tmp_path, rule="fail")
    obs = _set(small_observations(), "C05", "site_map", "2023", np.nan, "blocked")
    with pytest.raises(MissingDataError, match="2023/C05/site_map"):
        run_scoring(obs, small_cities(), fw)
    run_scoring(small_observations(), small_cities(), fw)     # complete data passes


def test_not_applicable_is_excluded_from_coverage_and_never_imputed(tmp_path):
    obs = _set(small_observations(), "C01", "app_rating_mean", "2023", np.nan, "not_applicable")
    for rule in ("reweight", "impute_group_median"):
        res = run_scoring(obs, small_cities(), write_small(tmp_path, rule=rule), period="2023")
        eff = _node(res, "C01", "effect")
        assert eff["coverage"] == 1.0 and _node(res, "C01", ROOT)["coverage"] == 1.0
        leaf = _leaf(res, "C01", "app_rating_mean")
        assert not leaf["imputed"] and np.isnan(leaf["raw"])
        assert eff["value"] == pytest.approx(_leaf(res, "C01", "reply_delay_median_days")["normalised"])


def test_min_coverage_makes_a_thin_node_missing(tmp_path):
    obs = small_observations()
    for code in ("site_search", "site_map", "reply_rate"):
        obs = _set(obs, "C02", code, "2023", np.nan, "blocked")
    res = run_scoring(obs, small_cities(), write_small(tmp_path, min_coverage=0.5), period="2023")
    assert np.isnan(_node(res, "C02", "capability")["value"])
    idx = _node(res, "C02", ROOT)
    assert idx["coverage"] == pytest.approx(0.4) and np.isnan(idx["value"]) and np.isnan(idx["rank"])
    assert idx["tier"] is None
    # with a lower floor the index is the effect score alone (capability is missing, not zero)
    res = run_scoring(obs, small_cities(), write_small(tmp_path, min_coverage=0.3), period="2023")
    assert np.isnan(_node(res, "C02", "capability")["value"])
    assert _node(res, "C02", ROOT)["value"] == pytest.approx(_node(res, "C02", "effect")["value"])


def test_absent_boolean_is_a_measured_zero_and_no_row_is_missing(tmp_path):
    obs = _set(small_observations(), "C03", "site_search", "2023", np.nan, "absent")
    obs = obs[~((obs.city_code == "C04") & (obs.indicator == "site_map") & (obs.period == "2023"))]
    res = run_scoring(obs, small_cities(), write_small(tmp_path), period="2023")
    absent = _leaf(res, "C03", "site_search")
    assert absent["raw"] == 0.0 and absent["normalised"] == 0.0 and absent["weight"] > 0
    assert _node(res, "C03", "capability")["coverage"] == 1.0
    gone = _leaf(res, "C04", "site_map")
    assert np.isnan(gone["raw"]) and gone["status"] == ""
    assert _node(res, "C04", "capability")["coverage"] == pytest.approx(2 / 3)
    assert "(no observation)" in res.explain("C04", "2023")


def test_latest_observation_in_the_year_is_used():
    assert period_year_and_date("R365:2024-01-15")[0] == 2024
    assert period_year_and_date("2023")[1] == pd.Timestamp("2023-12-31")
    obs = pd.DataFrame([
        ("C00", "reply_rate", "2023-03-01", 0.2, "ok"),
        ("C00", "reply_rate", "2023-09-01", 0.8, "ok"),
        ("C00", "reply_rate", "R365:2024-01-15", 0.5, "ok"),
        ("C00", "site_search", "2023-09-01", np.nan, "absent"),
        ("C00", "site_search", "2023-10-01", np.nan, "blocked"),     # later but not a value: still missing
    ], columns=["city_code", "indicator", "period", "value", "status"])
    panel = build_panel(obs, ["reply_rate", "site_search"], ["C00"], bool_codes={"site_search"})
    assert panel.years == ["2023", "2024"]
    assert panel.raw.loc[("2023", "C00"), "reply_rate"] == 0.8
    assert panel.raw.loc[("2024", "C00"), "reply_rate"] == 0.5
    assert np.isnan(panel.raw.loc[("2023", "C00"), "site_search"])
    assert panel.status.loc[("2023", "C00"), "site_search"] == "blocked"
    with pytest.raises(ValueError, match="unknown status"):
        build_panel(obs.assign(status="missing"), ["reply_rate"], ["C00"])
