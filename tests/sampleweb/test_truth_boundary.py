"""The sample web's truth is independent of the crawler (issue 20, principle 5): no module of
sgi/sampleweb imports the crawler's rules (collectors, spiders) or reads its lexicons, directly or through
another project module. Where the truth needs a rule's constant (inspection thresholds, column words,
environmental terms), it writes it as data; the tests below check that the crawler says the same, so a
crawler change that departs from the published rule shows up here instead of moving the truth with it."""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SAMPLEWEB = ROOT / "sgi" / "sampleweb"
FORBIDDEN = ("collectors", "spiders")


def _imports(path: Path) -> set[str]:
    """Every module a file imports, at any depth of the file (imports inside functions too)."""
    out = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            out.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            out.add(node.module)
            out.update(f"{node.module}.{a.name}" for a in node.names)
        elif isinstance(node, ast.Call) and getattr(node.func, "id", getattr(node.func, "attr", "")) in (
                "import_module", "__import__") and node.args and isinstance(node.args[0], ast.Constant):
            out.add(str(node.args[0].value))
    return out


def _module_file(name: str) -> Path | None:
    parts = name.split(".")
    for n in range(len(parts), 0, -1):
        base = ROOT.joinpath(*parts[:n])
        for candidate in (base.with_suffix(".py"), base / "__init__.py"):
            if candidate.is_file():
                return candidate
    return None


def test_no_sampleweb_module_imports_the_crawler_rules():
    """Walk the project modules reachable from sgi/sampleweb: none is collectors.* or spiders.*."""
    offenders = []
    seen: set[Path] = set()
    todo = [(p, p.relative_to(ROOT).as_posix()) for p in sorted(SAMPLEWEB.glob("*.py"))]
    while todo:
        path, chain = todo.pop()
        if path in seen:
            continue
        seen.add(path)
        for name in _imports(path):
            if name.split(".")[0] in FORBIDDEN:
                offenders.append(f"{chain} imports {name}")
                continue
            target = _module_file(name)
            if target is not None and target not in seen:
                todo.append((target, f"{chain} -> {target.relative_to(ROOT).as_posix()}"))
    assert len(seen) >= len(list(SAMPLEWEB.glob("*.py")))
    assert not offenders, "\n".join(offenders)


def test_no_sampleweb_module_reads_a_crawler_lexicon():
    for path in SAMPLEWEB.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            # A path to a lexicon is a string without spaces ('collectors/lexicons/policy.yaml', or the
            # 'lexicons' part of Path(...) / "lexicons" / ...); prose in docstrings may name the files.
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and not re.search(r"\s", node.value):
                assert "lexicons" not in node.value, (path.name, node.value)


def test_the_boundary_check_catches_an_import(tmp_path):
    bad = tmp_path / "bad.py"
    bad.write_text("def f():\n    from collectors.policy import load_lexicon\n    import spiders.policy\n")
    assert {"collectors.policy", "spiders.policy"} <= _imports(bad)


# --- the crawler's configuration agrees with the rules the truth writes as data -------------------------

def test_inspection_constants_agree():
    from collectors import inspection
    from collectors.lexicons import default_portal_lexicon
    from sgi.sampleweb import portals

    assert portals.STALE_AFTER_DAYS == inspection.STALE_AFTER_DAYS
    assert portals.HOMEPAGE_STALE_AFTER_DAYS == inspection.HOMEPAGE_STALE_AFTER_DAYS
    assert portals.MAX_COLUMNS_SAMPLED == inspection.MAX_COLUMNS_SAMPLED
    assert portals.MAX_BROKEN_LINK_SAMPLE == inspection.MAX_BROKEN_LINK_SAMPLE
    assert portals.META_TAGS_BY_PAGE_TYPE == inspection.META_TAGS_BY_PAGE_TYPE
    lex = default_portal_lexicon()
    assert portals.SUBPAGE_LABELS == tuple(lex.follow_links)
    assert portals.COLUMN_WORDS == {k: tuple(lex.columns[k]) for k in ("notice", "policy", "news")}
    assert portals.COLUMN_MAX_LABEL_CHARS == lex.column_max_label_chars


def test_environmental_terms_agree():
    from collectors.policy import fold, load_lexicon
    from sgi.sampleweb import policy as gen

    assert set(fold(t) for t in gen.ENV_TERMS) == set(load_lexicon().env_terms)
