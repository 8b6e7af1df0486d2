"""The indicator registry: every raw indicator defined once (sgi/data/indicators.yaml)."""

from __future__ import annotations

from dataclasses import dataclass
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

    @property
    def is_text(self) -> bool:
        return self.unit == "text"


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
        out[code] = Indicator(**{f: entry[f] for f in FIELDS})
    return out


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
