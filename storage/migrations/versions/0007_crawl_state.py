"""crawl state: url_state (validators, revisit schedule), fetch_journal (resume), snapshot.reused_from

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-22
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    S = sqlmodel.sql.sqltypes.AutoString
    T = sqlmodel.sql.sqltypes.UTCDateTime
    op.create_table(
        "url_state",
        sa.Column("spider", S(), primary_key=True),
        sa.Column("url_key", S(), primary_key=True),
        sa.Column("role", S(), nullable=False, server_default=""),
        sa.Column("etag", S(), nullable=True),
        sa.Column("last_modified", S(), nullable=True),
        sa.Column("digest", S(), nullable=True),
        sa.Column("last_snapshot_id", S(), nullable=True),
        sa.Column("last_run_id", sa.Integer(), nullable=True),
        sa.Column("last_fetched_at", T(), nullable=True),
        sa.Column("last_changed_at", T(), nullable=True),
        sa.Column("revisit_interval_s", sa.Integer(), nullable=False, server_default="86400"),
        sa.Column("next_due_at", T(), nullable=True),
        sa.Column("change_count", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("unchanged_count", sa.Integer(), nullable=False, server_default="0"),
    )
    op.create_index("ix_url_state_next_due_at", "url_state", ["next_due_at"])
    op.create_table(
        "fetch_journal",
        sa.Column("run_id", sa.Integer(), primary_key=True),
        sa.Column("key", S(length=60), primary_key=True),
        sa.Column("spider", S(), nullable=False, server_default=""),
        sa.Column("url", S(), nullable=False, server_default=""),
        sa.Column("state", S(), nullable=False),
        sa.Column("snapshot_id", S(), nullable=True),
        sa.Column("recorded_at", T(), nullable=False),
    )
    with op.batch_alter_table("snapshot") as batch:
        batch.add_column(sa.Column("reused_from", S(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("snapshot") as batch:
        batch.drop_column("reused_from")
    op.drop_table("fetch_journal")
    op.drop_index("ix_url_state_next_due_at", table_name="url_state")
    op.drop_table("url_state")
