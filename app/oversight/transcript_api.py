"""JSON, PDF and workbook of a worker's transcript (API.md: GET /api/v1/workers/{id}/transcript).

Jurisdiction is the organisations rule (VisibleWorker): the worker, its enterprise's admins,
regulators of its region and admins; anyone else gets the 404 of a missing worker."""

from __future__ import annotations

from dataclasses import asdict
from datetime import date, datetime

from fastapi import APIRouter
from fastapi.responses import Response
from pydantic import BaseModel

from app.accounts.deps import CurrentUser
from app.db import SessionDep
from app.organisations.deps import VisibleWorker
from app.oversight import transcript, transcript_pdf, transcript_xlsx

router = APIRouter(prefix="/api/v1", tags=["oversight"])

PDF = "application/pdf"


class TranscriptWorkerOut(BaseModel):
    id: int
    full_name: str
    id_number: str
    id_number_masked: bool
    enterprise_id: int
    enterprise_name: str
    region_code: str
    job_category: str
    phone: str
    hired_on: date
    education_level: str | None


class TranscriptEnrolmentOut(BaseModel):
    id: int
    course_id: int
    course_code: str
    course_title: dict[str, str]
    version: int
    status: str
    enrolled_at: datetime
    deadline: date | None
    completed_at: datetime | None
    credited_minutes: float
    required_minutes: int
    credit_hours: float
    lessons_completed: int
    lessons_total: int


class TranscriptAttemptOut(BaseModel):
    id: int
    exam_id: int
    course_id: int
    course_code: str
    course_title: dict[str, str]
    version: int
    number: int
    status: str
    started_at: datetime
    submitted_at: datetime | None
    score: float | None
    pass_mark: int
    passed: bool | None


class TranscriptPracticalOut(BaseModel):
    id: int
    session_id: int
    course_id: int
    course_code: str
    course_title: dict[str, str]
    version: int
    test_centre: str
    starts_at: datetime
    status: str
    attendance: str | None
    score: float | None
    result_at: datetime | None


class TranscriptEventOut(BaseModel):
    at: datetime
    kind: str
    reason: str


class TranscriptCertificateOut(BaseModel):
    number: str
    course_id: int
    course_code: str
    title: dict[str, str]
    job_category: str
    issued_on: date
    expires_on: date
    review_due_on: date | None
    status: str
    status_reason: str
    issuer: str
    history: list[TranscriptEventOut]


class TranscriptHoursOut(BaseModel):
    year: int
    requirement: str  # initial (the hire year), annual, or none (before the hire)
    required_hours: float
    credited_hours: float
    online_seconds: int
    offline_seconds: int
    met: bool


class TranscriptOut(BaseModel):
    worker: TranscriptWorkerOut
    enrolments: list[TranscriptEnrolmentOut]
    attempts: list[TranscriptAttemptOut]
    practicals: list[TranscriptPracticalOut]
    certificates: list[TranscriptCertificateOut]
    hours: list[TranscriptHoursOut]

    @classmethod
    def of(cls, item: transcript.Transcript) -> TranscriptOut:
        data = asdict(item)
        data.pop("generated_at")
        for raw, line in zip(data["hours"], item.hours, strict=True):
            raw["met"] = line.met
        return cls.model_validate(data)


def download_name(item: transcript.Transcript, extension: str) -> str:
    """transcript-<worker id>-<date>.<extension> (ASCII: names vary by language)."""
    return f"transcript-{item.worker.id}-{item.generated_at.date().isoformat()}.{extension}"


def download(data: bytes, media_type: str, filename: str) -> Response:
    """A file download that no cache keeps (it holds personal data)."""
    return Response(data, media_type=media_type, headers={
        "Content-Disposition": f'attachment; filename="{filename}"',
        "Cache-Control": "private, no-store"})


@router.get("/workers/{worker_id}/transcript", response_model=TranscriptOut,
            name="worker_transcript_api")
def worker_transcript(worker: VisibleWorker, user: CurrentUser, db: SessionDep) -> TranscriptOut:
    """The worker's whole training record: profile, enrolments, theory attempts, practical
    bookings and results, certificates with their history, class hours per year."""
    return TranscriptOut.of(transcript.build(db=db, worker=worker, viewer=user))


@router.get("/workers/{worker_id}/transcript.pdf", response_class=Response,
            name="worker_transcript_pdf",
            responses={200: {"content": {PDF: {}}}})
def worker_transcript_pdf(worker: VisibleWorker, user: CurrentUser, db: SessionDep) -> Response:
    """The transcript as an A4 PDF in the requester's language (zh_CN or en)."""
    item = transcript.build(db=db, worker=worker, viewer=user)
    return download(transcript_pdf.render(item), PDF,
                    download_name(item, "pdf"))


@router.get("/workers/{worker_id}/transcript.xlsx", response_class=Response,
            name="worker_transcript_xlsx",
            responses={200: {"content": {transcript_xlsx.XLSX: {}}}})
def worker_transcript_xlsx(worker: VisibleWorker, user: CurrentUser,
                           db: SessionDep) -> Response:
    """The transcript as a workbook, one sheet per section, headers in the requester's
    language."""
    item = transcript.build(db=db, worker=worker, viewer=user)
    return download(transcript_xlsx.render(item), transcript_xlsx.XLSX,
                    download_name(item, "xlsx"))
