"""Tables of the mailbox harvest: one row per message (never its text), and per-board statistics.

``message``  natural key (city_code, board, message_id). Kept: title / category / replying department
             (all scrubbed of phone numbers, ID-card numbers and e-mail addresses), status, dates, reply
             length (the reply text itself is not kept), URLs, the run and snapshot it was last read
             from, and whether its detail page was read. The letter's body is never stored.
``message_board_stat``  natural key (city_code, board, period, run_id): the indicator values of one
             board; the ``observation`` table holds the city's combined values (the registry's codes).
"""

from __future__ import annotations

from typing import Optional

from sqlalchemy import JSON, Column, UniqueConstraint
from sqlmodel import Field, SQLModel


class Message(SQLModel, table=True):
    __tablename__ = "message"
    __table_args__ = (UniqueConstraint("city_code", "board", "message_id", name="uq_message"),)
    id: Optional[int] = Field(default=None, primary_key=True)
    city_code: str = Field(foreign_key="city.code", index=True)
    board: str = Field(description="board key from the source file (options.board)")
    message_id: str = Field(description="the board's own id of the message")
    title: Optional[str] = Field(default=None, description="scrubbed of phone / ID-card / e-mail")
    category: Optional[str] = None
    status: Optional[str] = Field(default=None, description="replied / in_progress / not_replied")
    submitted_date: Optional[str] = Field(default=None, description="YYYY-MM-DD")
    reply_date: Optional[str] = Field(default=None, description="YYYY-MM-DD")
    reply_department: Optional[str] = None
    reply_length: Optional[int] = Field(default=None, description="characters of the reply, whitespace not counted")
    date_flag: Optional[str] = Field(default=None, description="reply_before_submit when the reply predates the message")
    list_url: Optional[str] = None
    detail_url: Optional[str] = None
    detail_status: Optional[str] = Field(default=None, description="ok / not_found / error / blocked / skipped / none")
    first_run_id: Optional[int] = Field(default=None, foreign_key="crawl_run.id")
    run_id: Optional[int] = Field(default=None, foreign_key="crawl_run.id", description="last run that read it")
    snapshot_id: Optional[str] = Field(default=None, description="the response its values were last read from")
    checked_on: Optional[str] = Field(default=None, description="crawl date of the last reading")


class MessageBoardStat(SQLModel, table=True):
    __tablename__ = "message_board_stat"
    __table_args__ = (UniqueConstraint("city_code", "board", "period", "run_id", name="uq_message_board_stat"),)
    id: Optional[int] = Field(default=None, primary_key=True)
    run_id: int = Field(foreign_key="crawl_run.id", index=True)
    city_code: str = Field(foreign_key="city.code", index=True)
    board: str
    period: str
    status: str = Field(description="ok / blocked / error (of the board's list pages)")
    messages_total: Optional[int] = None
    messages_replied: Optional[int] = None
    replies_flagged: Optional[int] = Field(default=None, description="replies dated before their message")
    messages_undated: Optional[int] = None
    messages_per_10k: Optional[float] = None
    reply_rate: Optional[float] = None
    reply_delay_median_days: Optional[float] = None
    reply_delay_p90_days: Optional[float] = None
    replied_within_15d_share: Optional[float] = None
    reply_length_median: Optional[float] = None
    evidence_snapshots: list = Field(default_factory=list, sa_column=Column(JSON))


# --- reading and writing (used by spiders/mailbox.py) ------------------------------------------------

def load_messages(url: str | None, city_code: str, board: str) -> dict[str, dict]:
    """Stored messages of one board: message_id -> row dict."""
    from sqlalchemy import select

    from storage import db

    engine = db.ensure_schema(url)
    with engine.connect() as conn:
        rows = conn.execute(select(Message.__table__).where(Message.city_code == city_code,
                                                            Message.board == board)).mappings().all()
    return {r["message_id"]: dict(r) for r in rows}


def city_population(url: str | None, city_code: str, fallback: int | None = None) -> int | None:
    """The city's population from the city table; when unknown there and the source entry gives one
    (the sample web does), that number is written into the city table and used."""
    from sqlalchemy import select, update

    from storage import db
    from storage.models import City

    engine = db.ensure_schema(url)
    with engine.begin() as conn:
        row = conn.execute(select(City.population).where(City.code == city_code)).first()
        if row and row[0]:
            return int(row[0])
        if fallback and row is not None:
            conn.execute(update(City).where(City.code == city_code).values(population=int(fallback)))
            return int(fallback)
    return int(fallback) if fallback else None


def save_messages(url: str | None, run_id: int | None, crawl_date, city_code: str, board: str, merged) -> int:
    """Upsert the messages read in this run (``merged``: (collectors.mailbox.Message, extras) pairs).
    Text fields are scrubbed of personal data here, whatever the caller did."""
    from collectors.mailbox import scrub_pii
    from storage import db

    rows = []
    for msg, extra in merged:
        if extra.get("stored"):
            continue
        rows.append(dict(city_code=city_code, board=board, message_id=scrub_pii(msg.message_id),
                         title=scrub_pii(msg.title), category=scrub_pii(msg.category), status=msg.status
                         or ("replied" if msg.replied else None),
                         submitted_date=msg.submitted.isoformat() if msg.submitted else None,
                         reply_date=msg.reply_date.isoformat() if msg.reply_date else None,
                         reply_department=scrub_pii(msg.department), reply_length=msg.reply_length,
                         date_flag=msg.date_flag, list_url=extra.get("list_url"), detail_url=msg.detail_url,
                         detail_status=extra.get("detail_status"), first_run_id=run_id, run_id=run_id,
                         snapshot_id=extra.get("snapshot_id"), checked_on=crawl_date.isoformat()))
    if rows:
        with db.get_engine(url).begin() as conn:
            db.upsert(conn, Message, rows, ["city_code", "board", "message_id"],
                      update=[k for k in rows[0] if k not in ("city_code", "board", "message_id", "first_run_id")])
    return len(rows)


def save_board_stats(url: str | None, rows: list[dict]) -> None:
    from storage import db

    if not rows:
        return
    cols = [c.name for c in MessageBoardStat.__table__.columns if c.name != "id"]
    full = [{c: r.get(c) for c in cols} for r in rows]
    with db.get_engine(url).begin() as conn:
        db.upsert(conn, MessageBoardStat, full, ["city_code", "board", "period", "run_id"])
