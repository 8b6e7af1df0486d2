"""The source file: what to crawl for each city, and how.

A source is one site of one city: its government portal, open-data platform, mayor's mailbox, policy
library or app page. The shipped list is ``sgi/data/sources.yaml``; users may point at their own YAML or
CSV file instead. Everything is validated on load, and every error names the file and line, because
these files are maintained by hand by people who are not programmers.
"""

from __future__ import annotations

import csv
import ipaddress
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Sequence
from urllib.parse import urlsplit

from sgi.cities import CityIndex, CityInfo, city_index, data_path
from sgi.errors import ConfigError, SgiError
from sgi.yamlconf import line_of, load_yaml, require_keys

KINDS = ("portal", "opendata", "mailbox", "policy", "app")
REQUIRED_FIELDS = ("city", "kind", "name", "start_url")
OPTIONAL_FIELDS = ("allowed_domains", "verified", "options", "notes")
CSV_COLUMNS = ("city", "kind", "name", "start_url", "allowed_domains", "verified", "notes")

# Second-level labels under which names are handed out like top-level domains (sz.gov.cn, not gov.cn,
# is what one organisation owns). Covers the Chinese public-sector web; other sites can always list
# allowed_domains explicitly.
_SHARED_SECOND_LEVEL = {"gov", "com", "net", "org", "edu", "ac", "mil"}
# Reserved test/local names (RFC 6761): the sample web serves www.sz.gov.cn.test, whose registrable
# domain should be sz.gov.cn.test, mirroring the real host.
_RESERVED_TLDS = {"test", "localhost", "local", "invalid", "example"}
_HOST_LABEL = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$")


@dataclass(frozen=True)
class Source:
    city_code: str
    kind: str                                   # portal | opendata | mailbox | policy | app
    name: str
    start_url: str
    allowed_domains: tuple[str, ...]            # the crawl never leaves these domains (and their subdomains)
    verified: bool = False                      # true once a real crawl confirmed the site
    options: dict = field(default_factory=dict, hash=False)   # kind-specific settings, free-form
    notes: str = ""
    file: str = ""                              # where the entry was read, for messages
    line: int | None = None

    @property
    def where(self) -> str:
        return f"{self.file}:{self.line}" if self.line else self.file


def default_path() -> Path:
    return data_path("sources.yaml")


def load_sources(path: str | Path | None = None, *, cities: Sequence[CityInfo] | None = None) -> list[Source]:
    """Read and validate a source file (YAML, or CSV if the name ends in .csv); ConfigError names file and line.

    ``cities`` replaces the registry for resolving the ``city`` field (tests, sample webs)."""
    path = Path(path) if path else default_path()
    if path.suffix.lower() == ".csv":
        entries = _read_csv(path)
    else:
        entries = _read_yaml(path)
    return sources_from_entries(entries, file=str(path), cities=cities)


def sources_for(city_codes: Iterable[str], kinds: Iterable[str] | None = None,
                path: str | Path | None = None) -> list[Source]:
    """The sources of the given cities (in that order, then file order), optionally only of some kinds."""
    order = {str(code): i for i, code in enumerate(dict.fromkeys(str(c) for c in city_codes))}
    wanted_kinds = set(kinds) if kinds is not None else set(KINDS)
    unknown = wanted_kinds - set(KINDS)
    if unknown:
        raise SgiError(f"unknown source kind {', '.join(sorted(unknown))}", f"kinds are: {', '.join(KINDS)}")
    chosen = [s for s in load_sources(path) if s.city_code in order and s.kind in wanted_kinds]
    return sorted(chosen, key=lambda s: order[s.city_code])     # sorted() is stable: file order within a city


def sources_from_entries(entries: Iterable[Any], *, file: str,
                         cities: Sequence[CityInfo] | None = None) -> list[Source]:
    """Validate source entries (mappings shaped like the YAML entries) into Sources.

    Entries loaded through :mod:`sgi.yamlconf` (or read from CSV) know their lines; plain dicts, e.g. the
    sample web's, are accepted too and errors then name just the file."""
    index = city_index(cities)
    sources: list[Source] = []
    first_seen: dict[tuple[str, str, str], int | None] = {}
    for number, entry in enumerate(entries, start=1):
        if not isinstance(entry, dict):
            # Scalars carry no line number; the position still lets people find the entry.
            raise ConfigError(file, line_of(entry), f"source #{number} must be a mapping, got {entry!r}",
                              "each entry starts with '- city: ...' followed by its other keys")
        source = _source_from_entry(entry, file, index)
        key = (source.city_code, source.kind, _normalized_url(source.start_url))
        if key in first_seen:
            first = f" (first at line {first_seen[key]})" if first_seen[key] else ""
            raise ConfigError(file, source.line,
                              f"duplicate source: {source.kind} {source.start_url} of city {source.city_code}{first}")
        first_seen[key] = source.line
        sources.append(source)
    return sources


