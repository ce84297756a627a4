"""JSON routes of certificates: holders' lists, public verification, regulators' decisions."""

from __future__ import annotations

from fastapi import APIRouter, Request

from app.accounts.api import client_ip
from app.accounts.deps import CurrentUser
from app.certificates import service
from app.certificates.deps import DecidableCertificate, PublicThrottle
from app.certificates.schemas import (
    CertificateBrief,
    CertificateOut,
    ReasonIn,
    Verification,
    brief,
    full,
    verification,
)
from app.db import SessionDep
from app.organisations.deps import VisibleWorker
from app.pagination import Page

router = APIRouter(prefix="/api/v1", tags=["certificates"])


@router.get("/workers/{worker_id}/certificates", response_model=Page[CertificateBrief])
def worker_certificates(worker: VisibleWorker, db: SessionDep) -> Page[CertificateBrief]:
    """A worker's certificates (the worker, its enterprise admins, its region's regulators)."""
    items = service.certificates_of(db=db, worker_id=worker.id)
    return Page(items=[brief(c) for c in items], total=len(items))


@router.get("/certificates/verification", response_model=Page[Verification],
            dependencies=[PublicThrottle])
def verify_by_holder(db: SessionDep, id_number: str, name: str) -> Page[Verification]:
    """Anyone: the certificates of the holder whose ID number and name both match."""
    items = service.find_by_holder(db=db, id_number=id_number, name=name)
    return Page(items=[verification(c) for c in items], total=len(items))


@router.get("/certificates/{number}/verification", response_model=Verification,
            dependencies=[PublicThrottle])
def verify(number: str, db: SessionDep) -> Verification:
    """Anyone, no login: the status of a certificate, its holder masked."""
    result = verification(service.get_by_number_or_404(db=db, number=number))
    # End the read-only transaction in this thread: SessionDep then has nothing left to
    # commit and needs no further thread hand-off (the most visited public endpoint).
    db.commit()
    return result


@router.post("/certificates/{number}/revoke", response_model=CertificateOut)
def revoke(request: Request, certificate: DecidableCertificate, body: ReasonIn, db: SessionDep,
           user: CurrentUser) -> CertificateOut:
    """Revoke (final); the reason is shown to verifiers."""
    return full(service.revoke(db=db, certificate=certificate, reason=body.reason, by=user,
                               ip=client_ip(request)))


@router.post("/certificates/{number}/suspend", response_model=CertificateOut)
def suspend(request: Request, certificate: DecidableCertificate, body: ReasonIn,
            db: SessionDep, user: CurrentUser) -> CertificateOut:
    """Suspend; the reason is shown to verifiers."""
    return full(service.suspend(db=db, certificate=certificate, reason=body.reason, by=user,
                                ip=client_ip(request)))


@router.post("/certificates/{number}/reinstate", response_model=CertificateOut)
def reinstate(request: Request, certificate: DecidableCertificate, body: ReasonIn,
              db: SessionDep, user: CurrentUser) -> CertificateOut:
    """Lift a suspension: back to valid (or expired); a revoked certificate stays revoked."""
    return full(service.reinstate(db=db, certificate=certificate, reason=body.reason, by=user,
                                  ip=client_ip(request)))
