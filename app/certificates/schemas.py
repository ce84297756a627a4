"""Pydantic shapes of the certificates API."""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel, ConfigDict, Field

from app.certificates import service
from app.certificates.models import Certificate
from app.i18n import localized


class CertificateBrief(BaseModel):
    number: str
    status: str
    title: str
    job_category: str
    issued_on: date
    expires_on: date
    review_due_on: date | None


class CertificateOut(CertificateBrief):
    status_reason: str
    worker_id: int
    course_code: str


class Verification(BaseModel):
    number: str
    status: str
    status_reason: str
    holder_name_masked: str
    id_number_masked: str
    title: str
    job_category: str
    issued_on: date
    expires_on: date
    review_due_on: date | None
    issuer: str


class ReasonIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: str = Field(min_length=1, max_length=1000)


def brief(certificate: Certificate) -> CertificateBrief:
    """The list shape."""
    return CertificateBrief(number=certificate.number, status=service.status_of(certificate),
                            title=localized(certificate.title),
                            job_category=certificate.job_category,
                            issued_on=certificate.issued_on, expires_on=certificate.expires_on,
                            review_due_on=certificate.review_due_on)


def full(certificate: Certificate) -> CertificateOut:
    """The shape regulators get back from their decisions."""
    return CertificateOut(**brief(certificate).model_dump(),
                          status_reason=certificate.status_reason,
                          worker_id=certificate.worker_id, course_code=certificate.course_code)


def verification(certificate: Certificate) -> Verification:
    """What anyone may know about a certificate: masked holder, status and its reason."""
    name, id_number = service.masked_holder(certificate)
    status = service.status_of(certificate)
    return Verification(number=certificate.number, status=status,
                        status_reason=certificate.status_reason
                        if status in ("suspended", "revoked") else "",
                        holder_name_masked=name, id_number_masked=id_number,
                        title=localized(certificate.title), job_category=certificate.job_category,
                        issued_on=certificate.issued_on, expires_on=certificate.expires_on,
                        review_due_on=certificate.review_due_on, issuer=certificate.issuer)
