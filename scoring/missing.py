"""Missing-data rules (Handbook step 3; COINr ``Impute`` / ``impute_panel``). One rule per framework.

* ``reweight``: no imputation; aggregation averages over the available children and a node with too
  little coverage is missing (see :mod:`scoring.aggregate`).
* ``impute_group_median``: a missing raw value is the median of the same indicator, same year, over the
  cities in the same group (region or administrative level); if the group has no value, the median over
  all cities that year.
* ``carry_forward``: a missing value takes the same city's latest earlier year with a value.
* ``fail``: any missing applicable cell stops the run, listing the cells.

Imputation runs on raw values before normalisation. Every imputed cell is flagged (``imputed`` mask),
and not_applicable cells are never imputed. Gaps an imputation could not fill are left to the
framework's ``fallback`` (reweight or fail). Nothing here ever writes a zero for a missing value.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from scoring.panel import Panel


class MissingDataError(ValueError):
    """Raised by the ``fail`` rule (or fallback) when applicable cells are missing."""


@dataclass
class Filled:
    raw: pd.DataFrame          # raw values after imputation (NaN where still missing or not applicable)
    imputed: pd.DataFrame      # bool: this cell was imputed
    rule: str
    summary: dict


def _missing_mask(panel: Panel, raw: pd.DataFrame) -> pd.DataFrame:
    return raw.isna() & panel.applicable


def impute_group_median(panel: Panel, cities: pd.DataFrame, group_by: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    raw = panel.raw.copy()
    miss = _missing_mask(panel, raw)
    groups = cities.set_index(cities["code"].astype(str))[group_by] if group_by in cities.columns else pd.Series(dtype=object)
    city_level = raw.index.get_level_values("city_code")
    group = pd.Series(city_level.map(lambda c: groups.get(c, None)), index=raw.index)
    year = pd.Series(raw.index.get_level_values("period"), index=raw.index)
    source = panel.raw.where(panel.applicable)
    by_group = source.groupby([year, group.fillna("__none__")]).transform("median")
    by_year = source.groupby(year).transform("median")
    fill = by_group.copy()
    fill.loc[~group.notna().to_numpy()] = np.nan       # unknown group: use the year's median
    fill = fill.fillna(by_year)
    out = raw.where(~miss, fill)
    imputed = miss & out.notna()
    return out, imputed


def carry_forward(panel: Panel) -> tuple[pd.DataFrame, pd.DataFrame]:
    raw = panel.raw.copy()
    miss = _missing_mask(panel, raw)
    # forward fill within each city over years (index is sorted by period then city)
    by_city = raw.where(panel.applicable).swaplevel().sort_index()
    filled = by_city.groupby(level="city_code").ffill().swaplevel().sort_index()
    filled = filled.reindex(raw.index)
    out = raw.where(~miss, filled)
    imputed = miss & out.notna()
    return out, imputed


def _fail(panel: Panel, raw: pd.DataFrame, limit: int = 10) -> None:
    miss = _missing_mask(panel, raw)
    if miss.to_numpy().any():
        cells = miss.stack()
        cells = cells[cells]
        listing = ", ".join(f"{p}/{c}/{i} ({panel.status.loc[(p, c), i] or 'no observation'})"
                            for (p, c, i) in list(cells.index)[:limit])
        raise MissingDataError(f"{int(miss.to_numpy().sum())} missing applicable values, e.g. {listing}")


def apply_missing_rule(panel: Panel, cities: pd.DataFrame, rule: str, group_by: str = "level",
                       fallback: str = "reweight") -> Filled:
    n_missing = int(_missing_mask(panel, panel.raw).to_numpy().sum())
    if rule == "fail":
        _fail(panel, panel.raw)
        raw, imputed = panel.raw.copy(), pd.DataFrame(False, index=panel.raw.index, columns=panel.raw.columns)
    elif rule == "reweight":
        raw, imputed = panel.raw.copy(), pd.DataFrame(False, index=panel.raw.index, columns=panel.raw.columns)
    elif rule == "impute_group_median":
        raw, imputed = impute_group_median(panel, cities, group_by)
    elif rule == "carry_forward":
        raw, imputed = carry_forward(panel)
    else:
        raise ValueError(f"unknown missing-data rule {rule!r}")
    if fallback == "fail" and rule != "fail":
        _fail(panel, raw)
    summary = {"missing_cells": n_missing, "imputed_cells": int(imputed.to_numpy().sum()),
               "still_missing": int(_missing_mask(panel, raw).to_numpy().sum()),
               "not_applicable_cells": int((~panel.applicable).to_numpy().sum())}
    return Filled(raw=raw, imputed=imputed, rule=rule, summary=summary)
