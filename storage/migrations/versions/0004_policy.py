"""policy tables

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-22
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None

S = sqlmodel.sql.sqltypes.AutoString


def upgrade() -> None:
    op.create_table(
        "policy_document",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("city_code", S(), nullable=False),
        sa.Column("doc_key", S(), nullable=False),
        sa.Column("kind", S(), nullable=False),
        sa.Column("title", S(), nullable=True),
        sa.Column("doc_number", S(), nullable=True),
        sa.Column("issuer", S(), nullable=True),
        sa.Column("index_number", S(), nullable=True),
        sa.Column("subject", S(), nullable=True),
        sa.Column("written_date", S(), nullable=True),
        sa.Column("published_date", S(), nullable=True),
        sa.Column("validity", S(), nullable=True),
        sa.Column("is_normative", sa.Boolean(), nullable=False),
        sa.Column("is_policy", sa.Boolean(), nullable=False),
        sa.Column("categories", sa.JSON(), nullable=True),
        sa.Column("groups", sa.JSON(), nullable=True),
        sa.Column("rules", sa.JSON(), nullable=True),
        sa.Column("url", S(), nullable=False),
        sa.Column("urls", sa.JSON(), nullable=True),
        sa.Column("body_text", sa.Text(), nullable=True),
        sa.Column("body_digest", S(), nullable=True),
        sa.Column("run_id", sa.Integer(), nullable=True),
        sa.Column("snapshot_id", S(), nullable=True),
        sa.Column("rule_version", S(), nullable=True),
        sa.ForeignKeyConstraint(["city_code"], ["city.code"]),
        sa.ForeignKeyConstraint(["run_id"], ["crawl_run.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("city_code", "doc_key", name="uq_policy_document"),
    )
    op.create_index("ix_policy_document_city_code", "policy_document", ["city_code"])
    op.create_table(
        "policy_attachment",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("city_code", S(), nullable=False),
        sa.Column("doc_key", S(), nullable=False),
        sa.Column("url", S(), nullable=False),
        sa.Column("name", S(), nullable=True),
        sa.Column("ext", S(), nullable=True),
        sa.Column("status", S(), nullable=False),
        sa.Column("size", sa.Integer(), nullable=True),
        sa.Column("digest", S(), nullable=True),
        sa.Column("text", sa.Text(), nullable=True),
        sa.Column("skip_reason", S(), nullable=True),
        sa.Column("run_id", sa.Integer(), nullable=True),
        sa.Column("snapshot_id", S(), nullable=True),
        sa.ForeignKeyConstraint(["city_code"], ["city.code"]),
        sa.ForeignKeyConstraint(["run_id"], ["crawl_run.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("city_code", "doc_key", "url", name="uq_policy_attachment"),
    )
    op.create_index("ix_policy_attachment_city_code", "policy_attachment", ["city_code"])


def downgrade() -> None:
    op.drop_index("ix_policy_attachment_city_code", table_name="policy_attachment")
    op.drop_table("policy_attachment")
    op.drop_index("ix_policy_document_city_code", table_name="policy_document")
    op.drop_table("policy_document")
