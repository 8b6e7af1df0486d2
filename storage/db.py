"""Database access: engine by URL (SQLite in WAL mode by default, PostgreSQL by URL), migrations, upserts."""

from __future__ import annotations

import functools

import os
from contextlib import contextmanager
from pathlib import Path
from typing import Iterable, Sequence
from urllib.parse import quote

from sqlalchemy import event, inspect
from sqlalchemy.engine import Connection, Engine, make_url
from sqlmodel import SQLModel, create_engine

from sgi.errors import SgiError

DEFAULT_URL = "sqlite:///sgi.db"
_engines: dict[str, Engine] = {}


def database_url(explicit: str | None = None) -> str:
    """--db beats SGI_DATABASE_URL beats the default SQLite file ./sgi.db. A bare path means SQLite."""
    url = explicit or os.environ.get("SGI_DATABASE_URL") or DEFAULT_URL
    if "://" not in url:
        url = f"sqlite:///{url}"
    return url


def is_sqlite(url: str) -> bool:
    return make_url(url).get_backend_name() == "sqlite"


def sqlite_path(url: str) -> Path | None:
    u = make_url(url)
    if u.get_backend_name() != "sqlite" or not u.database or u.database == ":memory:":
        return None
    return Path(u.database)


def archive_dir(url: str) -> Path:
    """Where WARC files go: SGI_ARCHIVE_DIR, else a 'warc' folder beside the SQLite file, else ./warc."""
    if os.environ.get("SGI_ARCHIVE_DIR"):
        return Path(os.environ["SGI_ARCHIVE_DIR"])
    path = sqlite_path(url)
    return (path.parent if path else Path(".")) / "warc"


def _sqlite_pragmas(dbapi_conn, _record):
    cur = dbapi_conn.cursor()
    # WAL lets readers (exports, Datasette) work during a crawl; NORMAL is durable at checkpoints.
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA busy_timeout=30000")
    cur.close()


def _sqlite_read_only_pragmas(dbapi_conn, _record):
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA query_only=ON")     # a write fails as such, not as a missing file
    cur.execute("PRAGMA busy_timeout=30000")
    cur.close()


def sqlite_read_only(path: Path | None) -> bool:
    """An existing SQLite file we cannot write: on read-only media (a mounted archive, a snapshot) or in a
    directory we may not write (where WAL needs its -wal and -shm files)."""
    if path is None or not path.is_file():
        return False
    try:
        if os.statvfs(path).f_flag & os.ST_RDONLY:
            return True
    except OSError:
        return False
    return not (os.access(path, os.W_OK) and os.access(path.parent, os.W_OK))


def _read_only_url(path: Path) -> str:
    """Open without writing anything. A WAL database needs its -shm file, which cannot be created here:
    without a -wal file every committed row is in the main file, which cannot change, so it is opened
    immutable; with one, read-only (SQLite reads the existing -wal and -shm)."""
    wal = path.with_name(path.name + "-wal")
    mode = "mode=ro" if wal.exists() and wal.stat().st_size else "immutable=1"
    return f"sqlite:///file:{quote(str(path.resolve()))}?{mode}&uri=true"


def get_engine(url: str | None = None) -> Engine:
    url = database_url(url)
    if url not in _engines:
        try:
            if is_sqlite(url):
                path = sqlite_path(url)
                if sqlite_read_only(path):
                    engine = create_engine(_read_only_url(path), connect_args={"timeout": 30})
                    engine.sgi_read_only = True
                    event.listen(engine, "connect", _sqlite_read_only_pragmas)
                    _engines[url] = engine
                    return engine
                if path:
                    path.parent.mkdir(parents=True, exist_ok=True)
                engine = create_engine(url, connect_args={"timeout": 30})
                event.listen(engine, "connect", _sqlite_pragmas)
            else:
                # Sessions in UTC whatever the server's TimeZone (often Asia/Shanghai): naive DateTime
                # columns then hold UTC as on SQLite, and timestamptz values come back in UTC.
                engine = create_engine(url, pool_pre_ping=True, connect_args={"options": "-c timezone=UTC"})
        except Exception as exc:  # bad URL, missing driver
            raise SgiError(f"cannot open database {url}: {exc}",
                           "check --db / SGI_DATABASE_URL (e.g. sqlite:///sgi.db or postgresql+psycopg://user@host/db)")
        _engines[url] = engine
    return _engines[url]


