"""Issue 21: no private Scrapy / scrapy-playwright / Twisted / Playwright name outside spiders/compat.py.

An AST walk over our packages flags (1) imports of a private module or name from those libraries,
(2) attribute access ``x._name`` where ``_name`` is defined nowhere in our own code (so it belongs to a
library object), and (3) methods of our classes that override a private method of a library base class
(found by importing the class and looking through its MRO). ``REMAINING`` lists the uses not yet moved;
it must match exactly, so it can only shrink."""

from __future__ import annotations

import ast
import importlib
import inspect
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("spiders", "sgi", "storage", "collectors", "scoring")
LIBRARIES = ("scrapy", "scrapy_playwright", "twisted", "playwright")
COMPAT = ROOT / "spiders" / "compat.py"
# Underscore names that are public API by convention (namedtuple) or stdlib, not the crawl libraries.
NOT_LIBRARY_PRIVATE = {"_replace", "_asdict", "_fields", "_make", "_create_unverified_context",
                       "_abc_impl"}

# Private names of the libraries still used outside compat.py: (file, name). Overrides of private hooks
# (subclasses of the scheduler queue, the downloader, AutoThrottle, the Playwright handler) that would need
# the whole subclass moved. Remove an entry when its use moves into spiders/compat.py.
REMAINING: set[tuple[str, str]] = {
    # PoliteDownloader: overrides the downloader's private dispatch loop.
    ("spiders/politeness.py", "_process_queue"), ("spiders/politeness.py", "_latercall"),
    ("spiders/politeness.py", "_wait_for_download"),
    # AutoThrottle subclass: overrides its private per-response hooks.
    ("spiders/politeness.py", "_response_downloaded"), ("spiders/politeness.py", "_adjust_delay"),
    # Shared-browser Playwright handler: overrides the handler's private lifecycle/download methods.
    ("spiders/browser.py", "_launch"), ("spiders/browser.py", "_close"),
    ("spiders/browser.py", "_download_request"), ("spiders/browser.py", "_download_request_with_page"),
    ("spiders/browser.py", "_maybe_launch_browser"),
    # RFC 9309 robots middleware: overrides the parse hook and fills the per-netloc parser table.
    ("spiders/robots.py", "_parse_robots"), ("spiders/robots.py", "_parsers"),
    # The only switch for scrapy-playwright's threaded loop (0.0.48 has no public setting); a settings
    # module needs the literal name.
    ("spiders/settings.py", "_PLAYWRIGHT_THREADED_LOOP"),
}


def _private(name: str) -> bool:
    return name.startswith("_") and not name.startswith("__") and name not in NOT_LIBRARY_PRIVATE


def _files():
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            if path != COMPAT:
                yield path


def _trees():
    return {path: ast.parse(path.read_text(encoding="utf-8"), str(path)) for path in _files()}


def _own_names(trees) -> set[str]:
    """Names our own code defines: functions, classes, assigned attributes and variables."""
    names = set()
    for tree in list(trees.values()) + [ast.parse(COMPAT.read_text(encoding="utf-8"))]:
        for node in ast.walk(tree):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                names.add(node.name)
            elif isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Store):
                names.add(node.attr)
            elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
                names.add(node.id)
            elif isinstance(node, ast.arg):
                names.add(node.arg)
    return names


def _from_library(module: str | None) -> bool:
    return bool(module) and module.split(".")[0] in LIBRARIES


def private_uses(trees) -> set[tuple[str, str]]:
    own = _own_names(trees)
    found = set()
    for path, tree in trees.items():
        rel = str(path.relative_to(ROOT))
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and _from_library(node.module):
                for part in node.module.split("."):
                    if _private(part):
                        found.add((rel, node.module))
                found |= {(rel, alias.name) for alias in node.names if _private(alias.name)}
            elif isinstance(node, ast.Import):
                found |= {(rel, alias.name) for alias in node.names if _from_library(alias.name)
                          and any(_private(part) for part in alias.name.split("."))}
            elif isinstance(node, ast.Attribute) and _private(node.attr) and node.attr not in own:
                found.add((rel, node.attr))
            elif isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value.startswith("_PLAYWRIGHT"):
                found.add((rel, node.value))   # a private scrapy-playwright setting, by name
            elif isinstance(node, ast.Name) and node.id.startswith("_PLAYWRIGHT"):
                found.add((rel, node.id))      # ... or in a settings module
    return found


def private_overrides() -> set[tuple[str, str]]:
    """Methods of our classes that override a private attribute of a library base class."""
    found = set()
    for path in _files():
        if path.name in ("__init__.py", "__main__.py") or "sampleweb" in path.parts:
            continue
        module_name = ".".join(path.relative_to(ROOT).with_suffix("").parts)
        try:
            module = importlib.import_module(module_name)
        except Exception:   # a script-like module that cannot be imported alone: the AST walk still covers it
            continue
        for _, cls in inspect.getmembers(module, inspect.isclass):
            if cls.__module__ != module_name:
                continue
            library_bases = [base for base in cls.__mro__[1:] if _from_library(base.__module__)]
            for name in vars(cls):
                if _private(name) and any(name in vars(base) for base in library_bases):
                    found.add((str(path.relative_to(ROOT)), name))
    return found


def test_compat_asserts_the_versions_it_was_written_for(monkeypatch):
    import scrapy

    from spiders import compat

    assert compat.WRITTEN_FOR == {"scrapy": "2.19.", "scrapy-playwright": "0.0.48"}
    compat._check_versions()   # the installed (locked) versions pass
    monkeypatch.setattr(scrapy, "__version__", "2.20.0")
    with pytest.raises(RuntimeError, match=r"spiders/compat\.py was written for Scrapy 2\.19\.x"):
        compat._check_versions()


def test_no_private_library_name_outside_compat():
    uses = private_uses(_trees()) | private_overrides()
    assert uses - REMAINING == set(), "private library names outside spiders/compat.py"
    assert REMAINING - uses == set(), "REMAINING lists uses that are gone: remove them"


@pytest.mark.parametrize("source, flagged", [
    ("from scrapy_playwright._loop import _ThreadedLoopAdapter\n", {"scrapy_playwright._loop", "_ThreadedLoopAdapter"}),
    ("from scrapy.utils.defer import _schedule_coro\n", {"_schedule_coro"}),
    ("def f(downloader):\n    return downloader._delay\n", {"_delay"}),
    ("_PLAYWRIGHT_THREADED_LOOP = True\n", {"_PLAYWRIGHT_THREADED_LOOP"}),
    ("class A:\n    def _mine(self):\n        return self._mine()\n", set()),
])
def test_the_walk_flags_library_privates_only(source, flagged):
    assert {name for _, name in private_uses({ROOT / "spiders" / "x.py": ast.parse(source)})} == flagged
