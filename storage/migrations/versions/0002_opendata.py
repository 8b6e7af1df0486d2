"""opendata tables

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    s = sqlmodel.sql.sqltypes.AutoString
    op.create_table(
        "dataset",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("city_code", s(), nullable=False),
        sa.Column("platform", s(), nullable=False),
        sa.Column("adapter", s(), nullable=True),
        sa.Column("dataset_id", s(), nullable=False),
        sa.Column("title", s(), nullable=True),
        sa.Column("publisher", s(), nullable=True),
        sa.Column("topic", s(), nullable=True),
        sa.Column("sector", s(), nullable=True),
        sa.Column("formats", sa.JSON(), nullable=True),
        sa.Column("api", sa.Boolean(), nullable=True),
        sa.Column("machine_readable", sa.Boolean(), nullable=True),
        sa.Column("record_count", sa.Integer(), nullable=True),
        sa.Column("file_size", s(), nullable=True),
        sa.Column("created", s(), nullable=True),
        sa.Column("updated", s(), nullable=True),
        sa.Column("frequency", s(), nullable=True),
        sa.Column("views", sa.Integer(), nullable=True),
        sa.Column("downloads", sa.Integer(), nullable=True),
        sa.Column("licence", s(), nullable=True),
        sa.Column("url", s(), nullable=True),
        sa.Column("first_seen_run_id", sa.Integer(), nullable=True),
        sa.Column("last_seen_run_id", sa.Integer(), nullable=True),
        sa.Column("removed", sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.Column("removed_run_id", sa.Integer(), nullable=True),
        sa.Column("snapshot_id", s(), nullable=True),
        sa.Column("checked_on", s(), nullable=True),
        sa.ForeignKeyConstraint(["city_code"], ["city.code"]),
        sa.ForeignKeyConstraint(["first_seen_run_id"], ["crawl_run.id"]),
        sa.ForeignKeyConstraint(["last_seen_run_id"], ["crawl_run.id"]),
        sa.ForeignKeyConstraint(["removed_run_id"], ["crawl_run.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("platform", "dataset_id", name="uq_dataset"),
    )
    op.create_index("ix_dataset_city_code", "dataset", ["city_code"])
    op.create_index("ix_dataset_platform", "dataset", ["platform"])
    op.create_index("ix_dataset_last_seen_run_id", "dataset", ["last_seen_run_id"])


def downgrade() -> None:
    op.drop_index("ix_dataset_last_seen_run_id", table_name="dataset")
    op.drop_index("ix_dataset_platform", table_name="dataset")
    op.drop_index("ix_dataset_city_code", table_name="dataset")
    op.drop_table("dataset")
