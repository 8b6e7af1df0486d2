"""apps tables

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-22
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "app_snapshot",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("store", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("app_id", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("crawl_date", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("city_code", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("app_name", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("developer", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("rating", sa.Float(), nullable=True),
        sa.Column("rating_count", sa.Integer(), nullable=True),
        sa.Column("version", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("release_date", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("downloads", sa.BigInteger(), nullable=True),
        sa.Column("downloads_note", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("size_bytes", sa.BigInteger(), nullable=True),
        sa.Column("url", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("snapshot_id", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("recorded_at", sa.DateTime(), nullable=False),
        sa.UniqueConstraint("store", "app_id", "crawl_date", name="uq_app_snapshot"),
    )
    op.create_index("ix_app_snapshot_city_date", "app_snapshot", ["city_code", "crawl_date"])
    op.create_index("ix_app_snapshot_city_code", "app_snapshot", ["city_code"])
    op.create_index("ix_app_snapshot_run_id", "app_snapshot", ["run_id"])


def downgrade() -> None:
    op.drop_index("ix_app_snapshot_run_id", table_name="app_snapshot")
    op.drop_index("ix_app_snapshot_city_code", table_name="app_snapshot")
    op.drop_index("ix_app_snapshot_city_date", table_name="app_snapshot")
    op.drop_table("app_snapshot")
