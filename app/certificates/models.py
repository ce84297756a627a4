"""Tables of the certificates domain."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.db import Base, utcnow
from app.organisations.models import Worker


class CertificateStatus(StrEnum):
    VALID = "valid"
    EXPIRED = "expired"  # never stored: a valid certificate past its expiry date
    SUSPENDED = "suspended"
    REVOKED = "revoked"


class StatusList(Base):
    """The Bitstring Status List of certificates (row 1, published at /api/v1/status-lists/1).
    Every certificate owns one entry of `status_size` bits at `Certificate.status_index`, drawn
    at random below `size` and never reused; `size` doubles when random draws keep hitting
    taken entries (the list grows in place, so its URL and every index stay valid)."""

    __tablename__ = "status_lists"

    id: Mapped[int] = mapped_column(primary_key=True)
    size: Mapped[int] = mapped_column(Integer)  # entries that may be allocated
    status_size: Mapped[int] = mapped_column(Integer, default=2)  # bits per entry
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Certificate(Base):
    """A certificate held by a worker. `status` stores only what people decide (valid,
    suspended, revoked); expiry follows from the dates."""

    __tablename__ = "certificates"

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(32), unique=True)
    worker_id: Mapped[int] = mapped_column(ForeignKey("workers.id"), index=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("courses.id"))
    course_code: Mapped[str] = mapped_column(String(64), index=True)
    title: Mapped[dict[str, str]] = mapped_column(JSON)
    job_category: Mapped[str] = mapped_column(String(40), index=True)
    issued_on: Mapped[date]
    expires_on: Mapped[date] = mapped_column(index=True)
    review_due_on: Mapped[date | None] = mapped_column(index=True)
    review_years: Mapped[int | None] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16), default=CertificateStatus.VALID.value,
                                        index=True)
    status_reason: Mapped[str] = mapped_column(Text, default="")
    # Its entry in the status list, drawn at random (service.create_certificate).
    status_index: Mapped[int] = mapped_column(Integer, unique=True)
    issuer: Mapped[str] = mapped_column(String(200))
    source: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)  # attempt / booking ids
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    worker: Mapped[Worker] = relationship(lazy="raise")


class CertificateEvent(Base):
    """Append-only history of a certificate, shown to the holder and to regulators."""

    __tablename__ = "certificate_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    certificate_id: Mapped[int] = mapped_column(ForeignKey("certificates.id"), index=True)
    at: Mapped[datetime] = mapped_column(default=utcnow)
    kind: Mapped[str] = mapped_column(String(32))
    reason: Mapped[str] = mapped_column(Text, default="")
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class SigningKey(Base):
    """An Ed25519 key that signs credentials and status lists. Generated on first use (never in
    the code); retired keys stay published in the JWKS so old credentials still verify."""

    __tablename__ = "signing_keys"

    kid: Mapped[str] = mapped_column(String(64), primary_key=True)
    public_jwk: Mapped[dict[str, Any]] = mapped_column(JSON)
    private_key: Mapped[str] = mapped_column(Text)  # PKCS#8 PEM, encrypted with the secret key
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    retired_at: Mapped[datetime | None]
