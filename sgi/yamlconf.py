"""Loading auditor-maintained YAML with line numbers, so validation errors can name file and line.

Every mapping loaded through :func:`load_yaml` is a :class:`LineDict`: a plain dict that also remembers
the 1-based line where it starts (``.line``) and where each of its keys stands (``.key_lines``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Iterable

import yaml

from sgi.errors import ConfigError


class LineDict(dict):
    line: int = 0
    key_lines: dict

    def line_of(self, key: str) -> int:
        return self.key_lines.get(key, self.line)


class LineList(list):
    line: int = 0


class _LineLoader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):
    """libyaml's parser where PyYAML has it (several times faster; crawls load lexicons and sources as
    they start), with the same marks for line numbers."""


def _construct_mapping(loader: _LineLoader, node: yaml.MappingNode) -> LineDict:
    loader.flatten_mapping(node)
    result = LineDict()
    result.line = node.start_mark.line + 1
    result.key_lines = {}
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        if key in result:
            raise ConfigError(loader.name, key_node.start_mark.line + 1, f"duplicate key {key!r}")
        result[key] = loader.construct_object(value_node, deep=True)
        result.key_lines[key] = key_node.start_mark.line + 1
    return result


def _construct_sequence(loader: _LineLoader, node: yaml.SequenceNode) -> LineList:
    result = LineList(loader.construct_object(child, deep=True) for child in node.value)
    result.line = node.start_mark.line + 1
    return result


_LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)
_LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_SEQUENCE_TAG, _construct_sequence)


def load_yaml(path: str | Path) -> Any:
    """Parse a YAML file; syntax errors become ConfigError naming file and line."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(str(path), None, "file not found") from None
    except UnicodeDecodeError as exc:
        raise ConfigError(str(path), None, f"not UTF-8 text ({exc.reason})", "save the file as UTF-8") from None
    loader = _LineLoader(text)
    loader.name = str(path)
    try:
        return loader.get_single_data()
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else None
        raise ConfigError(str(path), line, f"YAML syntax error: {exc.problem or exc}") from None
    finally:
        loader.dispose()


def line_of(obj: Any, key: str | None = None) -> int | None:
    """Best-effort line number of a loaded object (or of one of its keys)."""
    if isinstance(obj, LineDict):
        return obj.line_of(key) if key else obj.line
    return getattr(obj, "line", None)


def require_keys(path: str, entry: Any, required: Iterable[str], allowed: Iterable[str] | None = None,
                 what: str = "entry") -> None:
    """Check an entry is a mapping with the required keys and no unknown ones."""
    if not isinstance(entry, dict):
        raise ConfigError(path, line_of(entry), f"each {what} must be a mapping, got {type(entry).__name__}")
    missing = [k for k in required if k not in entry or entry[k] in (None, "")]
    if missing:
        raise ConfigError(path, line_of(entry), f"{what} is missing {', '.join(missing)}")
    if allowed is not None:
        allowed = set(allowed) | set(required)
        unknown = [k for k in entry if k not in allowed]
        if unknown:
            k = unknown[0]
            raise ConfigError(path, line_of(entry, k),
                              f"unknown field {k!r} in {what} (allowed: {', '.join(sorted(allowed))})")
