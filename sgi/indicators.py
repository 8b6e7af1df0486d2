"""The indicator registry: every raw indicator defined once (sgi/data/indicators.yaml)."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from importlib import resources
from pathlib import Path

from sgi.errors import ConfigError
from sgi.yamlconf import line_of, load_yaml, require_keys

UNITS = {"bool", "count", "share", "days", "bytes", "ms", "text", "per_10k", "rating", "chars", "per_10k_chars"}
SOURCES = {"portal", "opendata", "mailbox", "policy", "app", "dns", "import"}
DIMENSIONS = {"organization", "institution", "capability", "effect", "descriptive"}
PERIODS = {"crawl_date", "year", "rolling365"}
FIELDS = ("code", "name_zh", "name_en", "unit", "direction", "source", "dimension", "period", "rule")
# The values each unit admits, (min, max) with None for open: checked wherever values enter (crawl, import,
# override). An indicator narrows or widens its unit's range with `range: [min, max]` in indicators.yaml.
UNIT_RANGES: dict[str, tuple[float | None, float | None]] = {
    "bool": (0, 1), "count": (0, None), "share": (0, 1), "days": (0, None), "bytes": (0, None), "ms": (0, None),
    "per_10k": (0, None), "rating": (0, 5), "chars": (0, None), "per_10k_chars": (0, None)}


@dataclass(frozen=True)
class Indicator:
    code: str
    name_zh: str
    name_en: str
    unit: str
    direction: int
    source: str
    dimension: str
    period: str
    rule: str
    value_range: tuple[float | None, float | None] | None = None   # None: the unit's (UNIT_RANGES)

    @property
    def is_text(self) -> bool:
        return self.unit == "text"

    @property
    def bounds(self) -> tuple[float | None, float | None]:
        return self.value_range or UNIT_RANGES.get(self.unit, (None, None))


def default_path() -> Path:
    return Path(str(resources.files("sgi") / "data" / "indicators.yaml"))


def load_indicators(path: str | Path | None = None) -> dict[str, Indicator]:
    path = Path(path) if path else default_path()
    data = load_yaml(path)
    if not isinstance(data, dict) or "indicators" not in data:
        raise ConfigError(str(path), line_of(data), "expected a mapping with an 'indicators' list")
    out: dict[str, Indicator] = {}
    for entry in data["indicators"]:
        require_keys(str(path), entry, FIELDS, what="indicator")
        code = entry["code"]
        checks = [("unit", UNITS), ("source", SOURCES), ("dimension", DIMENSIONS), ("period", PERIODS)]
        for field, allowed in checks:
            if entry[field] not in allowed:
                raise ConfigError(str(path), line_of(entry, field),
                                  f"indicator {code}: {field} {entry[field]!r} is not one of {sorted(allowed)}")
        if entry["direction"] not in (-1, 0, 1):
            raise ConfigError(str(path), line_of(entry, "direction"), f"indicator {code}: direction must be -1, 0 or 1")
        if code in out:
            raise ConfigError(str(path), line_of(entry), f"indicator {code} is defined twice")
        out[code] = Indicator(**{f: entry[f] for f in FIELDS}, value_range=_range(path, entry))
    return out


def _range(path: Path, entry: dict) -> tuple[float | None, float | None] | None:
    given = entry.get("range")
    if given is None:
        return None
    ok = isinstance(given, list) and len(given) == 2 and all(
        v is None or (isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)) for v in given)
    if not ok or (None not in given and given[0] > given[1]):
        raise ConfigError(str(path), line_of(entry, "range"),
                          f"indicator {entry['code']}: range must be [min, max] (numbers or null, min <= max), got {given!r}")
    return (given[0], given[1])


@lru_cache(maxsize=1)
def registry() -> dict[str, Indicator]:
    """The shipped registry, loaded once per process."""
    return load_indicators()


def get(code: str) -> Indicator:
    try:
        return registry()[code]
    except KeyError:
        raise ConfigError(str(default_path()), None, f"unknown indicator code {code!r}",
                          "run `sgi indicators` to list the codes") from None


@lru_cache(maxsize=1)
def external_codes() -> dict[str, str]:
    """Indicators the crawler cannot measure, declared by the shipped frameworks for imported tables
    (statistical-yearbook figures): code -> Chinese name. Their definition lives in the framework file."""
    from scoring.framework import load_framework, shipped_frameworks

    out: dict[str, str] = {}
    for name in shipped_frameworks():
        for code, ext in load_framework(name).external.items():
            out.setdefault(code, ext.name_zh)
    return out


def require_known(code: str) -> None:
    """A registry code or a framework-declared external code; anything else is an error."""
    if code in registry() or code in external_codes():
        return
    get(code)   # raises the registry's error with its hint


@lru_cache(maxsize=1)
def external_units() -> dict[str, str]:
    """The unit a framework declares for an external indicator ('index', a free number, by default)."""
    from scoring.framework import load_framework, shipped_frameworks

    out: dict[str, str] = {}
    for name in shipped_frameworks():
        for code, ext in load_framework(name).external.items():
            out.setdefault(code, ext.unit)
    return out


def bounds(code: str) -> tuple[float | None, float | None]:
    """The (min, max) a value of indicator ``code`` may take; None is open."""
    if code in registry():
        return registry()[code].bounds
    return UNIT_RANGES.get(external_units().get(code, "index"), (None, None))


def _number(value: float) -> str:
    """1,000,000,000 and 0.35 rather than 1e+09 and 0.350000."""
    return f"{int(value):,}" if float(value).is_integer() and abs(value) < 1e15 else f"{value:g}"


def _range_text(low: float | None, high: float | None) -> str:
    if low is not None and high is not None:
        return f"between {_number(low)} and {_number(high)}"
    if low is not None:
        return f"at least {_number(low)}"
    return f"at most {_number(high)}" if high is not None else "a finite number"


def value_problem(code: str, value: float) -> str | None:
    """Why ``value`` cannot be a value of indicator ``code`` (not finite, outside its unit's range, not
    0/1 for a yes/no indicator), or None when it can. The one check crawl, import and override share."""
    if isinstance(value, bool):
        value = float(value)
    if not isinstance(value, (int, float)) or not math.isfinite(value):
        return f"{code}: {value!r} is not a finite number"
    low, high = bounds(code)
    unit = registry()[code].unit if code in registry() else external_units().get(code, "index")
    if unit == "bool" and value not in (0, 1):
        return f"{code} is yes/no (1 or 0), not {_number(value)}"
    if (low is not None and value < low) or (high is not None and value > high):
        return f"{code} ({unit}) must be {_range_text(low, high)}, not {_number(value)}"
    return None


_PERIOD_SHAPE = re.compile(r"^(?:(\d{4})|(\d{4}-\d{2}-\d{2})|R365:(\d{4}-\d{2}-\d{2}))$")


def period_problem(period: str) -> str | None:
    """Why ``period`` is not a period (YYYY, a real date YYYY-MM-DD, or R365:YYYY-MM-DD), or None."""
    match = _PERIOD_SHAPE.match(period or "")
    if not match:
        return f"period {period!r} is not YYYY, YYYY-MM-DD or R365:YYYY-MM-DD"
    year, day, rolling = match.groups()
    try:
        date.fromisoformat(day or rolling) if (day or rolling) else date(int(year), 1, 1)
    except ValueError:
        return f"period {period!r} is not a real date"
    return None
