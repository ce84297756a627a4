"""Business rules of certificates: issuing in the transaction that completes the requirements,
status (valid, expired, suspended, revoked), history, verification, regulators' actions."""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, joinedload

from app.accounts import service as accounts
from app.accounts.models import Role, User
from app.certificates import numbers
from app.certificates.models import (
    Certificate,
    CertificateEvent,
    CertificateStatus,
    StatusList,
)
from app.courses.models import Course
from app.db import utcnow
from app.errors import Conflict, Invalid, NotFound
from app.i18n import LOCAL_TZ
from app.i18n import gettext as _
from app.learning import profiles
from app.organisations import service as organisations
from app.organisations import validators
from app.organisations.models import Enterprise, Worker
from app.pagination import LIKE_ESCAPE, like_pattern

ISSUER = "Pithead mine-safety training platform"


def today() -> date:
    """Today in Beijing (certificate dates are calendar days there)."""
    return utcnow().astimezone(LOCAL_TZ).date()


def add_years(day: date, years: int) -> date:
    """The same calendar day `years` later (29 February becomes 28 February)."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return day.replace(year=day.year + years, day=28)


def status_of(certificate: Certificate, on: date | None = None) -> str:
    """What a verifier is told: revoked and suspended as decided, else expired by date."""
    if certificate.status in (CertificateStatus.REVOKED.value, CertificateStatus.SUSPENDED.value):
        return certificate.status
    if (on or today()) > certificate.expires_on:
        return CertificateStatus.EXPIRED.value
    return CertificateStatus.VALID.value


# --- issuing -------------------------------------------------------------------------------------

LIST_ID = 1  # one list, grown in place
FIRST_LIST_SIZE = 131_072  # entries; the W3C Bitstring Status List minimum (herd privacy)
PROBES_BEFORE_GROWING = 8  # random draws that all hit taken entries: the list is filling up
ALLOCATION_ATTEMPTS = 64


def status_list(db: Session) -> StatusList:
    """The certificates' status list (created by migration 0007)."""
    row = db.get(StatusList, LIST_ID)
    if row is None:  # only after someone emptied the table by hand
        row = StatusList(id=LIST_ID, size=FIRST_LIST_SIZE, status_size=2)
        db.add(row)
        db.flush()
    return row


def _free_status_entry(db: Session) -> int:
    """A random entry of the status list that no certificate holds (the Bitstring Status List
    spec asks for random indexes, so an index says nothing about when or to whom a certificate
    was issued). When random draws keep finding taken entries, the list doubles."""
    for _attempt in range(ALLOCATION_ATTEMPTS):
        row = status_list(db)
        size = row.size
        for _probe in range(PROBES_BEFORE_GROWING):
            index = secrets.randbelow(size)
            if db.scalar(select(Certificate.id).where(Certificate.status_index == index)) is None:
                return index
        # Only the issuer that still sees the old size doubles it; the others re-read it.
        db.execute(update(StatusList).where(StatusList.id == LIST_ID, StatusList.size == size)
                   .values(size=size * 2).execution_options(synchronize_session=False))
        db.expire(row)
    raise RuntimeError("no free status list entry found")  # pragma: no cover - needs ~2^-500 luck


def create_certificate(*, db: Session, values: dict[str, Any]) -> Certificate:
    """Insert a certificate with a fresh number and a free status entry; a concurrent issuer
    that took the same entry (or number) first makes the unique constraint refuse ours (in a
    savepoint, so the caller's transaction goes on) and we draw again."""
    for _attempt in range(ALLOCATION_ATTEMPTS):
        index = _free_status_entry(db)
        certificate = Certificate(number=_unique_number(db), status_index=index, **values)
        try:
            with db.begin_nested():
                db.add(certificate)
                db.flush()
        except IntegrityError:
            continue
        return certificate
    raise RuntimeError("could not allocate a certificate number and status entry")


def _unique_number(db: Session) -> str:
    while True:
        number = numbers.new_number()
        if db.scalar(select(Certificate.id).where(Certificate.number == number)) is None:
            return number


