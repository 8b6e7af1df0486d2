"""Tables of the policy harvest.

``policy_document``  natural key (city_code, doc_key): one row per distinct document of a city. doc_key is
                     'no:' + the normalised document number (深府办规〔2021〕3号), or, without one,
                     'url:' + a digest of the canonical URL of its near-duplicate group. ``urls`` keeps
                     every URL the document was seen at (reposts by departments, several lists).
``policy_attachment`` natural key (city_code, doc_key, url): digest, size, extracted text, or the reason
                     no text was kept (size cap, corrupt file, unsupported format, fetch failure).
"""

from __future__ import annotations

from typing import Optional

from sqlalchemy import JSON, Column, Text, UniqueConstraint
from sqlmodel import Field, SQLModel


class PolicyDocument(SQLModel, table=True):
    __tablename__ = "policy_document"
    __table_args__ = (UniqueConstraint("city_code", "doc_key", name="uq_policy_document"),)
    id: Optional[int] = Field(default=None, primary_key=True)
    city_code: str = Field(foreign_key="city.code", index=True)
    doc_key: str = Field(description="'no:<normalised 文号>' or 'url:<digest of the canonical URL>'")
    kind: str = Field(default="document", description="document | work_report")
    title: Optional[str] = None
    doc_number: Optional[str] = Field(default=None, description="normalised: brackets folded to 〔〕")
    issuer: Optional[str] = None
    index_number: Optional[str] = None
    subject: Optional[str] = None
    written_date: Optional[str] = Field(default=None, description="成文日期 YYYY-MM-DD")
    published_date: Optional[str] = Field(default=None, description="发布日期 YYYY-MM-DD")
    validity: Optional[str] = Field(default=None, description="有效 / 失效 / 废止 where shown")
    is_normative: bool = False
    is_policy: bool = True
    categories: list = Field(default_factory=list, sa_column=Column(JSON))
    groups: list = Field(default_factory=list, sa_column=Column(JSON))
    rules: list = Field(default_factory=list, sa_column=Column(JSON))
    url: str = Field(description="canonical URL (first of its group in URL order)")
    urls: list = Field(default_factory=list, sa_column=Column(JSON))
    body_text: Optional[str] = Field(default=None, sa_column=Column(Text))
    body_digest: Optional[str] = None
    run_id: Optional[int] = Field(default=None, foreign_key="crawl_run.id")
    snapshot_id: Optional[str] = Field(default=None, description="the detail response it was read from")
    rule_version: Optional[str] = None


class PolicyAttachment(SQLModel, table=True):
    __tablename__ = "policy_attachment"
    __table_args__ = (UniqueConstraint("city_code", "doc_key", "url", name="uq_policy_attachment"),)
    id: Optional[int] = Field(default=None, primary_key=True)
    city_code: str = Field(foreign_key="city.code", index=True)
    doc_key: str
    url: str
    name: Optional[str] = None
    ext: Optional[str] = None
    status: str = Field(description="ok / skipped / error")
    size: Optional[int] = Field(default=None, description="bytes received, or the announced Content-Length")
    digest: Optional[str] = Field(default=None, description="sha256 of the bytes")
    text: Optional[str] = Field(default=None, sa_column=Column(Text))
    skip_reason: Optional[str] = None
    run_id: Optional[int] = Field(default=None, foreign_key="crawl_run.id")
    snapshot_id: Optional[str] = None


def save_policy(url: str | None, doc_rows: list[dict], attachment_rows: list[dict]) -> None:
    from storage import db

    with db.ensure_schema(url).begin() as conn:
        if doc_rows:
            db.upsert(conn, PolicyDocument, doc_rows, ["city_code", "doc_key"])
        if attachment_rows:
            from storage.store import page_identity

            # The sample web's ports change between runs; they are not part of an attachment's identity.
            attachment_rows = [{**row, "url": page_identity(row["url"])} for row in attachment_rows]
            db.upsert(conn, PolicyAttachment, attachment_rows, ["city_code", "doc_key", "url"])
