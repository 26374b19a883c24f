"""Identity: sign-in links, conversations linked to verified people, one-time
codes, the development outbox; service requests keep the verified subject.

Revision ID: 0003
Revises: 0002
Create Date: 2024-06-20
"""
from alembic import op
import sqlalchemy as sa

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("service_requests") as batch:
        batch.add_column(sa.Column("verified_subject", sa.String(255), nullable=True))
        batch.create_index(op.f("ix_service_requests_verified_subject"), ["verified_subject"])

    op.create_table(
        "identity_sign_ins",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("link_hash", sa.String(64), nullable=False),
        sa.Column("channel", sa.String(50), nullable=True),
        sa.Column("conversation_id", sa.String(255), nullable=False),
        sa.Column("language", sa.String(5), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("followed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("state_hash", sa.String(64), nullable=True),
        sa.Column("browser_hash", sa.String(64), nullable=True),
        sa.Column("nonce", sa.String(128), nullable=True),
        sa.Column("code_verifier", sa.String(128), nullable=True),
        sa.Column("completed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("outcome", sa.String(40), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_identity_sign_ins")),
        sa.UniqueConstraint("link_hash", name=op.f("uq_identity_sign_ins_link_hash")),
        sa.UniqueConstraint("state_hash", name=op.f("uq_identity_sign_ins_state_hash")),
    )
    op.create_index(op.f("ix_identity_sign_ins_conversation_id"), "identity_sign_ins", ["conversation_id"])

    op.create_table(
        "identity_links",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("conversation_id", sa.String(255), nullable=False),
        sa.Column("channel", sa.String(50), nullable=True),
        sa.Column("issuer", sa.String(500), nullable=False),
        sa.Column("subject", sa.String(255), nullable=False),
        sa.Column("name", sa.String(300), nullable=True),
        sa.Column("curp", sa.String(18), nullable=True),
        sa.Column("email", sa.String(254), nullable=True),
        sa.Column("phone", sa.String(50), nullable=True),
        sa.Column("verified_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_identity_links")),
        sa.UniqueConstraint("conversation_id", name=op.f("uq_identity_links_conversation_id")),
    )
    op.create_index(op.f("ix_identity_links_subject"), "identity_links", ["subject"])

    op.create_table(
        "verification_codes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("conversation_id", sa.String(255), nullable=False),
        sa.Column("subject", sa.String(255), nullable=False),
        sa.Column("code_hash", sa.String(64), nullable=False),
        sa.Column("via", sa.String(10), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("closed_reason", sa.String(20), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_verification_codes")),
    )
    op.create_index(op.f("ix_verification_codes_conversation_id"), "verification_codes", ["conversation_id"])

    op.create_table(
        "dev_outbox",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("via", sa.String(10), nullable=False),
        sa.Column("recipient", sa.String(254), nullable=False),
        sa.Column("subject", sa.String(200), nullable=True),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dev_outbox")),
    )


def downgrade() -> None:
    op.drop_table("dev_outbox")
    op.drop_index(op.f("ix_verification_codes_conversation_id"), table_name="verification_codes")
    op.drop_table("verification_codes")
    op.drop_index(op.f("ix_identity_links_subject"), table_name="identity_links")
    op.drop_table("identity_links")
    op.drop_index(op.f("ix_identity_sign_ins_conversation_id"), table_name="identity_sign_ins")
    op.drop_table("identity_sign_ins")
    with op.batch_alter_table("service_requests") as batch:
        batch.drop_index(op.f("ix_service_requests_verified_subject"))
        batch.drop_column("verified_subject")