def issue_if_complete(*, db: Session, worker_id: int, course_id: int, source: dict[str, int],
                      by: User | None) -> Certificate | None:
    """Issue the course's certificate if the worker now meets its requirements (a theory pass,
    and a practical pass when the course requires one) and holds no live certificate of it.
    Called in the transaction of the event that completes them."""
    course = db.get(Course, course_id)
    if course is None or not course.certificate:
        return None
    live = db.scalar(select(Certificate.id).where(
        Certificate.worker_id == worker_id, Certificate.course_code == course.code,
        Certificate.status != CertificateStatus.REVOKED.value,
        Certificate.expires_on >= today()).limit(1))
    if live is not None:
        return None
    if not _requirements_met(db, worker_id, course):
        return None
    spec = course.certificate
    profile = profiles.cached_profile(db=db).data.get("special_operations", {}).get(
        "certificate", {})
    validity = int(spec.get("validity_years") or profile.get("validity_years", 6))
    review = spec.get("review_years") or profile.get("review_years")
    issued = today()
    certificate = create_certificate(db=db, values=dict(
        worker_id=worker_id, course_id=course.id,
        course_code=course.code, title=spec["title"], job_category=course.job_category,
        issued_on=issued, expires_on=add_years(issued, validity),
        review_due_on=add_years(issued, int(review)) if review else None,
        review_years=int(review) if review else None, issuer=ISSUER, source=source))
    record_event(db=db, certificate=certificate, kind="issued", by=by, detail=source)
    accounts.record_audit(db=db, action="certificate.issued", actor=by,
                          object_type="certificate", object_id=certificate.number,
                          detail={"worker_id": worker_id, "course": course.code, **source})
    return certificate


def _requirements_met(db: Session, worker_id: int, course: Course) -> bool:
    from app.exams import service as exams
    from app.practicals.models import Booking, BookingStatus, PracticalSession

    if exams.latest_pass(db=db, worker_id=worker_id, course_code=course.code,
                         since=profiles.theory_pass_valid_since(db=db)) is None:
        return False
    if not course.practical_required:
        return True
    return db.scalar(select(Booking.id).join(PracticalSession).join(
        Course, Course.id == PracticalSession.course_id).where(
        Booking.worker_id == worker_id, Course.code == course.code,
        Booking.status == BookingStatus.PASSED.value).limit(1)) is not None


def record_event(*, db: Session, certificate: Certificate, kind: str, by: User | None,
                 reason: str = "", detail: Mapping[str, object] | None = None) -> None:
    """Append to the certificate's history (the database refuses to change it later)."""
    db.add(CertificateEvent(certificate_id=certificate.id, kind=kind, reason=reason,
                            actor_id=by.id if by else None, detail=dict(detail or {})))
    db.flush()


# --- reading ------------------------------------------------------------------------------------

def normalise_number(value: str) -> str:
    """A typed number in canonical form; 404 when it cannot be a certificate number."""
    number = numbers.normalise(value)
    if not numbers.is_well_formed(number):
        raise NotFound(_("There is no certificate with this number. Check it: the last "
                         "character is a check character that catches typing mistakes."),
                       code="certificate_not_found")
    return number


def get_by_number_or_404(*, db: Session, number: str) -> Certificate:
    """A certificate with its holder and the holder's enterprise."""
    certificate = db.scalar(select(Certificate).where(
        Certificate.number == normalise_number(number))
        .options(joinedload(Certificate.worker).joinedload(Worker.enterprise)))
    if certificate is None:
        raise NotFound(_("There is no certificate with this number."),
                       code="certificate_not_found")
    return certificate


def find_by_holder(*, db: Session, id_number: str, name: str) -> list[Certificate]:
    """The certificates of the holder whose ID number AND name both match (else none)."""
    worker = db.scalar(select(Worker).where(
        Worker.id_number == validators.normalise_resident_id(id_number),
        Worker.full_name == " ".join(name.split())))
    if worker is None:
        return []
    return list(db.scalars(select(Certificate).where(Certificate.worker_id == worker.id)
                           .options(joinedload(Certificate.worker).joinedload(Worker.enterprise))
                           .order_by(Certificate.issued_on.desc())))


def certificates_of(*, db: Session, worker_id: int) -> list[Certificate]:
    """A worker's certificates, newest first."""
    return list(db.scalars(select(Certificate).where(Certificate.worker_id == worker_id)
                           .order_by(Certificate.issued_on.desc(), Certificate.id.desc())))


def history_of(*, db: Session, certificate: Certificate) -> list[CertificateEvent]:
    """The certificate's events, oldest first."""
    return list(db.scalars(select(CertificateEvent).where(
        CertificateEvent.certificate_id == certificate.id).order_by(CertificateEvent.id)))


def can_see(user: User, certificate: Certificate) -> bool:
    """The holder, its enterprise's administrators, regulators of its region, admins."""
    worker = certificate.worker
    if worker.user_id == user.id:
        return True
    return organisations.can_see_enterprise(user, worker.enterprise)


def can_decide(user: User, certificate: Certificate) -> bool:
    """Admins and regulators of the holder's enterprise region suspend, reinstate, revoke."""
    if user.has_role(Role.ADMIN):
        return True
    region = certificate.worker.enterprise.region_code
    return bool(user.has_role(Role.REGULATOR) and user.region_code and
                region.startswith(user.region_code))


# --- regulators' decisions ----------------------------------------------------------------------

