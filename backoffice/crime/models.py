"""Tables of crime reports (registered on backoffice.models.Base; migration 0004).

A report keeps what the resident declared (facts as the assistant normalised
them, the account verbatim), who declared it (a snapshot of the verified
identity of the signed-in conversation at filing time) and what happened to
it afterwards (`CrimeReportEvent`: filed, missing facts asked, answered,
accepted). The signed PDF is generated once, at acceptance, and stored with
its signature, so every download is the same bytes.
"""
from __future__ import annotations

from datetime import date, datetime
from typing import Any, Dict, List, Optional

from sqlalchemy import (
    JSON,
    CheckConstraint,
    Column,
    Date,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
)
from sqlalchemy.orm import Mapped, relationship

from backoffice.models import Base, UTCDateTime

SUBMITTED = "submitted"
INFO_REQUESTED = "info_requested"
ACCEPTED = "accepted"
STATUSES = (SUBMITTED, INFO_REQUESTED, ACCEPTED)

# Kinds of events in a report's history.
FILED = "filed"
INFO_ASKED = "info_requested"
INFO_ADDED = "info_added"
ACCEPTED_EVENT = "accepted"
EVENT_KINDS = (FILED, INFO_ASKED, INFO_ADDED, ACCEPTED_EVENT)


class CrimeReport(Base):
    __tablename__ = "crime_reports"
    __table_args__ = (
        CheckConstraint("status IN ('submitted', 'info_requested', 'accepted')", name="status_valid"),
        Index("ix_crime_reports_status_filed_at", "status", "filed_at"),
        # A folio is derived from the id: never reuse the id of a deleted last row.
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = Column(Integer, primary_key=True)
    folio: Mapped[Optional[str]] = Column(String(20), unique=True)
    crime_type: Mapped[str] = Column(String(40), nullable=False)
    status: Mapped[str] = Column(String(20), nullable=False, default=SUBMITTED)
    language: Mapped[str] = Column(String(5), nullable=False, default="es")

    # What the resident declared. `facts`: field -> normalised value (crime_types.yml
    # fields); `unknown_facts`: fields the resident said they do not know.
    facts: Mapped[Dict[str, Any]] = Column(JSON, nullable=False)
    unknown_facts: Mapped[List[str]] = Column(JSON, nullable=False)
    description: Mapped[str] = Column(Text, nullable=False)
    occurred_date: Mapped[Optional[date]] = Column(Date)
    occurred_time: Mapped[Optional[str]] = Column(String(5))  # HH:MM, city time
    place: Mapped[Optional[str]] = Column(String(500))
    alcaldia: Mapped[Optional[str]] = Column(String(100))

    # Who declared it: the verified identity of the conversation when it was filed.
    author_issuer: Mapped[str] = Column(String(500), nullable=False)
    author_subject: Mapped[str] = Column(String(255), nullable=False, index=True)
    author_name: Mapped[Optional[str]] = Column(String(300))
    author_curp: Mapped[Optional[str]] = Column(String(18))
    author_email: Mapped[Optional[str]] = Column(String(254))
    author_phone: Mapped[Optional[str]] = Column(String(50))
    channel: Mapped[Optional[str]] = Column(String(50))
    conversation_id: Mapped[str] = Column(String(255), nullable=False, index=True)

    # The legal declaration the resident accepted, word for word, and when.
    declaration_text: Mapped[str] = Column(Text, nullable=False)
    declared_at: Mapped[datetime] = Column(UTCDateTime, nullable=False)
    # The accepted one-time code that authorised this filing (one filing per code).
    second_factor_id: Mapped[int] = Column(ForeignKey("verification_codes.id"), nullable=False, unique=True)

    filed_at: Mapped[datetime] = Column(UTCDateTime, nullable=False)
    updated_at: Mapped[datetime] = Column(UTCDateTime, nullable=False)
    accepted_at: Mapped[Optional[datetime]] = Column(UTCDateTime)
    # Unique: a retried filing with the same key returns the report already filed.
    idempotency_key: Mapped[Optional[str]] = Column(String(255), unique=True)

    # The signed PDF (set at acceptance): its bytes, SHA-256 and Ed25519 signature,
    # and the signature of the report's canonical JSON that the PDF prints.
    pdf: Mapped[Optional[bytes]] = Column(LargeBinary)
    pdf_sha256: Mapped[Optional[str]] = Column(String(64), index=True)
    pdf_signature: Mapped[Optional[str]] = Column(String(120))
    data_sha256: Mapped[Optional[str]] = Column(String(64))
    data_signature: Mapped[Optional[str]] = Column(String(120))
    signing_key_id: Mapped[Optional[str]] = Column(String(40))

    events: Mapped[List["CrimeReportEvent"]] = relationship(
        "CrimeReportEvent", back_populates="report", order_by="CrimeReportEvent.id"
    )


class CrimeReportEvent(Base):
    """One line of a report's history, with the resident notification it caused."""

    __tablename__ = "crime_report_events"
    __table_args__ = (
        CheckConstraint(
            "kind IN ('filed', 'info_requested', 'info_added', 'accepted')", name="kind_valid"
        ),
    )

    id: Mapped[int] = Column(Integer, primary_key=True)
    report_id: Mapped[int] = Column(ForeignKey("crime_reports.id"), nullable=False, index=True)
    kind: Mapped[str] = Column(String(20), nullable=False)
    # The question staff asked, the resident's answer, or the acceptance note.
    text: Mapped[Optional[str]] = Column(Text)
    created_at: Mapped[datetime] = Column(UTCDateTime, nullable=False)
    # Telling the resident (Rasa trigger_intent): sent / failed / None (nothing to tell).
    notification_status: Mapped[Optional[str]] = Column(String(10))
    # Error class or HTTP status only: no URLs (they carry the token), no content.
    notification_error: Mapped[Optional[str]] = Column(String(100))

    report: Mapped[CrimeReport] = relationship("CrimeReport", back_populates="events")
