"""Health checks of a nightly run, configured in data (sgi/data/health.yaml).

The checks read the numbers of a run report (sgi.nightly.build_report: computed from the database), so a
check never looks at the crawl itself and works for a run crawled anywhere. Each check returns a
CheckResult with pass/fail, the numbers it compared and, for a first run, a note instead of a comparison.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from sgi.errors import ConfigError
from sgi.yamlconf import LineDict, line_of, load_yaml, require_keys

DEFAULT_HEALTH_FILE = Path(__file__).parent / "data" / "health.yaml"
HARVEST_TABLES = ("message", "dataset", "policy_document", "app_snapshot")
FETCH_STATUSES = ("ok", "blocked", "error", "not_found", "robots_denied", "not_modified", "reused")


@dataclass(frozen=True)
class Check:
    kind: str
    params: dict
    name: str
    origin: str          # file:line, shown in the report so an operator finds the threshold to tune


@dataclass
class CheckResult:
    check: str
    name: str
    passed: bool
    summary: str
    failures: list = field(default_factory=list)
    note: str = ""
    origin: str = ""

    def as_dict(self) -> dict:
        return {"check": self.check, "name": self.name, "passed": self.passed, "summary": self.summary,
                "failures": self.failures, "note": self.note, "origin": self.origin}


# --- configuration ----------------------------------------------------------------------------------

def _number(path, entry, key, *, low: float, high: float | None, integer: bool = False):
    value = entry[key]
    ok_type = isinstance(value, int) if integer else isinstance(value, (int, float))
    if isinstance(value, bool) or not ok_type or value < low or (high is not None and value > high):
        bound = f"between {low} and {high}" if high is not None else f"at least {low}"
        kind = "an integer" if integer else "a number"
        raise ConfigError(path, line_of(entry, key), f"{key} must be {kind} {bound}, got {value!r}")
    return value


def _string_list(path, entry, key, allowed: tuple[str, ...]) -> list[str]:
    value = entry[key]
    if not isinstance(value, list) or not value or not all(isinstance(v, str) for v in value):
        raise ConfigError(path, line_of(entry, key), f"{key} must be a non-empty list of names")
    unknown = [v for v in value if v not in allowed]
    if unknown:
        raise ConfigError(path, line_of(entry, key), f"unknown {key} value {unknown[0]!r}",
                          f"use one of: {', '.join(allowed)}")
    return list(value)


# check kind -> (defaults, validator of the fields beyond check/name/enabled)
def _v_coverage(path, e):
    return {"max_drop": _number(path, e, "max_drop", low=0, high=1),
            "min_cities": _number(path, e, "min_cities", low=1, high=None, integer=True)}


def _v_blocked(path, e):
    return {"statuses": _string_list(path, e, "statuses", FETCH_STATUSES)}


def _v_items(path, e):
    return {"tables": _string_list(path, e, "tables", HARVEST_TABLES),
            "ratio": _number(path, e, "ratio", low=0, high=1),
            "min_previous": _number(path, e, "min_previous", low=0, high=None, integer=True)}


def _v_none(path, e):
    return {}


CHECK_KINDS: dict[str, tuple[dict, Callable]] = {
    "coverage_drop": ({"max_drop": 0.2, "min_cities": 1}, _v_coverage),
    "city_fully_blocked": ({"statuses": ["blocked", "error", "robots_denied"]}, _v_blocked),
    "items_halved": ({"tables": list(HARVEST_TABLES), "ratio": 0.5, "min_previous": 2}, _v_items),
    "zero_observations": ({}, _v_none),
    "spider_without_responses": ({}, _v_none),
    "scoring_failed": ({}, _v_none),
}


def load_checks(path: str | Path | None = None) -> list[Check]:
    """Load and validate a health file; every error names file:line."""
    path = Path(path) if path else DEFAULT_HEALTH_FILE
    data = load_yaml(path)
    where = str(path)
    if not isinstance(data, dict) or "checks" not in data:
        raise ConfigError(where, line_of(data), "a health file is a mapping with a 'checks' list")
    unknown = [k for k in data if k != "checks"]
    if unknown:
        raise ConfigError(where, line_of(data, unknown[0]), f"unknown top-level key {unknown[0]!r} (allowed: checks)")
    entries = data["checks"]
    if not isinstance(entries, list):
        raise ConfigError(where, line_of(data, "checks"), "'checks' must be a list of checks")
    checks, names = [], {}
    for entry in entries:
        require_keys(where, entry, ["check"], what="health check")
        kind = entry["check"]
        if kind not in CHECK_KINDS:
            raise ConfigError(where, line_of(entry, "check"), f"unknown check {kind!r}",
                              f"use one of: {', '.join(CHECK_KINDS)}")
        defaults, validate = CHECK_KINDS[kind]
        require_keys(where, entry, ["check"], allowed=["name", "enabled", *defaults], what=f"check {kind}")
        enabled = entry.get("enabled", True)
        if not isinstance(enabled, bool):
            raise ConfigError(where, line_of(entry, "enabled"), f"enabled must be true or false, got {enabled!r}")
        name = entry.get("name", kind)
        if not isinstance(name, str) or not name:
            raise ConfigError(where, line_of(entry, "name"), "name must be a non-empty text")
        if name in names:
            raise ConfigError(where, line_of(entry), f"duplicate check name {name!r} (first at line {names[name]})",
                              "give one of them a distinct 'name'")
        names[name] = line_of(entry)
        params = validate(where, _with_defaults(entry, defaults))
        if enabled:
            checks.append(Check(kind, params, name, f"{where}:{line_of(entry)}"))
    return checks


def _with_defaults(entry: LineDict, defaults: dict) -> LineDict:
    """The entry's fields over the defaults, keeping the entry's line numbers for error messages."""
    merged = LineDict({**defaults, **entry})
    merged.line, merged.key_lines = entry.line, dict(entry.key_lines)
    return merged


# --- evaluation -------------------------------------------------------------------------------------

def run_checks(report: dict, checks: list[Check]) -> list[CheckResult]:
    results = []
    for check in checks:
        result = EVALUATORS[check.kind](report, **check.params)
        result.name, result.origin = check.name, check.origin
        results.append(result)
    return results


def _first_run_note(report: dict) -> str:
    return "" if report.get("previous") else "first run: nothing to compare with, passes"


def check_coverage_drop(report: dict, *, max_drop: float, min_cities: int) -> CheckResult:
    note = _first_run_note(report)
    rows = [r for r in report["coverage"] if r.get("previous_coverage") is not None
            and r["common_cities"] >= min_cities]
    failures = [{"indicator": r["indicator"], "previous": r["previous_coverage"], "now": r["common_coverage"],
                 "drop": round(r["previous_coverage"] - r["common_coverage"], 4), "cities": r["common_cities"]}
                for r in rows if r["previous_coverage"] - r["common_coverage"] > max_drop + 1e-9]
    summary = (f"{len(failures)} of {len(rows)} indicators lost more than {max_drop:.0%} coverage"
               if not note else note)
    return CheckResult("coverage_drop", "", not failures, summary, failures, note)


def check_city_fully_blocked(report: dict, *, statuses: list[str]) -> CheckResult:
    failures = []
    cities = [c for c in report["cities"] if c["city_code"]]   # robots.txt and the like belong to no city
    for city in cities:
        pages = city["pages"]
        bad = sum(city["status"].get(s, 0) for s in statuses)
        if pages and bad == pages:
            failures.append({"city_code": city["city_code"], "city_name": city["city_name"], "pages": pages,
                             "status": {s: n for s, n in city["status"].items() if n}})
    summary = f"{len(failures)} of {len(cities)} cities had every page {'/'.join(statuses)}"
    return CheckResult("city_fully_blocked", "", not failures, summary, failures)


def check_items_halved(report: dict, *, tables: list[str], ratio: float, min_previous: int) -> CheckResult:
    note = _first_run_note(report)
    rows = [r for r in report["items"] if r["table"] in tables and r.get("previous_seen") is not None
            and r["previous_seen"] >= max(min_previous, 1)]
    failures = [{"table": r["table"], "city_code": r["city_code"], "previous": r["previous_seen"], "now": r["seen"]}
                for r in rows if r["seen"] < ratio * r["previous_seen"]]
    summary = (f"{len(failures)} of {len(rows)} (table, city) counts fell below {ratio:g}× the previous run"
               if not note else note)
    return CheckResult("items_halved", "", not failures, summary, failures, note)


def check_zero_observations(report: dict) -> CheckResult:
    n = report["run"]["observations"]
    return CheckResult("zero_observations", "", n > 0, f"{n} observations stored",
                       [] if n else [{"observations": 0}])


def check_spider_without_responses(report: dict) -> CheckResult:
    """Every request of a spider failed without an HTTP answer; or a spider that recorded pages in the previous
    run recorded none now. (Pages reused from the archive were not requested; a spider without pages in
    either run simply had no source among the run's cities.)"""
    failures = [{"spider": s["spider"], "requested": s["requested"], "responses": s["responses"]}
                for s in report["spiders"] if s["requested"] and s["responses"] == 0]
    before = (report.get("previous") or {}).get("spider_pages") or {}
    for name in report["run"]["spiders"]:
        if not any(s["spider"] == name for s in report["spiders"]) and before.get(name):
            failures.append({"spider": name, "pages": 0, "responses": 0, "previous_pages": before[name]})
    return CheckResult("spider_without_responses", "", not failures,
                       f"{len(failures)} of {len(report['run']['spiders'])} spiders got no HTTP answer", failures)


def check_scoring_failed(report: dict) -> CheckResult:
    scoring = report.get("scoring") or {}
    if not scoring.get("ran"):
        return CheckResult("scoring_failed", "", True, "scoring not part of this report", note="not scored")
    ok = not scoring.get("error") and scoring.get("cities", 0) > 0
    summary = (f"scored {scoring.get('cities', 0)} cities with {scoring.get('framework')}" if ok
               else f"scoring failed: {scoring.get('error') or 'no city scored'}")
    return CheckResult("scoring_failed", "", ok, summary, [] if ok else [{"error": scoring.get("error") or "no city scored"}])


EVALUATORS: dict[str, Callable[..., CheckResult]] = {
    "coverage_drop": check_coverage_drop,
    "city_fully_blocked": check_city_fully_blocked,
    "items_halved": check_items_halved,
    "zero_observations": check_zero_observations,
    "spider_without_responses": check_spider_without_responses,
    "scoring_failed": check_scoring_failed,
}
