"""Tables of the ticket store (SQLAlchemy 1.4, typed declarative, 2.0-style use).

The migrations in backoffice/migrations/ create these tables; a test checks
that the two agree.
"""
from __future__ import annotations

from datetime import date, datetime, timezone
from typing import Any, Dict, List, Optional

from sqlalchemy import (
    JSON,
    CheckConstraint,
    Column,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
)
from sqlalchemy.orm import Mapped, declarative_base, relationship
from sqlalchemy.types import TypeDecorator

# Named constraints so migrations can refer to them on every database.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

Base = declarative_base(metadata=MetaData(naming_convention=NAMING_CONVENTION))

OPEN = "open"
CLOSED = "closed"
STATUSES = (OPEN, CLOSED)

NOTIFICATION_PENDING = "pending"
NOTIFICATION_SENT = "sent"
NOTIFICATION_FAILED = "failed"


class UTCDateTime(TypeDecorator):
    """Aware datetimes in, aware UTC datetimes out, also on SQLite (which drops the offset)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(timezone.utc)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=timezone.utc)
        return value.astimezone(timezone.utc)


class ServiceRequest(Base):
    __tablename__ = "service_requests"
    __table_args__ = (
        CheckConstraint("status IN ('open', 'closed')", name="status_valid"),
        Index("ix_service_requests_code_status", "service_code", "status"),
        # SQLite would otherwise reuse the id of a deleted last row, and with it a folio.
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = Column(Integer, primary_key=True)
    # Set right after the insert from the id; unique so a folio names one request.
    folio: Mapped[Optional[str]] = Column(String(20), unique=True)
    service_code: Mapped[str] = Column(String(64), nullable=False)
    status: Mapped[str] = Column(String(10), nullable=False, default=OPEN)
    status_notes: Mapped[Optional[str]] = Column(Text)
    agency_responsible: Mapped[str] = Column(String(200), nullable=False)
    service_notice: Mapped[Optional[str]] = Column(Text)
    description: Mapped[str] = Column(Text, nullable=False, default="")

    lat: Mapped[Optional[float]] = Column(Float)
    long: Mapped[Optional[float]] = Column(Float)
    address_string: Mapped[Optional[str]] = Column(String(500))
    # normalize_address(address_string): compared to find duplicates.
    address_key: Mapped[Optional[str]] = Column(String(500), index=True)
    alcaldia: Mapped[Optional[str]] = Column(String(100))
    media_url: Mapped[Optional[str]] = Column(String(2000))

    # Contact and conversation: staff-only, never in public responses.
    email: Mapped[Optional[str]] = Column(String(254))
    phone: Mapped[Optional[str]] = Column(String(50))
    first_name: Mapped[Optional[str]] = Column(String(100))
    last_name: Mapped[Optional[str]] = Column(String(100))
    channel: Mapped[Optional[str]] = Column(String(50))
    conversation_id: Mapped[Optional[str]] = Column(String(255))
    # The identity provider's subject when filed from a signed-in conversation
    # (backoffice/identity/): "my requests" lists by it. Staff-only, like the contact.
    verified_subject: Mapped[Optional[str]] = Column(String(255), index=True)

    # Unique: concurrent retries with one key cannot create two requests.
    idempotency_key: Mapped[Optional[str]] = Column(String(255), unique=True)
    parent_request_id: Mapped[Optional[int]] = Column(ForeignKey("service_requests.id"), index=True)

    requested_at: Mapped[datetime] = Column(UTCDateTime, nullable=False, index=True)
    updated_at: Mapped[datetime] = Column(UTCDateTime, nullable=False)
    expected_at: Mapped[Optional[datetime]] = Column(UTCDateTime)

    parent: Mapped[Optional["ServiceRequest"]] = relationship(
        "ServiceRequest", remote_side=[id], back_populates="duplicates"
    )
    duplicates: Mapped[List["ServiceRequest"]] = relationship(
        "ServiceRequest", back_populates="parent", order_by="ServiceRequest.id"
    )
    history: Mapped[List["StatusChange"]] = relationship(
        "StatusChange", back_populates="request", order_by="StatusChange.id"
    )
    notifications: Mapped[List["OutboundNotification"]] = relationship(
        "OutboundNotification", back_populates="request", order_by="OutboundNotification.id"
    )


class StatusChange(Base):
    """One line of a request's status history (the first is its filing)."""

    __tablename__ = "status_changes"
    __table_args__ = (CheckConstraint("status IN ('open', 'closed')", name="status_valid"),)

    id: Mapped[int] = Column(Integer, primary_key=True)
    request_id: Mapped[int] = Column(ForeignKey("service_requests.id"), nullable=False, index=True)
    status: Mapped[str] = Column(String(10), nullable=False)
    note: Mapped[Optional[str]] = Column(Text)
    agency: Mapped[Optional[str]] = Column(String(200))
    changed_at: Mapped[datetime] = Column(UTCDateTime, nullable=False)

    request: Mapped[ServiceRequest] = relationship("ServiceRequest", back_populates="history")


