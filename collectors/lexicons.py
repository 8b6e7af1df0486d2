"""Loading auditor-maintained keyword lexicons (collectors/lexicons/*.yaml) with validation.

A lexicon is data, not code: auditors add words and URL shapes without touching the rules. So a
mistake in it (a typo in a feature name, a regex that does not compile, a string where a list
belongs) must fail loudly at load time with file and line, not silently disable a rule.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from sgi.errors import ConfigError
from sgi.yamlconf import line_of, load_yaml

LEXICON_DIR = Path(__file__).parent / "lexicons"
PORTAL_LEXICON_PATH = LEXICON_DIR / "portal.yaml"

# The boolean portal features a lexicon must define (indicator codes in sgi/data/indicators.yaml).
PORTAL_FEATURES = (
    "site_search", "site_map", "privacy_statement", "accessibility_mode", "personal_login",
    "mobile_friendly", "policy_interpretation", "online_interview", "mayor_mailbox", "hotline_12345", "opinion_solicitation",
    "info_disclosure", "online_service_hall", "gov_app_link", "mini_program", "new_media_weibo",
    "new_media_wechat", "new_media_douyin", "open_data_link",
)
COLUMN_KINDS = ("news", "notice", "policy")
PAGE_TYPES = ("home", "column", "article")

_ASCII = re.compile(r"^[\x20-\x7e]+$")


@dataclass(frozen=True)
class FeatureLexicon:
    """Words and patterns for one boolean feature (see the header of portal.yaml)."""

    code: str
    keywords_zh: tuple[str, ...] = ()
    keywords_en: tuple[str, ...] = ()
    url_patterns: tuple[re.Pattern, ...] = ()
    exclude: tuple[re.Pattern, ...] = ()
    scripts: tuple[re.Pattern, ...] = ()
    input_names: tuple[re.Pattern, ...] = ()
    text_blocks: bool = False
    share_buttons: bool = False
    max_label_chars: int = 40


@dataclass(frozen=True)
class LanguageEntry:
    code: str
    labels: tuple[str, ...]
    url_patterns: tuple[re.Pattern, ...] = ()


@dataclass(frozen=True)
class PortalLexicon:
    version: str
    path: str
    features: dict[str, FeatureLexicon]
    share_exclusions: tuple[re.Pattern, ...]
    languages: tuple[LanguageEntry, ...]
    columns: dict[str, tuple[str, ...]]
    column_max_label_chars: int
    more_labels: tuple[str, ...]
    follow_links: tuple[str, ...]
    site_identifier_labels: tuple[str, ...]
    footer_markers: tuple[re.Pattern, ...]
    navigation_markers: tuple[re.Pattern, ...]
    header_markers: tuple[re.Pattern, ...]
    not_item_date_markers: tuple[re.Pattern, ...]
    empty_list_markers: tuple[str, ...]
    meta_tags: dict[str, tuple[str, ...]]
    challenge_statuses: tuple[int, ...] = ()
    challenge_script_patterns: tuple[re.Pattern, ...] = ()
    challenge_text_keywords: tuple[str, ...] = ()
    challenge_max_text_chars: int = 600
    empty_shell_text_chars: int = 200
    extra: dict[str, Any] = field(default_factory=dict)


# --- small validators: each raises ConfigError(path, line, message) ----------------------------

def _where(container: Any, key: str | None = None) -> int | None:
    return line_of(container, key) if key is not None else line_of(container)


def _mapping(path: str, value: Any, what: str, line: int | None) -> dict:
    if not isinstance(value, dict):
        raise ConfigError(path, line, f"{what} must be a mapping, got {type(value).__name__}")
    return value


def _str_list(path: str, parent: Any, key: str, *, ascii_only: bool = False, required: bool = False) -> tuple[str, ...]:
    line = _where(parent, key)
    value = parent.get(key)
    if value is None:
        if required:
            raise ConfigError(path, _where(parent), f"missing {key!r}")
        return ()
    if isinstance(value, str) or not isinstance(value, list):
        raise ConfigError(path, line, f"{key!r} must be a list of strings, got {type(value).__name__}",
                          "write it as [a, b, c] or one '- item' per line")
    out = []
    for item in value:
        if isinstance(item, (int, float)) and not isinstance(item, bool):
            item = str(item)  # 12345 written without quotes
        if not isinstance(item, str) or not item.strip():
            raise ConfigError(path, line, f"{key!r} has an empty or non-string item {item!r}")
        if ascii_only and not _ASCII.match(item):
            raise ConfigError(path, line, f"{key!r} item {item!r} is not ASCII (Chinese words go in keywords_zh)")
        out.append(item)
    return tuple(out)


def _regex_list(path: str, parent: Any, key: str) -> tuple[re.Pattern, ...]:
    patterns = []
    for text in _str_list(path, parent, key):
        try:
            patterns.append(re.compile(text, re.I))
        except re.error as exc:
            raise ConfigError(path, _where(parent, key), f"bad regex {text!r} in {key!r}: {exc}") from None
    return tuple(patterns)


def _bool(path: str, parent: Any, key: str, default: bool) -> bool:
    value = parent.get(key, default)
    if not isinstance(value, bool):
        raise ConfigError(path, _where(parent, key), f"{key!r} must be true or false, got {value!r}")
    return value


def _positive_int(path: str, parent: Any, key: str, default: int) -> int:
    value = parent.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise ConfigError(path, _where(parent, key), f"{key!r} must be a positive integer, got {value!r}")
    return value


def _check_keys(path: str, entry: dict, allowed: set[str], what: str) -> None:
    for key in entry:
        if key not in allowed:
            raise ConfigError(path, _where(entry, key),
                              f"unknown field {key!r} in {what} (allowed: {', '.join(sorted(allowed))})")


_FEATURE_FIELDS = {"keywords_zh", "keywords_en", "url_patterns", "exclude", "scripts", "text_blocks",
                   "share_buttons", "max_label_chars", "input_names"}
_TOP_FIELDS = {"version", "max_label_chars", "share_exclusions", "features", "languages", "columns",
               "follow_links", "site_identifier_labels", "footer_markers", "header_markers", "navigation_markers", "not_item_date_markers", "empty_list_markers", "meta_tags",
               "challenge"}


def _feature(path: str, code: str, entry: Any, default_max: int, line: int | None) -> FeatureLexicon:
    entry = _mapping(path, entry, f"feature {code!r}", line)
    _check_keys(path, entry, _FEATURE_FIELDS, f"feature {code!r}")
    zh = tuple("".join(k.split()) for k in _str_list(path, entry, "keywords_zh"))
    en = _str_list(path, entry, "keywords_en", ascii_only=True)
    urls = _regex_list(path, entry, "url_patterns")
    if not (zh or en or urls):
        raise ConfigError(path, _where(entry), f"feature {code!r} has no keywords_zh, keywords_en or url_patterns")
    return FeatureLexicon(
        code=code, keywords_zh=zh, keywords_en=en, url_patterns=urls,
        exclude=_regex_list(path, entry, "exclude"), scripts=_regex_list(path, entry, "scripts"),
        input_names=_regex_list(path, entry, "input_names"),
        text_blocks=_bool(path, entry, "text_blocks", False), share_buttons=_bool(path, entry, "share_buttons", False),
        max_label_chars=_positive_int(path, entry, "max_label_chars", default_max),
    )


def parse_portal_lexicon(data: Any, path: str) -> PortalLexicon:
    """Validate a loaded portal lexicon document and build the typed lexicon."""
    data = _mapping(path, data, "the portal lexicon", 1)
    _check_keys(path, data, _TOP_FIELDS, "the portal lexicon")
    version = data.get("version")
    if not isinstance(version, (str, int, float)) or not str(version).strip():
        raise ConfigError(path, _where(data, "version") if "version" in data else 1,
                          "missing 'version' (bump it when a change alters what the rules find)")
    default_max = _positive_int(path, data, "max_label_chars", 40)

    features_raw = _mapping(path, data.get("features"), "'features'", _where(data, "features"))
    features = {}
    for code, entry in features_raw.items():
        if code not in PORTAL_FEATURES:
            raise ConfigError(path, _where(features_raw, code), f"unknown feature {code!r}",
                              f"known features: {', '.join(PORTAL_FEATURES)}")
        features[code] = _feature(path, code, entry, default_max, _where(features_raw, code))
    missing = [c for c in PORTAL_FEATURES if c not in features]
    if missing:
        raise ConfigError(path, _where(data, "features"), f"features missing: {', '.join(missing)}")

    languages_raw = data.get("languages")
    if not isinstance(languages_raw, list) or not languages_raw:
        raise ConfigError(path, _where(data, "languages") if "languages" in data else 1,
                          "'languages' must be a non-empty list of {code, labels, url_patterns}")
    languages, seen_codes = [], set()
    for entry in languages_raw:
        entry = _mapping(path, entry, "each language", _where(languages_raw))
        _check_keys(path, entry, {"code", "labels", "url_patterns"}, "a language")
        code = entry.get("code")
        if not isinstance(code, str) or not code:
            raise ConfigError(path, _where(entry), "language is missing 'code'")
        if code in seen_codes:
            raise ConfigError(path, _where(entry, "code"), f"duplicate language code {code!r}")
        seen_codes.add(code)
        languages.append(LanguageEntry(code, _str_list(path, entry, "labels", required=True),
                                       _regex_list(path, entry, "url_patterns")))

    columns_raw = _mapping(path, data.get("columns"), "'columns'", _where(data, "columns"))
    _check_keys(path, columns_raw, set(COLUMN_KINDS) | {"max_label_chars", "more_labels"}, "'columns'")
    columns = {kind: _str_list(path, columns_raw, kind, required=True) for kind in COLUMN_KINDS}

    meta_raw = _mapping(path, data.get("meta_tags"), "'meta_tags'", _where(data, "meta_tags"))
    _check_keys(path, meta_raw, set(PAGE_TYPES) | {"optional"}, "'meta_tags'")
    meta_tags = {t: _str_list(path, meta_raw, t, required=True) for t in PAGE_TYPES}
    meta_tags["optional"] = _str_list(path, meta_raw, "optional")

    challenge = data.get("challenge") or {}
    challenge = _mapping(path, challenge, "'challenge'", _where(data, "challenge"))
    _check_keys(path, challenge, {"statuses", "script_patterns", "text_keywords", "max_text_chars",
                                  "empty_shell_text_chars"}, "'challenge'")
    statuses = challenge.get("statuses", [])
    if not isinstance(statuses, list) or not all(isinstance(s, int) and 100 <= s <= 599 for s in statuses):
        raise ConfigError(path, _where(challenge, "statuses"), "'statuses' must be a list of HTTP status codes")

    return PortalLexicon(
        version=str(version), path=path, features=features,
        share_exclusions=_regex_list(path, data, "share_exclusions"),
        languages=tuple(languages), columns=columns,
        column_max_label_chars=_positive_int(path, columns_raw, "max_label_chars", 10),
        more_labels=_str_list(path, columns_raw, "more_labels"),
        follow_links=_str_list(path, data, "follow_links", required=True),
        site_identifier_labels=_str_list(path, data, "site_identifier_labels", required=True),
        footer_markers=_regex_list(path, data, "footer_markers"),
        navigation_markers=_regex_list(path, data, "navigation_markers"),
        header_markers=_regex_list(path, data, "header_markers"),
        not_item_date_markers=_regex_list(path, data, "not_item_date_markers"),
        empty_list_markers=_str_list(path, data, "empty_list_markers"),
        meta_tags=meta_tags,
        challenge_statuses=tuple(statuses),
        challenge_script_patterns=_regex_list(path, challenge, "script_patterns"),
        challenge_text_keywords=_str_list(path, challenge, "text_keywords"),
        challenge_max_text_chars=_positive_int(path, challenge, "max_text_chars", 600),
        empty_shell_text_chars=_positive_int(path, challenge, "empty_shell_text_chars", 200),
    )


def load_portal_lexicon(path: str | Path | None = None) -> PortalLexicon:
    """Load and validate a portal lexicon file (default: collectors/lexicons/portal.yaml)."""
    path = Path(path) if path else PORTAL_LEXICON_PATH
    return parse_portal_lexicon(load_yaml(path), str(path))


@lru_cache(maxsize=1)
def default_portal_lexicon() -> PortalLexicon:
    """The shipped portal lexicon, loaded once per process."""
    return load_portal_lexicon(PORTAL_LEXICON_PATH)
