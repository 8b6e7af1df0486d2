"""From long observations to a city-year panel of raw values and statuses (the scoring input).

Observations have one row per (city_code, indicator, period) with a value and a status. Periods are
'YYYY' (a year), 'YYYY-MM-DD' (a crawl date) or 'R365:YYYY-MM-DD' (a rolling 365 days ending that day).
A period *falls in* the year of its (end) date; to score a year we take, per city and indicator, the
latest observation falling in that year ('YYYY' counts as 31 December, so a yearly figure wins over a
crawl in the same year only if nothing later exists).

Statuses decide what is a value:

============== ============================================================ =====================
status          meaning                                                        in the panel
============== ============================================================ =====================
ok              measured                                                       value
absent          measured and not there (a real zero for booleans)              value (NaN -> 0)
blocked, error  we could not measure it                                        MISSING (never 0)
not_applicable  the indicator does not apply to this city                     excluded entirely
(no row)        nothing collected                                              MISSING
============== ============================================================ =====================

Missing cells count in coverage denominators; not_applicable cells do not.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import pandas as pd

STATUSES = ("ok", "absent", "blocked", "error", "not_applicable")
VALUE_STATUSES = ("ok", "absent")
_PERIOD = re.compile(r"^(?:R365:)?(\d{4})(?:-(\d{2})-(\d{2}))?$")


def period_year_and_date(period: str) -> tuple[int, pd.Timestamp]:
    """('2023' -> 2023, 2023-12-31), ('2023-05-01' -> 2023, that day), ('R365:2023-05-01' -> same)."""
    m = _PERIOD.match(str(period).strip())
    if not m:
        raise ValueError(f"unrecognised period {period!r} (expected YYYY, YYYY-MM-DD or R365:YYYY-MM-DD)")
    year = int(m.group(1))
    if m.group(2):
        return year, pd.Timestamp(year=year, month=int(m.group(2)), day=int(m.group(3)))
    return year, pd.Timestamp(year=year, month=12, day=31)


@dataclass
class Panel:
    """Raw values and statuses for units = (year, city_code) x indicators.

    ``raw`` holds values where the cell counts as a value (ok / absent), NaN elsewhere.
    ``applicable`` is False for not_applicable cells. ``observed`` is True where a value exists.
    """
    raw: pd.DataFrame                 # index MultiIndex (period, city_code); columns indicator codes
    status: pd.DataFrame              # same shape, status strings ('' where no observation)
    applicable: pd.DataFrame          # bool
    years: list[str]
    cities: list[str]

    @property
    def observed(self) -> pd.DataFrame:
        return self.raw.notna()


def build_panel(observations: pd.DataFrame, codes: list[str], city_codes: list[str] | None = None,
                bool_codes: set[str] | frozenset[str] = frozenset()) -> Panel:
    """Pivot observations into the panel. Unknown statuses are an error (no silent coercion)."""
    need = {"city_code", "indicator", "period", "value", "status"}
    missing_cols = need - set(observations.columns)
    if missing_cols:
        raise ValueError(f"observations lack columns: {', '.join(sorted(missing_cols))}")
    obs = observations.loc[observations["indicator"].isin(codes),
                           ["city_code", "indicator", "period", "value", "status"]].copy()
    bad = set(obs["status"].astype(str).unique()) - set(STATUSES)
    if bad:
        raise ValueError(f"unknown status values: {', '.join(sorted(bad))} (allowed: {', '.join(STATUSES)})")
    obs["city_code"] = obs["city_code"].astype(str)
    parsed = {p: period_year_and_date(p) for p in obs["period"].astype(str).unique()}
    obs["year"] = obs["period"].astype(str).map(lambda p: str(parsed[p][0]))
    obs["date"] = obs["period"].astype(str).map(lambda p: parsed[p][1])
    obs["value"] = pd.to_numeric(obs["value"], errors="coerce").astype(float)
    # latest observation per (year, city, indicator)
    obs = obs.sort_values(["year", "city_code", "indicator", "date"], kind="stable")
    obs = obs.drop_duplicates(["year", "city_code", "indicator"], keep="last")
    absent_bool = (obs["status"] == "absent") & obs["value"].isna() & obs["indicator"].isin(bool_codes)
    obs.loc[absent_bool, "value"] = 0.0
    is_value = obs["status"].isin(VALUE_STATUSES)
    obs["cell"] = obs["value"].where(is_value)
    years = sorted(obs["year"].unique())
    cities = sorted(set(city_codes or []) | set(obs["city_code"].unique()))
    index = pd.MultiIndex.from_product([years, cities], names=["period", "city_code"])
    raw = obs.pivot(index=["year", "city_code"], columns="indicator", values="cell")
    raw.index.names = ["period", "city_code"]
    raw = raw.reindex(index=index, columns=codes).astype(float)
    status = obs.pivot(index=["year", "city_code"], columns="indicator", values="status")
    status.index.names = ["period", "city_code"]
    status = status.reindex(index=index, columns=codes).astype(object)
    status = status.where(status.notna(), "")
    applicable = status != "not_applicable"
    return Panel(raw=raw, status=status, applicable=applicable, years=years, cities=cities)