class OutboundNotification(Base):
    """A status update sent (or to be sent) to a resident through Rasa."""

    __tablename__ = "outbound_notifications"
    __table_args__ = (
        CheckConstraint("status IN ('pending', 'sent', 'failed')", name="status_valid"),
    )

    id: Mapped[int] = Column(Integer, primary_key=True)
    request_id: Mapped[int] = Column(ForeignKey("service_requests.id"), nullable=False, index=True)
    status_change_id: Mapped[int] = Column(ForeignKey("status_changes.id"), nullable=False)
    status: Mapped[str] = Column(String(10), nullable=False, default=NOTIFICATION_PENDING, index=True)
    attempts: Mapped[int] = Column(Integer, nullable=False, default=0)
    # Error class or HTTP status only: no URLs (they carry the token), no personal data.
    last_error: Mapped[Optional[str]] = Column(String(300))
    created_at: Mapped[datetime] = Column(UTCDateTime, nullable=False)
    updated_at: Mapped[datetime] = Column(UTCDateTime, nullable=False)
    sent_at: Mapped[Optional[datetime]] = Column(UTCDateTime)

    request: Mapped[ServiceRequest] = relationship("ServiceRequest", back_populates="notifications")
    status_change: Mapped[StatusChange] = relationship("StatusChange")


class Screening(Base):
    """A completed COVID-19 screening (backoffice/screenings.py).

    Never a name, phone number, conversation id or exact age: only what the
    health authority's daily counts need (common/screening.py).
    """

    __tablename__ = "screenings"
    __table_args__ = (Index("ix_screenings_day_level", "day", "level"),)

    id: Mapped[int] = Column(Integer, primary_key=True)
    level: Mapped[str] = Column(String(32), nullable=False)
    protocol_version: Mapped[str] = Column(String(64), nullable=False)
    age_band: Mapped[Optional[str]] = Column(String(10))
    alcaldia: Mapped[Optional[str]] = Column(String(100))
    channel: Mapped[Optional[str]] = Column(String(50))
    # Question id -> option code(s) or yes/no; never the resident's words.
    answers: Mapped[Dict[str, Any]] = Column(JSON, nullable=False)
    started_at: Mapped[Optional[datetime]] = Column(UTCDateTime)
    completed_at: Mapped[datetime] = Column(UTCDateTime, nullable=False)
    received_at: Mapped[datetime] = Column(UTCDateTime, nullable=False)
    # The city's calendar day of completed_at (settings.timezone), what daily counts group by.
    day: Mapped[date] = Column(Date, nullable=False)
    # Unique: a retried store of the same screening never makes a second row.
    idempotency_key: Mapped[Optional[str]] = Column(String(255), unique=True)


# --- Identity (backoffice/identity/, identity.md) ---------------------------------


