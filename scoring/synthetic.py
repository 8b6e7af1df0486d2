"""Synthetic cities and observations shaped like a framework, for tests, benchmarks and demos.

Values have a latent 'city quality' factor so indicators correlate as real ones do; booleans are
thresholded, counts are skewed (log-normal). Nothing here is real data.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from sgi.indicators import registry

from scoring.framework import Framework, load_framework

REGIONS = ("东部", "中部", "西部", "东北")
LEVELS = ("直辖市", "副省级", "省会", "地级")


def make_cities(n: int, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    codes = [f"{110000 + 100 * i:06d}" for i in range(n)]
    level = np.where(np.arange(n) < 4, "直辖市", np.where(np.arange(n) < 19, "副省级",
                     np.where(np.arange(n) < 36, "省会", "地级")))
    return pd.DataFrame({"code": codes, "name": [f"城市{i}" for i in range(n)],
                         "province": [f"省{i % 31}" for i in range(n)],
                         "region": rng.choice(REGIONS, size=n), "level": level})


def make_observations(framework: str | Framework, cities: pd.DataFrame, years: list[str] | range,
                      seed: int = 0, missing_share: float = 0.0, blocked_share: float = 0.0) -> pd.DataFrame:
    """One observation per city, indicator and year. ``missing_share`` of cells get no row at all,
    ``blocked_share`` get status 'blocked' with a NaN value."""
    fw = load_framework(framework)
    reg = registry()
    rng = np.random.default_rng(seed)
    codes = fw.indicator_codes()
    directions = np.array([n.direction for n in fw.indicators()], dtype=float)
    n, m = len(cities), len(codes)
    quality = rng.normal(size=n)
    loadings = rng.uniform(0.3, 0.9, size=m)
    frames = []
    for t, year in enumerate(years):
        latent = quality[:, None] * loadings[None, :] + rng.normal(scale=0.8, size=(n, m)) + 0.1 * t
        vals = np.empty((n, m))
        for j, code in enumerate(codes):
            unit = reg[code].unit if code in reg else "index"
            x = latent[:, j] * directions[j]        # good cities get low values on negative indicators
            if unit == "bool":
                vals[:, j] = (x > -0.3).astype(float)
            elif unit in ("count", "per_10k", "chars"):
                vals[:, j] = np.round(np.exp(1.5 + 0.8 * x))
            elif unit == "share":
                vals[:, j] = 1 / (1 + np.exp(-x))
            elif unit == "days":
                vals[:, j] = np.exp(2.5 + 0.5 * x)
            elif unit == "rating":
                vals[:, j] = np.clip(3.5 + 0.6 * x, 1, 5)
            else:
                vals[:, j] = 50 + 10 * x
        status = np.full((n, m), "ok", dtype=object)
        is_bool = np.array([(reg[c].unit == "bool") if c in reg else False for c in codes])
        status[(vals == 0) & is_bool[None, :]] = "absent"
        u = rng.uniform(size=(n, m))
        blocked = u < blocked_share
        status[blocked] = "blocked"
        vals[blocked] = np.nan
        keep = u >= blocked_share + missing_share
        keep |= blocked
        frames.append(pd.DataFrame({
            "city_code": np.repeat(cities["code"].astype(str).to_numpy(), m)[keep.reshape(-1)],
            "indicator": np.tile(codes, n)[keep.reshape(-1)],
            "period": str(year),
            "value": vals.reshape(-1)[keep.reshape(-1)],
            "status": status.reshape(-1)[keep.reshape(-1)],
        }))
    return pd.concat(frames, ignore_index=True)
