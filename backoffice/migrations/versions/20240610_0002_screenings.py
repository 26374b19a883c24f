"""COVID-19 screenings: one row per completed screening, no personal data.

Revision ID: 0002
Revises: 0001
Create Date: 2024-06-10
"""
from alembic import op
import sqlalchemy as sa

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "screenings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("level", sa.String(32), nullable=False),
        sa.Column("protocol_version", sa.String(64), nullable=False),
        sa.Column("age_band", sa.String(10), nullable=True),
        sa.Column("alcaldia", sa.String(100), nullable=True),
        sa.Column("channel", sa.String(50), nullable=True),
        sa.Column("answers", sa.JSON(), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("completed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("idempotency_key", sa.String(255), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_screenings")),
        sa.UniqueConstraint("idempotency_key", name=op.f("uq_screenings_idempotency_key")),
    )
    op.create_index("ix_screenings_day_level", "screenings", ["day", "level"])


def downgrade() -> None:
    op.drop_index("ix_screenings_day_level", table_name="screenings")
    op.drop_table("screenings")