class SignIn(Base):
    """One sign-in link sent to a conversation, and the OIDC authorization it starts.

    Only hashes of the link token, the ``state`` and the browser cookie are
    kept; the nonce and PKCE verifier live here from the moment the link is
    followed until the callback uses them, then they are erased.
    """

    __tablename__ = "identity_sign_ins"

    id: Mapped[int] = Column(Integer, primary_key=True)
    link_hash: Mapped[str] = Column(String(64), nullable=False, unique=True)
    channel: Mapped[Optional[str]] = Column(String(50))
    conversation_id: Mapped[str] = Column(String(255), nullable=False, index=True)
    language: Mapped[str] = Column(String(5), nullable=False, default="es")
    created_at: Mapped[datetime] = Column(UTCDateTime, nullable=False)
    expires_at: Mapped[datetime] = Column(UTCDateTime, nullable=False)
    # Set when the resident opens the link (it works once).
    followed_at: Mapped[Optional[datetime]] = Column(UTCDateTime)
    state_hash: Mapped[Optional[str]] = Column(String(64), unique=True)
    browser_hash: Mapped[Optional[str]] = Column(String(64))
    nonce: Mapped[Optional[str]] = Column(String(128))
    code_verifier: Mapped[Optional[str]] = Column(String(128))
    # Set when the sign-in ends, with how: linked, or the reason it did not.
    completed_at: Mapped[Optional[datetime]] = Column(UTCDateTime)
    outcome: Mapped[Optional[str]] = Column(String(40))


class IdentityLink(Base):
    """A conversation linked to the person the identity provider verified."""

    __tablename__ = "identity_links"

    id: Mapped[int] = Column(Integer, primary_key=True)
    conversation_id: Mapped[str] = Column(String(255), nullable=False, unique=True)
    channel: Mapped[Optional[str]] = Column(String(50))
    issuer: Mapped[str] = Column(String(500), nullable=False)
    subject: Mapped[str] = Column(String(255), nullable=False, index=True)
    name: Mapped[Optional[str]] = Column(String(300))
    curp: Mapped[Optional[str]] = Column(String(18))
    # Only contact details the provider says it verified.
    email: Mapped[Optional[str]] = Column(String(254))
    phone: Mapped[Optional[str]] = Column(String(50))
    verified_at: Mapped[datetime] = Column(UTCDateTime, nullable=False)
    expires_at: Mapped[datetime] = Column(UTCDateTime, nullable=False)


class VerificationCode(Base):
    """A one-time code sent to a signed-in resident: stored only as an HMAC."""

    __tablename__ = "verification_codes"

    id: Mapped[int] = Column(Integer, primary_key=True)
    conversation_id: Mapped[str] = Column(String(255), nullable=False, index=True)
    subject: Mapped[str] = Column(String(255), nullable=False)
    code_hash: Mapped[str] = Column(String(64), nullable=False)
    via: Mapped[str] = Column(String(10), nullable=False)
    created_at: Mapped[datetime] = Column(UTCDateTime, nullable=False)
    expires_at: Mapped[datetime] = Column(UTCDateTime, nullable=False)
    attempts: Mapped[int] = Column(Integer, nullable=False, default=0)
    # Set when the code was accepted, replaced by a newer one, or the resident signed out.
    closed_at: Mapped[Optional[datetime]] = Column(UTCDateTime)
    closed_reason: Mapped[Optional[str]] = Column(String(20))


class DevOutboxMessage(Base):
    """An SMS or e-mail that development mode kept instead of sending (GET /dev/outbox)."""

    __tablename__ = "dev_outbox"

    id: Mapped[int] = Column(Integer, primary_key=True)
    via: Mapped[str] = Column(String(10), nullable=False)
    recipient: Mapped[str] = Column(String(254), nullable=False)
    subject: Mapped[Optional[str]] = Column(String(200))
    body: Mapped[str] = Column(Text, nullable=False)
    created_at: Mapped[datetime] = Column(UTCDateTime, nullable=False)


# --- Crime reports (backoffice/crime/models.py) -------------------------------------
# Imported here so that Base.metadata (migrations, the schema test) knows those tables.
from backoffice.crime import models as _crime_models  # noqa: E402,F401