def registrable_domain(host: str) -> str:
    """The domain one organisation owns: 'www.sz.gov.cn' -> 'sz.gov.cn', 'www.gz.gov.cn.test' -> 'gz.gov.cn.test'.

    IP addresses and single-label hosts are returned unchanged."""
    host = host.lower().rstrip(".")
    if _is_ip(host) or "." not in host:
        return host
    labels = host.split(".")
    reserved = []
    if labels[-1] in _RESERVED_TLDS and len(labels) > 2:
        reserved = [labels.pop()]
    keep = 3 if len(labels) >= 3 and labels[-2] in _SHARED_SECOND_LEVEL and len(labels[-1]) == 2 else 2
    return ".".join(labels[-keep:] + reserved)


def host_in_domains(host: str, domains: Iterable[str]) -> bool:
    host = host.lower().rstrip(".")
    return any(host == d or host.endswith("." + d) for d in domains)


def is_host_name(text: str) -> bool:
    """A bare host name or IP address: no scheme, port, path or wildcard."""
    if _is_ip(text):
        return True
    labels = text.lower().rstrip(".").split(".")
    return len(text) <= 253 and all(_HOST_LABEL.match(label) for label in labels)


# -- reading ------------------------------------------------------------------------------------------

def _read_yaml(path: Path) -> list:
    data = load_yaml(path)
    if data is None:
        raise ConfigError(str(path), None, "the file is empty", "start it with `sources:` followed by a list")
    if not isinstance(data, dict) or "sources" not in data:
        raise ConfigError(str(path), line_of(data), "expected a mapping with a 'sources' list")
    extra = [k for k in data if k != "sources"]
    if extra:
        raise ConfigError(str(path), data.line_of(extra[0]), f"unknown top-level key {extra[0]!r} (only 'sources')")
    entries = data["sources"]
    if entries is None:
        return []
    if not isinstance(entries, list):
        raise ConfigError(str(path), data.line_of("sources"), "'sources' must be a list of entries")
    return entries


class _CsvRow(dict):
    """A CSV record as an entry: it knows its line, like the mappings from sgi.yamlconf."""

    line: int = 0


def _read_csv(path: Path) -> list[_CsvRow]:
    try:
        # utf-8-sig: spreadsheet programs put a byte-order mark in front of UTF-8 CSV files.
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise ConfigError(str(path), None, "file not found") from None
    except UnicodeDecodeError as exc:
        raise ConfigError(str(path), None, f"not UTF-8 text ({exc.reason})",
                          "save the file as 'CSV UTF-8' (spreadsheets often default to GBK)") from None
    reader = csv.reader(text.splitlines(keepends=True))
    header = next(reader, None)
    if header is None:
        raise ConfigError(str(path), None, "the file is empty", f"the first line must be: {','.join(CSV_COLUMNS)}")
    header = [h.strip() for h in header]
    for column in header:
        if column not in CSV_COLUMNS:
            raise ConfigError(str(path), 1, f"unknown column {column!r} (allowed: {', '.join(CSV_COLUMNS)})")
    missing = [c for c in REQUIRED_FIELDS if c not in header]
    if missing:
        raise ConfigError(str(path), 1, f"missing column(s) {', '.join(missing)}")
    rows: list[_CsvRow] = []
    line = reader.line_num + 1
    for cells in reader:
        if any(cell.strip() for cell in cells):
            if len(cells) > len(header):
                raise ConfigError(str(path), line, f"{len(cells)} cells but the header has {len(header)} columns")
            row = _CsvRow(_csv_values(header, cells))
            row.line = line
            rows.append(row)
        line = reader.line_num + 1     # a quoted cell may span lines; the next record starts after it
    return rows