# What SQLite says when the file behind --db is the problem, not sgi: (message part, hint, exit code).
_DATABASE_PROBLEMS = (
    ("file is not a database", "--db names a file that is not an SQLite database; check --db / SGI_DATABASE_URL", 2),
    ("database disk image is malformed", "the database file is damaged; restore it from a backup or use another --db", 2),
    ("unable to open database file", "check that --db names a file in a directory that exists and that you may "
                                     "write (read-only commands also open a database on read-only media)", 2),
    ("readonly database", "this command writes, and the database is read-only; copy it somewhere writable", 2),
    ("database or disk is full", "free disk space (database and archive), then continue a crawl with "
                                 "`sgi crawl --resume` and the options it ran with (--sample-web, --sources)", 1),
)


def database_problem(exc: BaseException) -> tuple[str, str, int] | None:
    """(message, hint, exit code) when exc is SQLite refusing the database file itself (corrupt,
    unreadable, read-only, disk full): the user's to fix, not a bug to report."""
    import sqlite3

    from sqlalchemy.exc import DBAPIError

    orig = exc.orig if isinstance(exc, DBAPIError) else exc
    if not isinstance(orig, sqlite3.Error):
        return None
    text = str(orig)
    for part, hint, code in _DATABASE_PROBLEMS:
        if part in text:
            return f"database: {text}", hint, code
    return None


def dispose_all() -> None:
    for engine in _engines.values():
        engine.dispose()
    _engines.clear()


def _alembic_config(url: str):
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(Path(__file__).parent / "migrations"))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    cfg.attributes["engine"] = get_engine(url)
    return cfg


def upgrade(url: str | None = None, revision: str = "head") -> None:
    """Create or migrate the schema to the latest revision (`sgi db upgrade`)."""
    from alembic import command

    url = database_url(url)
    cfg = _alembic_config(url)
    # One migrator at a time: processes that open a new database together would each create its tables
    # ("table city already exists"). The lock is taken before alembic reads the revision, in the
    # transaction that migrates (DDL is transactional on SQLite and PostgreSQL), so a process that waited
    # finds the schema current and does nothing.
    with get_engine(url).begin() as conn:
        _lock_schema(conn)
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, revision)


# pg_advisory_xact_lock key of schema migrations (any constant shared by every sgi process)
_SCHEMA_LOCK_KEY = 0x5367_6953_6368_656D


def _lock_schema(conn: Connection) -> None:
    if conn.dialect.name == "sqlite":
        # The write lock now (busy_timeout waits for another migrator), not at the first write.
        conn.exec_driver_sql("BEGIN IMMEDIATE")
    elif conn.dialect.name == "postgresql":
        conn.exec_driver_sql(f"SELECT pg_advisory_xact_lock({_SCHEMA_LOCK_KEY})")


def current_revision(url: str | None = None) -> str | None:
    from alembic.runtime.migration import MigrationContext

    with get_engine(url).connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def ensure_schema(url: str | None = None) -> Engine:
    """Open the database, creating/migrating it on first use."""
    url = database_url(url)
    engine = get_engine(url)
    revision = current_revision(url)
    if revision != _head_revision():
        if getattr(engine, "sgi_read_only", False):
            raise SgiError(f"database {url} is read-only and its schema ({revision or 'none'}) is not this "
                           f"sgi's ({_head_revision()})",
                           "copy the file somewhere writable and run `sgi db upgrade --db` on the copy")
        upgrade(url)
    return engine


