"""Crime reports and their history (backoffice/crime/).

Revision ID: 0004
Revises: 0003
Create Date: 2024-07-01
"""
from alembic import op
import sqlalchemy as sa

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "crime_reports",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("folio", sa.String(20), nullable=True),
        sa.Column("crime_type", sa.String(40), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("language", sa.String(5), nullable=False),
        sa.Column("facts", sa.JSON(), nullable=False),
        sa.Column("unknown_facts", sa.JSON(), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("occurred_date", sa.Date(), nullable=True),
        sa.Column("occurred_time", sa.String(5), nullable=True),
        sa.Column("place", sa.String(500), nullable=True),
        sa.Column("alcaldia", sa.String(100), nullable=True),
        sa.Column("author_issuer", sa.String(500), nullable=False),
        sa.Column("author_subject", sa.String(255), nullable=False),
        sa.Column("author_name", sa.String(300), nullable=True),
        sa.Column("author_curp", sa.String(18), nullable=True),
        sa.Column("author_email", sa.String(254), nullable=True),
        sa.Column("author_phone", sa.String(50), nullable=True),
        sa.Column("channel", sa.String(50), nullable=True),
        sa.Column("conversation_id", sa.String(255), nullable=False),
        sa.Column("declaration_text", sa.Text(), nullable=False),
        sa.Column("declared_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("second_factor_id", sa.Integer(), nullable=False),
        sa.Column("filed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("accepted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("idempotency_key", sa.String(255), nullable=True),
        sa.Column("pdf", sa.LargeBinary(), nullable=True),
        sa.Column("pdf_sha256", sa.String(64), nullable=True),
        sa.Column("pdf_signature", sa.String(120), nullable=True),
        sa.Column("data_sha256", sa.String(64), nullable=True),
        sa.Column("data_signature", sa.String(120), nullable=True),
        sa.Column("signing_key_id", sa.String(40), nullable=True),
        sa.CheckConstraint(
            "status IN ('submitted', 'info_requested', 'accepted')", name=op.f("ck_crime_reports_status_valid")
        ),
        sa.ForeignKeyConstraint(
            ["second_factor_id"],
            ["verification_codes.id"],
            name=op.f("fk_crime_reports_second_factor_id_verification_codes"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_crime_reports")),
        sa.UniqueConstraint("folio", name=op.f("uq_crime_reports_folio")),
        sa.UniqueConstraint("idempotency_key", name=op.f("uq_crime_reports_idempotency_key")),
        sa.UniqueConstraint("second_factor_id", name=op.f("uq_crime_reports_second_factor_id")),
        sqlite_autoincrement=True,
    )
    op.create_index(op.f("ix_crime_reports_author_subject"), "crime_reports", ["author_subject"])
    op.create_index(op.f("ix_crime_reports_conversation_id"), "crime_reports", ["conversation_id"])
    op.create_index(op.f("ix_crime_reports_pdf_sha256"), "crime_reports", ["pdf_sha256"])
    op.create_index("ix_crime_reports_status_filed_at", "crime_reports", ["status", "filed_at"])

    op.create_table(
        "crime_report_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("report_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("text", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("notification_status", sa.String(10), nullable=True),
        sa.Column("notification_error", sa.String(100), nullable=True),
        sa.CheckConstraint(
            "kind IN ('filed', 'info_requested', 'info_added', 'accepted')",
            name=op.f("ck_crime_report_events_kind_valid"),
        ),
        sa.ForeignKeyConstraint(
            ["report_id"], ["crime_reports.id"], name=op.f("fk_crime_report_events_report_id_crime_reports")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_crime_report_events")),
    )
    op.create_index(op.f("ix_crime_report_events_report_id"), "crime_report_events", ["report_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_crime_report_events_report_id"), table_name="crime_report_events")
    op.drop_table("crime_report_events")
    op.drop_index("ix_crime_reports_status_filed_at", table_name="crime_reports")
    op.drop_index(op.f("ix_crime_reports_pdf_sha256"), table_name="crime_reports")
    op.drop_index(op.f("ix_crime_reports_conversation_id"), table_name="crime_reports")
    op.drop_index(op.f("ix_crime_reports_author_subject"), table_name="crime_reports")
    op.drop_table("crime_reports")
