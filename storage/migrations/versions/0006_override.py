"""override table (auditor corrections beside machine values)

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-22
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    S = sqlmodel.sql.sqltypes.AutoString
    op.create_table(
        "override",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("city_code", S(), nullable=False),
        sa.Column("indicator", S(), nullable=False),
        sa.Column("period", S(), nullable=False, server_default=""),
        sa.Column("value_num", sa.Float(), nullable=True),
        sa.Column("value_text", S(), nullable=True),
        sa.Column("status", S(), nullable=False),
        sa.Column("reason", S(), nullable=False),
        sa.Column("created_by", S(), nullable=False),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("evidence_url", S(), nullable=True),
        sa.Column("machine_observation_id", sa.Integer(), nullable=True),
        sa.Column("removed_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column("removed_by", S(), nullable=True),
        sa.Column("removed_reason", S(), nullable=True),
    )
    op.create_index("ix_override_city_ind", "override", ["city_code", "indicator"])


def downgrade() -> None:
    op.drop_index("ix_override_city_ind", table_name="override")
    op.drop_table("override")
