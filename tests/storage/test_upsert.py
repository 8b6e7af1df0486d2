"""storage.db.upsert on SQLite sends batches straight to the driver with the column types' own bind
conversions; the rows stored must be exactly what SQLAlchemy's own execution stores (compared on the
raw SQLite values: datetimes, JSON, booleans, floats, NULLs), for first inserts and for conflicts."""

from __future__ import annotations

import sqlite3
from datetime import date, datetime, timezone

import pytest
import sqlalchemy as sa

from storage import db
from storage.crawlstate_models import FetchJournal, UrlState
from storage.mailbox_models import Message
from storage.models import Observation, Snapshot
from storage.opendata_models import Dataset

MODELS = [Snapshot, Observation, UrlState, FetchJournal, Dataset, Message]


def _value(column, n: int, key: bool = False):
    key = key or not column.nullable
    t = column.type
    t = t.impl if isinstance(t, sa.TypeDecorator) else t
    if isinstance(t, sa.Boolean):
        return n % 2 == 0
    if isinstance(t, sa.DateTime):
        return datetime(2026, 6, 30, 8, n, 5, 123456, tzinfo=timezone.utc) if n % 3 or key else None
    if isinstance(t, sa.Date):
        return date(2026, 6, n + 1)
    if isinstance(t, sa.JSON):
        return ["政务", n, {"k": n}] if n % 2 else {"a": [1.5, None]}
    if isinstance(t, sa.Float):
        return n + 0.25
    if isinstance(t, sa.Integer):
        return n
    return f"值-{column.name}-{n}" if n % 4 != 3 or key else None


def _rows(model, keys, n: int, variant: int = 0) -> list[dict]:
    cols = [c for c in model.__table__.columns
            if not (c.name == "id" and c.primary_key and isinstance(c.type, sa.Integer))]
    return [{c.name: _value(c, i, key=True) if c.name in keys else _value(c, i + variant) for c in cols}
            for i in range(n)]


def _keys(model):
    uniques = [c for c in model.__table__.constraints if isinstance(c, sa.UniqueConstraint)]
    if uniques:
        return [c.name for c in uniques[0].columns]
    return [c.name for c in model.__table__.primary_key.columns]


def _store(path, monkeypatch, direct: bool) -> dict:
    url = f"sqlite:///{path}"
    if not direct:
        monkeypatch.setattr(db, "_driver_plan", lambda *a: None)
    engine = db.ensure_schema(url)
    for model in MODELS:
        keys = _keys(model)
        for rows in (_rows(model, keys, 6), _rows(model, keys, 4, variant=1)):   # then conflicts
            with engine.begin() as conn:
                conn.exec_driver_sql("PRAGMA foreign_keys = OFF")    # made-up rows cite nothing
                db.upsert(conn, model, rows, keys)
    monkeypatch.undo()
    con = sqlite3.connect(path)
    out = {m.__tablename__: sorted(con.execute(f"SELECT * FROM {m.__tablename__}").fetchall(), key=repr)
           for m in MODELS}
    con.close()
    return out


def test_direct_upserts_store_what_sqlalchemy_stores(tmp_path, monkeypatch):
    direct = _store(tmp_path / "direct.db", monkeypatch, direct=True)
    ordinary = _store(tmp_path / "ordinary.db", monkeypatch, direct=False)
    for table in ordinary:
        assert len(ordinary[table]) == 6, table
        assert direct[table] == ordinary[table], table


def test_the_direct_way_is_taken_for_the_crawls_tables(tmp_path):
    from sqlalchemy.dialects import sqlite

    dialect = sqlite.dialect()
    for model in MODELS:
        keys = tuple(_keys(model))
        cols = tuple(_rows(model, keys, 1)[0])
        stmt = db._upsert_statement(model.__table__, "sqlite", keys, tuple(c for c in cols if c not in keys))
        assert db._driver_plan(stmt, dialect, cols) is not None, model.__tablename__


@pytest.mark.parametrize("odd_row", ["a column fewer", "another column"])
def test_rows_unlike_the_first_are_refused_as_sqlalchemy_refuses_them(tmp_path, odd_row):
    engine = db.ensure_schema(f"sqlite:///{tmp_path / 'm.db'}")
    keys = _keys(Observation)
    rows = _rows(Observation, keys, 3)
    detail = rows[2].pop("evidence_detail")
    if odd_row == "another column":
        rows[2]["unknown"] = detail
    with pytest.raises(sa.exc.StatementError):
        with engine.begin() as conn:
            db.upsert(conn, Observation, rows, keys)
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM observation")).scalar() == 0
