"""Benchmark: scoring 300 cities x 60 indicators x 7 years with 1,000 Monte Carlo draws.

The framework is synthetic (4 dimensions x 3 sub-dimensions x 5 indicators, declared as external
indicators) so the benchmark does not depend on the registry's size; data come from
:mod:`scoring.synthetic` with 5% of cells blocked and 5% never observed, so the missing-data paths run.
Run as a script to print the result; ``run()`` returns it as a dict.
"""

from __future__ import annotations

import json
import tempfile
import time
from pathlib import Path

TARGET_S = 10.0
N_CITIES, N_DIMS, N_SUBS, N_PER_SUB, N_YEARS, N_DRAWS = 300, 4, 3, 5, 7, 1000


def _framework_yaml() -> str:
    lines = ["id: bench-60", "name_zh: 基准测试框架", "aggregation: arithmetic",
             "normalisation: {method: minmax, range: [0, 100], scope: panel, treat_outliers: true}",
             "missing: {rule: reweight, min_coverage: 0.5, group_by: level}",
             "uncertainty: {weight_noise: 0.25, normalisations: [framework, zscore, rank], "
             "imputations: [framework, impute_group_median]}",
             "external_indicators:"]
    codes = [f"bench_d{d}_s{s}_i{i}" for d in range(N_DIMS) for s in range(N_SUBS) for i in range(N_PER_SUB)]
    lines += [f"  - {{code: {c}, name_zh: {c}}}" for c in codes]
    lines.append("dimensions:")
    for d in range(N_DIMS):
        lines += [f"  - code: dim{d}", f"    name_zh: 维度{d}", "    children:"]
        for s in range(N_SUBS):
            inds = ", ".join(f"bench_d{d}_s{s}_i{i}" for i in range(N_PER_SUB))
            lines.append(f"      - {{code: dim{d}_sub{s}, name_zh: 子维度{d}{s}, indicators: [{inds}]}}")
    return "\n".join(lines) + "\n"


def run() -> dict:
    from scoring.framework import load_framework
    from scoring.pipeline import run_scoring
    from scoring.synthetic import make_cities, make_observations

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bench-60.yaml"
        path.write_text(_framework_yaml(), encoding="utf-8")
        fw = load_framework(path)
    cities = make_cities(N_CITIES, seed=1)
    obs = make_observations(fw, cities, [str(y) for y in range(2017, 2017 + N_YEARS)], seed=1,
                            missing_share=0.05, blocked_share=0.05)
    start = time.perf_counter()
    result = run_scoring(obs, cities, fw, period=None, uncertainty=N_DRAWS, seed=0)
    seconds = time.perf_counter() - start
    assert len(result.index()) == N_CITIES * N_YEARS
    return {"scoring": {"value": round(seconds, 3), "unit": "s",
                        "target": "< 10 s for 300 cities x 60 indicators x 7 years + 1,000 Monte Carlo draws",
                        "ok": seconds < TARGET_S}}


if __name__ == "__main__":
    import sys
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))   # run from anywhere as a script
    print(json.dumps(run(), ensure_ascii=False, indent=2))
