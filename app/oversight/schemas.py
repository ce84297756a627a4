"""JSON shapes of compliance and oversight (API.md, "Oversight")."""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel

from app.i18n import localized
from app.oversight.compliance import CertificateState, CompliancePage, WorkerCompliance


class ComplianceTotalsOut(BaseModel):
    workers: int
    compliant: int
    short_of_hours: int
    overdue_initial: int
    certificates_expiring_90d: int
    certificates_expired_or_suspended: int


class CertificateStateOut(BaseModel):
    number: str
    title: str
    job_category: str
    status: str
    issued_on: date
    expires_on: date
    review_due_on: date | None
    days_to_expiry: int
    days_to_review: int | None

    @classmethod
    def of(cls, item: CertificateState) -> CertificateStateOut:
        return cls(number=item.number, title=localized(item.title),
                   job_category=item.job_category, status=item.status,
                   issued_on=item.issued_on, expires_on=item.expires_on,
                   review_due_on=item.review_due_on, days_to_expiry=item.days_to_expiry,
                   days_to_review=item.days_to_review)


class ComplianceItemOut(BaseModel):
    worker_id: int
    full_name: str
    job_category: str
    team: str | None
    hired_on: date
    requirement: str
    required_hours: float
    credited_hours: float
    shortfall_hours: float
    overdue_initial: bool
    theory_pass_valid_until: date | None
    certificates: list[CertificateStateOut]
    days_to_expiry: int | None
    days_to_review: int | None
    status: str

    @classmethod
    def of(cls, row: WorkerCompliance) -> ComplianceItemOut:
        return cls(worker_id=row.worker_id, full_name=row.full_name,
                   job_category=row.job_category, team=row.team, hired_on=row.hired_on,
                   requirement=row.requirement, required_hours=row.required_hours,
                   credited_hours=row.credited_hours, shortfall_hours=row.shortfall_hours,
                   overdue_initial=row.overdue_initial,
                   theory_pass_valid_until=row.theory_pass_valid_until,
                   certificates=[CertificateStateOut.of(c) for c in row.certificates],
                   days_to_expiry=row.days_to_expiry, days_to_review=row.days_to_review,
                   status=row.status)


class ComplianceOut(BaseModel):
    year: int
    enterprise_id: int
    as_of: date
    totals: ComplianceTotalsOut
    items: list[ComplianceItemOut]
    total: int
    page: int
    page_size: int

    @classmethod
    def of(cls, result: CompliancePage, *, page: int, page_size: int) -> ComplianceOut:
        return cls(year=result.period.year, enterprise_id=result.enterprise_id,
                   as_of=result.period.as_of,
                   totals=ComplianceTotalsOut(**result.totals.as_dict()),
                   items=[ComplianceItemOut.of(row) for row in result.items],
                   total=result.total, page=page, page_size=page_size)


class OversightTotalsOut(ComplianceTotalsOut):
    theory_pass_rate: float | None
    practical_pass_rate: float | None
    certificates_issued: int
    certificates_suspended: int
    certificates_revoked: int
    hours_credited: float
    theory_attempts: int
    theory_passed: int
    practical_results: int
    practical_passed: int
    special_operations_workers: int
    special_operations_certified: int


class RegionTotalsOut(OversightTotalsOut):
    enterprises: int


class OversightEnterpriseOut(BaseModel):
    enterprise_id: int
    name: str
    region_code: str
    totals: OversightTotalsOut


class JobCategoryLineOut(BaseModel):
    job_category: str
    theory_attempts: int
    theory_passed: int
    theory_pass_rate: float | None
    practical_results: int
    practical_passed: int
    practical_pass_rate: float | None
    special_operations_workers: int
    special_operations_certified: int
    certified_share: float | None


class MonthLineOut(BaseModel):
    month: int
    certificates_issued: int
    hours_credited: float


class OversightOut(BaseModel):
    region: str | None
    year: int
    totals: RegionTotalsOut
    enterprises: list[OversightEnterpriseOut]
    job_categories: list[JobCategoryLineOut]
    months: list[MonthLineOut]