def _csv_values(header: list[str], cells: list[str]) -> dict:
    values: dict[str, Any] = {}
    for column, cell in zip(header, cells):
        cell = cell.strip()
        if cell == "":
            continue                    # an empty cell means 'use the default', as an absent YAML key does
        if column == "allowed_domains":
            values[column] = [d for d in re.split(r"[\s,]+", cell) if d]
        elif column == "verified":
            values[column] = _csv_bool(cell)
        else:
            values[column] = cell
    return values


def _csv_bool(cell: str) -> Any:
    lowered = cell.lower()
    if lowered in ("true", "yes", "1", "y", "是"):
        return True
    if lowered in ("false", "no", "0", "n", "否"):
        return False
    return cell                         # left as text; validation reports it with the line


# -- validation ---------------------------------------------------------------------------------------

def _source_from_entry(entry: Any, file: str, index: CityIndex) -> Source:
    require_keys(file, entry, REQUIRED_FIELDS, OPTIONAL_FIELDS, what="source")

    def fail(key: str | None, message: str, hint: str | None = None) -> ConfigError:
        return ConfigError(file, line_of(entry, key), message, hint)

    try:
        city = index.lookup(entry["city"])
    except SgiError as exc:
        raise fail("city", exc.message, exc.hint) from None

    kind = entry["kind"]
    if kind not in KINDS:
        raise fail("kind", f"unknown kind {kind!r} (allowed: {', '.join(KINDS)})")

    for key in ("name", "start_url", "notes"):
        if key in entry and not isinstance(entry[key], str):
            raise fail(key, f"{key} must be text, got {type(entry[key]).__name__}")

    start_url = entry["start_url"].strip()
    parts = urlsplit(start_url)
    # Whitespace and control characters inside a URL are silently dropped by URL parsers (a tab in a
    # path would fetch another page): refuse them, as every other malformed URL.
    if (parts.scheme not in ("http", "https") or not parts.hostname
            or any(c.isspace() or ord(c) < 32 or ord(c) == 127 for c in start_url)):
        raise fail("start_url", f"start_url {start_url!r} is not an http(s) URL with a host",
                   "write it in full, e.g. https://www.sz.gov.cn/")
    if "@" in parts.netloc:
        raise fail("start_url", f"start_url {start_url!r} has a user name or password before the host",
                   "remove the part up to '@': the host is what follows it")
    try:
        parts.port
    except ValueError:
        raise fail("start_url", f"start_url {start_url!r} has an invalid port") from None
    host = parts.hostname

    if entry.get("allowed_domains") is None:
        allowed_domains = (registrable_domain(host),)
    else:
        domains = entry["allowed_domains"]
        if not isinstance(domains, list) or not domains:
            raise fail("allowed_domains", "allowed_domains must be a non-empty list of host names, e.g. [sz.gov.cn]")
        for domain in domains:
            if not isinstance(domain, str) or not is_host_name(domain):
                raise fail("allowed_domains", f"allowed_domains entry {domain!r} is not a host name",
                           "write bare names like sz.gov.cn: no http://, port, path or wildcard")
        allowed_domains = tuple(dict.fromkeys(d.lower().rstrip(".") for d in domains))
        if not host_in_domains(host, allowed_domains):
            raise fail("start_url", f"start_url host {host} is outside allowed_domains {list(allowed_domains)}",
                       f"add {registrable_domain(host)} to allowed_domains")

    verified = entry.get("verified", False)
    if not isinstance(verified, bool):
        raise fail("verified", f"verified must be true or false, got {verified!r}")
    options = entry.get("options") or {}
    if not isinstance(options, dict):
        raise fail("options", f"options must be a mapping, got {type(options).__name__}")

    return Source(
        city_code=city.code,
        kind=kind,
        name=entry["name"].strip(),
        start_url=start_url,
        allowed_domains=allowed_domains,
        verified=verified,
        options=dict(options),
        notes=(entry.get("notes") or "").strip(),
        file=file,
        line=line_of(entry),
    )


def _normalized_url(url: str) -> str:
    """For duplicate detection: scheme and host are case-insensitive and an empty path is '/'."""
    parts = urlsplit(url)
    netloc = parts.netloc.lower()
    return f"{parts.scheme.lower()}://{netloc}{parts.path or '/'}{'?' + parts.query if parts.query else ''}"


def _is_ip(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True
