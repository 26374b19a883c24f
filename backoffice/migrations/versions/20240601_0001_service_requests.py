"""311 service requests, their status history and outbound notifications.

Revision ID: 0001
Revises:
Create Date: 2024-06-01
"""
from alembic import op
import sqlalchemy as sa

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "service_requests",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("folio", sa.String(20), nullable=True),
        sa.Column("service_code", sa.String(64), nullable=False),
        sa.Column("status", sa.String(10), nullable=False),
        sa.Column("status_notes", sa.Text(), nullable=True),
        sa.Column("agency_responsible", sa.String(200), nullable=False),
        sa.Column("service_notice", sa.Text(), nullable=True),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("lat", sa.Float(), nullable=True),
        sa.Column("long", sa.Float(), nullable=True),
        sa.Column("address_string", sa.String(500), nullable=True),
        sa.Column("address_key", sa.String(500), nullable=True),
        sa.Column("alcaldia", sa.String(100), nullable=True),
        sa.Column("media_url", sa.String(2000), nullable=True),
        sa.Column("email", sa.String(254), nullable=True),
        sa.Column("phone", sa.String(50), nullable=True),
        sa.Column("first_name", sa.String(100), nullable=True),
        sa.Column("last_name", sa.String(100), nullable=True),
        sa.Column("channel", sa.String(50), nullable=True),
        sa.Column("conversation_id", sa.String(255), nullable=True),
        sa.Column("idempotency_key", sa.String(255), nullable=True),
        sa.Column("parent_request_id", sa.Integer(), nullable=True),
        sa.Column("requested_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expected_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("status IN ('open', 'closed')", name=op.f("ck_service_requests_status_valid")),
        sa.ForeignKeyConstraint(
            ["parent_request_id"],
            ["service_requests.id"],
            name=op.f("fk_service_requests_parent_request_id_service_requests"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_service_requests")),
        sa.UniqueConstraint("folio", name=op.f("uq_service_requests_folio")),
        sa.UniqueConstraint("idempotency_key", name=op.f("uq_service_requests_idempotency_key")),
        sqlite_autoincrement=True,
    )
    op.create_index(op.f("ix_service_requests_address_key"), "service_requests", ["address_key"])
    op.create_index(op.f("ix_service_requests_parent_request_id"), "service_requests", ["parent_request_id"])
    op.create_index(op.f("ix_service_requests_requested_at"), "service_requests", ["requested_at"])
    op.create_index("ix_service_requests_code_status", "service_requests", ["service_code", "status"])

    op.create_table(
        "status_changes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("request_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(10), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("agency", sa.String(200), nullable=True),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("status IN ('open', 'closed')", name=op.f("ck_status_changes_status_valid")),
        sa.ForeignKeyConstraint(
            ["request_id"], ["service_requests.id"], name=op.f("fk_status_changes_request_id_service_requests")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_status_changes")),
    )
    op.create_index(op.f("ix_status_changes_request_id"), "status_changes", ["request_id"])

    op.create_table(
        "outbound_notifications",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("request_id", sa.Integer(), nullable=False),
        sa.Column("status_change_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(10), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.String(300), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "status IN ('pending', 'sent', 'failed')", name=op.f("ck_outbound_notifications_status_valid")
        ),
        sa.ForeignKeyConstraint(
            ["request_id"],
            ["service_requests.id"],
            name=op.f("fk_outbound_notifications_request_id_service_requests"),
        ),
        sa.ForeignKeyConstraint(
            ["status_change_id"],
            ["status_changes.id"],
            name=op.f("fk_outbound_notifications_status_change_id_status_changes"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outbound_notifications")),
    )
    op.create_index(op.f("ix_outbound_notifications_request_id"), "outbound_notifications", ["request_id"])
    op.create_index(op.f("ix_outbound_notifications_status"), "outbound_notifications", ["status"])


def downgrade() -> None:
    op.drop_table("outbound_notifications")
    op.drop_table("status_changes")
    op.drop_table("service_requests")
