"""`sgi browse`: the SQLite database in Datasette (the optional extra ``browse``), read-only, on loopback.

The table descriptions and canned queries are data (sgi/data/datasette.yaml), validated on load with
errors naming file and line. Datasette names a database after its file, so the ``database:`` block of
that file is written out under the actual name into a metadata file Datasette reads.
"""

from __future__ import annotations

import importlib.util
import json
import sys
from importlib import resources
from pathlib import Path

from sgi.errors import ConfigError, SgiError
from sgi.yamlconf import line_of, load_yaml, require_keys

INSTALL_HINT = "install the optional extra: pip install 'sgi[browse]'"
REQUIRED_QUERIES = ("evidence_for_city", "changed_since_last_run")


def metadata_path() -> Path:
    return Path(str(resources.files("sgi") / "data" / "datasette.yaml"))


def load_metadata(path: str | Path | None = None) -> dict:
    """The browse metadata: title, description, and a ``database`` block of tables and queries."""
    path = Path(path) if path else metadata_path()
    data = load_yaml(path)
    where = str(path)
    require_keys(where, data, ["title", "database"], allowed=["title", "description", "about", "database"])
    database = data["database"]
    require_keys(where, database, ["tables", "queries"], allowed=["tables", "queries"])
    for name, query in database["queries"].items():
        require_keys(where, query, ["sql"], allowed=["sql", "title", "description", "hide_sql"])
        if not str(query["sql"]).lstrip().upper().startswith(("SELECT", "WITH")):
            raise ConfigError(where, line_of(query, "sql"), f"query {name}: only SELECT / WITH queries belong here")
    missing = [q for q in REQUIRED_QUERIES if q not in database["queries"]]
    if missing:
        raise ConfigError(where, line_of(database, "queries"), f"missing canned queries: {', '.join(missing)}")
    return _plain(data)


def _plain(obj):
    """LineDict / LineList -> dict / list, for JSON."""
    if isinstance(obj, dict):
        return {str(k): _plain(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_plain(v) for v in obj]
    return obj


def datasette_metadata(db_file: Path, meta: dict | None = None) -> dict:
    """Datasette's metadata for this database file (its name in Datasette is the file's stem)."""
    meta = meta or load_metadata()
    top = {k: v for k, v in meta.items() if k != "database"}
    return {**top, "databases": {db_file.stem: meta["database"]}}


def write_metadata(db_file: Path, target: Path) -> Path:
    target.write_text(json.dumps(datasette_metadata(db_file), ensure_ascii=False, indent=1), encoding="utf-8")
    return target


def datasette_available() -> bool:
    return importlib.util.find_spec("datasette") is not None


def require_datasette() -> None:
    if not datasette_available():
        raise SgiError("Datasette is not installed", INSTALL_HINT)


def sqlite_file(url: str) -> Path:
    """The SQLite file behind a database URL; Datasette reads SQLite files only."""
    from storage import db

    path = db.sqlite_path(url)
    if path is None:
        raise SgiError(f"sgi browse needs a SQLite database file, not {url}",
                       "Datasette reads SQLite only; export tables with `sgi export` for other databases")
    if not path.exists():
        raise SgiError(f"no database file {path}", "crawl first (`sgi crawl` or `sgi demo`) or pass --db")
    return path.resolve()


def datasette_command(db_file: Path, metadata_file: Path, port: int, open_browser: bool = False,
                      host: str = "127.0.0.1") -> list[str]:
    """The Datasette command line: loopback only, read-only SQL, the metadata with the canned queries."""
    cmd = [sys.executable, "-m", "datasette", "serve", str(db_file), "--metadata", str(metadata_file),
           "--host", host, "--port", str(port), "--setting", "sql_time_limit_ms", "5000"]
    if open_browser:
        cmd.append("--open")
    return cmd
