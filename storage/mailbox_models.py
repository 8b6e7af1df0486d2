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
