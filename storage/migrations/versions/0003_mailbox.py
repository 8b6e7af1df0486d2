"""mailbox tables

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "message",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("city_code", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("board", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("message_id", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("title", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("category", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("submitted_date", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("reply_date", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("reply_department", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("reply_length", sa.Integer(), nullable=True),
        sa.Column("date_flag", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("list_url", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("detail_url", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("detail_status", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("first_run_id", sa.Integer(), nullable=True),
        sa.Column("run_id", sa.Integer(), nullable=True),
        sa.Column("snapshot_id", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("checked_on", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.ForeignKeyConstraint(["city_code"], ["city.code"]),
        sa.ForeignKeyConstraint(["first_run_id"], ["crawl_run.id"]),
        sa.ForeignKeyConstraint(["run_id"], ["crawl_run.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("city_code", "board", "message_id", name="uq_message"),
    )
    op.create_index("ix_message_city_code", "message", ["city_code"])
    op.create_table(
        "message_board_stat",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("city_code", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("board", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("period", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("messages_total", sa.Integer(), nullable=True),
        sa.Column("messages_replied", sa.Integer(), nullable=True),
        sa.Column("replies_flagged", sa.Integer(), nullable=True),
        sa.Column("messages_undated", sa.Integer(), nullable=True),
        sa.Column("messages_per_10k", sa.Float(), nullable=True),
        sa.Column("reply_rate", sa.Float(), nullable=True),
        sa.Column("reply_delay_median_days", sa.Float(), nullable=True),
        sa.Column("reply_delay_p90_days", sa.Float(), nullable=True),
        sa.Column("replied_within_15d_share", sa.Float(), nullable=True),
        sa.Column("reply_length_median", sa.Float(), nullable=True),
        sa.Column("evidence_snapshots", sa.JSON(), nullable=True),
        sa.ForeignKeyConstraint(["city_code"], ["city.code"]),
        sa.ForeignKeyConstraint(["run_id"], ["crawl_run.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("city_code", "board", "period", "run_id", name="uq_message_board_stat"),
    )
    op.create_index("ix_message_board_stat_run_id", "message_board_stat", ["run_id"])
    op.create_index("ix_message_board_stat_city_code", "message_board_stat", ["city_code"])


def downgrade() -> None:
    op.drop_index("ix_message_board_stat_city_code", table_name="message_board_stat")
    op.drop_index("ix_message_board_stat_run_id", table_name="message_board_stat")
    op.drop_table("message_board_stat")
    op.drop_index("ix_message_city_code", table_name="message")
    op.drop_table("message")