def _decide(db: Session, certificate: Certificate, *, to: str, reason: str, by: User,
            ip: str | None) -> Certificate:
    if not reason.strip():
        raise Invalid(errors=[{"loc": ["reason"], "msg": _("Give the reason (verifiers see it).")}])
    before = certificate.status
    db.refresh(certificate, attribute_names=["status", "status_reason"], with_for_update=True)
    if certificate.status == CertificateStatus.REVOKED.value:
        raise Conflict(_("A revoked certificate is final."), code="certificate_revoked")
    if to == CertificateStatus.VALID.value and certificate.status != \
            CertificateStatus.SUSPENDED.value:
        raise Conflict(_("Only a suspended certificate can be reinstated."),
                       code="certificate_not_suspended")
    if to == CertificateStatus.SUSPENDED.value and certificate.status == to:
        raise Conflict(_("The certificate is already suspended."),
                       code="certificate_suspended")
    certificate.status = to
    certificate.status_reason = reason.strip() if to != CertificateStatus.VALID.value else ""
    kind = {CertificateStatus.REVOKED.value: "revoked", CertificateStatus.SUSPENDED.value:
            "suspended", CertificateStatus.VALID.value: "reinstated"}[to]
    record_event(db=db, certificate=certificate, kind=kind, by=by, reason=reason.strip())
    accounts.record_audit(db=db, action=f"certificate.{kind}", actor=by,
                          object_type="certificate", object_id=certificate.number, ip=ip,
                          enterprise_id=certificate.worker.enterprise_id,
                          region_code=certificate.worker.enterprise.region_code,
                          detail={"reason": reason.strip(), "before": before, "after": to})
    return certificate


def revoke(*, db: Session, certificate: Certificate, reason: str, by: User,
           ip: str | None = None) -> Certificate:
    """Revoke for good, with the reason verifiers will see."""
    return _decide(db, certificate, to=CertificateStatus.REVOKED.value, reason=reason, by=by,
                   ip=ip)


def suspend(*, db: Session, certificate: Certificate, reason: str, by: User,
            ip: str | None = None) -> Certificate:
    """Suspend (reversible), with the reason verifiers will see."""
    return _decide(db, certificate, to=CertificateStatus.SUSPENDED.value, reason=reason, by=by,
                   ip=ip)


def reinstate(*, db: Session, certificate: Certificate, reason: str, by: User,
              ip: str | None = None) -> Certificate:
    """Lift a suspension (a revoked certificate stays revoked)."""
    return _decide(db, certificate, to=CertificateStatus.VALID.value, reason=reason, by=by,
                   ip=ip)


# --- regulators' search -------------------------------------------------------------------------

@dataclass(frozen=True)
class CertificateFilter:
    query: str = ""          # name, ID number or certificate number
    job_category: str = ""
    status: str = ""         # valid, expired, suspended, revoked
    due_within_days: int | None = None


def search(*, db: Session, user: User, filters: CertificateFilter, page: int = 1,
           page_size: int = 25) -> tuple[list[Certificate], int]:
    """Certificates of the enterprises within the user's jurisdiction."""
    stmt = (select(Certificate).join(Worker, Worker.id == Certificate.worker_id)
            .join(Enterprise, Enterprise.id == Worker.enterprise_id)
            .where(organisations.enterprise_scope(user)))
    text = filters.query.strip()
    if text:
        stmt = stmt.where(or_(Worker.full_name.ilike(like_pattern(text), escape=LIKE_ESCAPE),
                              Worker.id_number.startswith(text.upper(), autoescape=True),
                              Certificate.number.ilike(like_pattern(text.upper()),
                                                       escape=LIKE_ESCAPE)))
    if filters.job_category:
        stmt = stmt.where(Certificate.job_category == filters.job_category)
    on = today()
    if filters.status == CertificateStatus.EXPIRED.value:
        stmt = stmt.where(Certificate.status == CertificateStatus.VALID.value,
                          Certificate.expires_on < on)
    elif filters.status == CertificateStatus.VALID.value:
        stmt = stmt.where(Certificate.status == CertificateStatus.VALID.value,
                          Certificate.expires_on >= on)
    elif filters.status:
        stmt = stmt.where(Certificate.status == filters.status)
    if filters.due_within_days is not None:
        limit = date.fromordinal(on.toordinal() + filters.due_within_days)
        stmt = stmt.where(Certificate.status != CertificateStatus.REVOKED.value,
                          or_(Certificate.review_due_on.between(on, limit),
                              Certificate.expires_on.between(on, limit)))
    total = db.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    items = db.scalars(stmt.options(joinedload(Certificate.worker).joinedload(Worker.enterprise))
                       .order_by(Certificate.issued_on.desc(), Certificate.id.desc())
                       .limit(page_size).offset((page - 1) * page_size)).all()
    return list(items), total


def masked_holder(certificate: Certificate) -> tuple[str, str]:
    """(masked name, masked ID number) as verifiers see them."""
    worker = certificate.worker
    return validators.mask_name(worker.full_name), validators.mask_id_number(worker.id_number)