@functools.lru_cache(maxsize=1)
def _head_revision() -> str | None:
    """The newest migration (read once per process: a crawl opens the database dozens of times)."""
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    cfg = Config()
    cfg.set_main_option("script_location", str(Path(__file__).parent / "migrations"))
    return ScriptDirectory.from_config(cfg).get_current_head()


@contextmanager
def connect(url: str | None = None):
    """A transaction on the (migrated) database."""
    engine = ensure_schema(url)
    with engine.begin() as conn:
        yield conn


UPSERT_CHUNK = 1000


def upsert(conn: Connection, model: type[SQLModel], rows: Sequence[dict], keys: Iterable[str],
           update: Iterable[str] | None = None) -> None:
    """INSERT ... ON CONFLICT (keys) DO UPDATE, on SQLite and PostgreSQL alike.

    ``update`` names the columns a conflicting row overwrites (default: every non-key column given).
    """
    if not rows:
        return
    keys = tuple(keys)
    cols = tuple(rows[0].keys())
    update = tuple(c for c in (update if update is not None else cols) if c not in keys)
    stmt = _upsert_statement(model.__table__, conn.dialect.name, keys, update)
    plan = _driver_plan(stmt, conn.dialect, cols) if conn.dialect.name == "sqlite" else None
    # One statement executed for many parameter sets (executemany): compiled once and cached, where a
    # multi-row VALUES statement was compiled anew for every batch (most of a crawl's write time).
    # Chunks bound the driver's per-call copies when a spider saves a whole board at once.
    for start in range(0, len(rows), UPSERT_CHUNK):
        chunk = rows[start:start + UPSERT_CHUNK]
        values = _driver_values(plan, chunk, len(cols)) if plan is not None else None
        if values is not None:
            conn.exec_driver_sql(plan[0], values)
        else:
            conn.execute(stmt, list(chunk))


def _driver_values(plan, chunk, width: int) -> list[tuple] | None:
    """Parameter tuples for the driver, or None when a row has other columns than the first."""
    _sql, converters = plan
    values = []
    for row in chunk:
        if len(row) != width:
            return None
        try:
            values.append(tuple(convert(row[name]) if convert else row[name] for name, convert in converters))
        except KeyError:
            return None
    return values


@functools.lru_cache(maxsize=256)
def _driver_plan(stmt, dialect, cols: tuple):
    """The compiled SQL of an upsert for these columns and, per parameter, the column type's own bind
    conversion (what SQLAlchemy applies per row), so a batch goes to the driver in one executemany
    without SQLAlchemy's per-row parameter processing (on SQLite most of an upsert's time). None
    when the statement would need values the rows do not give (column defaults): the ordinary way."""
    compiled = stmt.compile(dialect=dialect, column_keys=list(cols))
    names = compiled.positiontup
    if names is None or sorted(names) != sorted(cols) or compiled.insert_prefetch or compiled.postfetch:
        return None
    converters = tuple((name, compiled.binds[name].type.dialect_impl(dialect).bind_processor(dialect)) for name in names)
    return compiled.string, converters


@functools.lru_cache(maxsize=256)
def _upsert_statement(table, dialect: str, keys: tuple, update: tuple):
    """The upsert statement of a table, keys and updated columns (statements are immutable; building
    one, with its EXCLUDED columns, cost more than executing it for a small batch)."""
    if dialect == "sqlite":
        from sqlalchemy.dialects.sqlite import insert
    elif dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:  # pragma: no cover
        raise SgiError(f"unsupported database dialect {dialect}")
    stmt = insert(table)
    if update:
        return stmt.on_conflict_do_update(index_elements=list(keys), set_={c: getattr(stmt.excluded, c) for c in update})
    return stmt.on_conflict_do_nothing(index_elements=list(keys))


def table_names(url: str | None = None) -> list[str]:
    return inspect(get_engine(url)).get_table_names()
