"""Build the whole sample web from a seed: each kind of site has its own generator module."""

from __future__ import annotations

import csv
import random
from datetime import date
from pathlib import Path

from sgi.sampleweb.model import SampleWeb

REFERENCE_DATE = date(2026, 6, 30)   # the sample web's 'today'; crawls of it use this as the crawl date
DEFAULT_SEED = 20260630

# (module, function) of every generator, in the order they run. Each gets its own random stream,
# so adding a generator never changes what the others produce.
GENERATORS = [
    ("sgi.sampleweb.portals", "add_portals"),
    ("sgi.sampleweb.mailbox", "add_boards"),
    ("sgi.sampleweb.apps", "add_apps"),
    ("sgi.sampleweb.opendata", "add_opendata"),
    ("sgi.sampleweb.policy", "add_policies"),
]


def build_sample_web(seed: int = DEFAULT_SEED, reference_date: date = REFERENCE_DATE) -> SampleWeb:
    import importlib

    web = SampleWeb(reference_date=reference_date, seed=seed)
    for index, (module, func) in enumerate(GENERATORS):
        rng = random.Random(f"{seed}:{module}:{index}")
        getattr(importlib.import_module(module), func)(web, rng)
    return web


def truth_value(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    return str(value)


def write_truth(web: SampleWeb, path: str | Path) -> int:
    """Write the ground truth as CSV: city_code, indicator, period, value, status."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    rows = sorted(web.truth, key=lambda r: (r.city_code, r.indicator, r.period))
    with open(path, "w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(["city_code", "indicator", "period", "value", "status"])
        for r in rows:
            writer.writerow([r.city_code, r.indicator, r.period, truth_value(r.value), r.status])
    return len(rows)
