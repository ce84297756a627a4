"""Roster import (CSV/XLSX, all or nothing, upsert by ID number) and export."""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm import Session, selectinload

from app.accounts import service as accounts
from app.accounts.models import Role, User, UserRole
from app.db import utcnow
from app.errors import Invalid, NotFound
from app.i18n import gettext as _
from app.organisations import reference, validators
from app.organisations.models import Enterprise, RosterUpload, Worker
from app.spreadsheets import SpreadsheetError, read_table, write_xlsx

COLUMNS = ("id_number", "full_name", "phone", "job_category", "hired_on")
# `team` is optional: a file without the column leaves every worker's team as it is; with the
# column, each row sets its worker's team and an empty cell clears it (docs/oversight.md).
OPTIONAL_COLUMNS = ("education_level", "team")
TEAM_MAX_LENGTH = 60
EXPORT_COLUMNS = COLUMNS + OPTIONAL_COLUMNS
MAX_ROWS = 20_000
UPLOAD_TTL = timedelta(hours=2)
_DATE_FORMATS = ("%Y-%m-%d", "%Y/%m/%d", "%Y.%m.%d", "%Y%m%d", "%Y年%m月%d日")


@dataclass
class RowError:
    row: int
    column: str
    message: str

    def as_dict(self) -> dict[str, object]:
        return {"row": self.row, "column": self.column, "message": self.message,
                "loc": ["file", self.row, self.column], "msg": self.message}


@dataclass
class RosterRow:
    row: int
    id_number: str
    full_name: str
    phone: str
    job_category: str
    hired_on: date
    education_level: str | None
    team: str | None = None


@dataclass
class ImportResult:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    errors: list[RowError] = field(default_factory=list)
    rows: list[RosterRow] = field(default_factory=list)
    new_ids: set[str] = field(default_factory=set)
    sets_team: bool = False


def parse_date(value: str) -> date | None:
    """A date in one of the forms people type in China (2024-03-05, 2024/3/5, 2024年3月5日)."""
    text = value.strip()
    for fmt in _DATE_FORMATS:
        try:
            return datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    return None


def _validate_row(number: int, cells: dict[str, str], errors: list[RowError]) -> RosterRow | None:
    before = len(errors)

    def fail(column: str, message: str) -> None:
        errors.append(RowError(number, column, message))

    id_number = validators.normalise_resident_id(cells.get("id_number", ""))
    problem = validators.resident_id_problem(id_number)
    if not id_number:
        fail("id_number", _("The ID number is missing."))
    elif problem is not None:
        template, params = problem
        fail("id_number", _(template).format(**params))
    full_name = re.sub(r"\s+", " ", cells.get("full_name", "")).strip()
    if not full_name:
        fail("full_name", _("The name is missing."))
    elif len(full_name) > 100:
        fail("full_name", _("The name is longer than 100 characters."))
    raw_phone = cells.get("phone", "").strip()
    phone = validators.normalise_mobile(raw_phone) if raw_phone else ""
    if phone is None:
        fail("phone", _("{value} is not a mobile number (11 digits starting with 1).").format(
            value=raw_phone))
    job_category = cells.get("job_category", "").strip()
    if not job_category:
        fail("job_category", _("The job category is missing."))
    elif job_category not in reference.job_category_codes():
        fail("job_category", _("Unknown job category {value}; use a code such as "
                               "general.underground or coal.gas_inspection.").format(
            value=job_category))
    raw_hired = cells.get("hired_on", "").strip()
    hired_on = parse_date(raw_hired) if raw_hired else None
    if not raw_hired:
        fail("hired_on", _("The hiring date is missing."))
    elif hired_on is None:
        fail("hired_on", _("{value} is not a date; write it as 2024-03-05.").format(
            value=raw_hired))
    elif hired_on > date.today():
        fail("hired_on", _("The hiring date {value} is in the future.").format(value=raw_hired))
    elif problem is None and id_number and hired_on < validators.birth_date_from_resident_id(
            id_number).replace(day=1) + timedelta(days=365 * 16):
        fail("hired_on", _("The hiring date is before the worker's 16th birthday."))
    education = cells.get("education_level", "").strip() or None
    if education is not None and education not in reference.education_level_codes():
        fail("education_level", _("Unknown education level {value}.").format(value=education))
    team = clean_team(cells.get("team", ""))
    if team is not None and len(team) > TEAM_MAX_LENGTH:
        fail("team", _("The team name is longer than {n} characters.").format(n=TEAM_MAX_LENGTH))
    if len(errors) > before or hired_on is None or phone is None:
        return None
    return RosterRow(number, id_number, full_name, phone, job_category, hired_on, education, team)


def clean_team(value: str) -> str | None:
    """A team name with its spaces tidied (None when blank)."""
    return re.sub(r"\s+", " ", value).strip() or None


def _read(data: bytes, filename: str) -> tuple[list[str], list[tuple[int, dict[str, str]]]]:
    try:
        table = read_table(data, filename=filename, required=COLUMNS, optional=OPTIONAL_COLUMNS,
                           max_rows=MAX_ROWS)
    except SpreadsheetError as exc:
        message = _(exc.message_template).format(**exc.params)
        raise Invalid(message, code="roster_invalid", errors=[RowError(
            exc.row or 1, exc.column or "", message).as_dict()]) from None
    return table.header, table.rows


@dataclass
class ParsedRoster:
    """A roster file read and checked against the rules, before the database is consulted."""

    filename: str
    rows: list[RosterRow]
    errors: list[RowError]
    # Whether the file has a `team` column (without one, teams are left as they are).
    sets_team: bool = False


def parse_roster(*, data: bytes, filename: str) -> ParsedRoster:
    """Read and validate a roster file without the database (slow for a big file: routes run
    it in a worker thread, outside any transaction). Invalid if the file cannot be read."""
    errors: list[RowError] = []
    rows: list[RosterRow] = []
    first_row: dict[str, int] = {}
    header, table = _read(data, filename)
    for number, cells in table:
        row = _validate_row(number, cells, errors)
        if row is None:
            continue
        if row.id_number in first_row:
            errors.append(RowError(number, "id_number", _(
                "The ID number appears twice in the file (first in row {row}).").format(
                row=first_row[row.id_number])))
            continue
        first_row[row.id_number] = number
        rows.append(row)
    return ParsedRoster(filename=filename, rows=rows, errors=errors, sets_team="team" in header)


def check_roster(*, db: Session, enterprise: Enterprise, parsed: ParsedRoster) -> ImportResult:
    """What importing a parsed roster would do (created/updated/unchanged, or every bad row),
    writing nothing."""
    result = ImportResult(errors=list(parsed.errors), rows=list(parsed.rows),
                          sets_team=parsed.sets_team)
    _check_against_database(db, enterprise, result)
    return result


def _chunks(items: list[str], size: int = 900) -> list[list[str]]:
    return [items[i:i + size] for i in range(0, len(items), size)]


def _check_against_database(db: Session, enterprise: Enterprise, result: ImportResult) -> None:
    ids = [row.id_number for row in result.rows]
    existing: dict[str, Worker] = {}
    logins: dict[str, User] = {}
    for chunk in _chunks(ids):
        existing.update({w.id_number: w for w in db.scalars(
            select(Worker).where(Worker.id_number.in_(chunk)))})
        logins.update({u.username: u for u in db.scalars(
            select(User).where(User.username.in_(chunk)).options(selectinload(User.roles)))})
    for row in result.rows:
        worker = existing.get(row.id_number)
        login = logins.get(row.id_number)
        if worker is not None and worker.enterprise_id != enterprise.id:
            result.errors.append(RowError(row.row, "id_number", _(
                "This person is on another enterprise's roster; ask an administrator to "
                "transfer them.")))
        elif worker is None and login is not None and login.enterprise_id not in (
                None, enterprise.id):
            result.errors.append(RowError(row.row, "id_number", _(
                "This ID number is already the login of another enterprise's account.")))
        elif worker is None and login is not None and login.role_names != [Role.WORKER.value]:
            # Attaching a profile would let this enterprise's admins reset a staff login.
            result.errors.append(RowError(row.row, "id_number", _(
                "This ID number is already the login of a staff account; ask an "
                "administrator.")))
        elif worker is None:
            result.created += 1
            result.new_ids.add(row.id_number)
        elif (worker.full_name, worker.phone, worker.job_category, worker.hired_on,
              worker.education_level) == (row.full_name, row.phone, row.job_category,
                                          row.hired_on, row.education_level) and (
                not result.sets_team or worker.team == row.team):
            result.unchanged += 1
        else:
            result.updated += 1
    result.errors.sort(key=lambda e: (e.row, EXPORT_COLUMNS.index(e.column)
                                      if e.column in EXPORT_COLUMNS else 99))


def import_roster(*, db: Session, enterprise: Enterprise, parsed: ParsedRoster, dry_run: bool,
                  by: User, ip: str | None = None) -> ImportResult:
    """Check the parsed file against the database, then (unless dry_run) upsert every row by
    ID number. All or nothing: one bad row and nothing is written; Invalid lists every bad row.
    """
    filename = parsed.filename
    result = check_roster(db=db, enterprise=enterprise, parsed=parsed)
    if result.errors:
        raise Invalid(_("{n} rows of the file have errors; nothing was imported.").format(
            n=len({e.row for e in result.errors})), code="roster_invalid",
            errors=[e.as_dict() for e in result.errors])
    if dry_run:
        return result
    _write_rows(db, enterprise, result)
    accounts.record_audit(db=db, action="roster.imported", actor=by, object_type="enterprise",
                          object_id=enterprise.id, enterprise_id=enterprise.id,
                          region_code=enterprise.region_code, ip=ip,
                          detail={"filename": filename, "created": result.created,
                                  "updated": result.updated, "unchanged": result.unchanged})
    return result


def _write_rows(db: Session, enterprise: Enterprise, result: ImportResult) -> None:
    ids = [row.id_number for row in result.rows]
    workers: dict[str, Worker] = {}
    logins: dict[str, User] = {}
    for chunk in _chunks(ids):
        workers.update({w.id_number: w for w in db.scalars(
            select(Worker).where(Worker.id_number.in_(chunk)))})
        logins.update({u.username: u for u in db.scalars(
            select(User).where(User.username.in_(chunk)))})
    new_users: list[tuple[RosterRow, User]] = []
    for row in result.rows:
        worker = workers.get(row.id_number)
        if worker is not None:
            worker.full_name, worker.phone, worker.job_category = (
                row.full_name, row.phone, row.job_category)
            worker.hired_on, worker.education_level = row.hired_on, row.education_level
            if result.sets_team:
                worker.team = row.team
            continue
        user = logins.get(row.id_number)
        if user is None:
            user = User(username=row.id_number, full_name=row.full_name, password_hash=None,
                        enterprise_id=enterprise.id, roles=[UserRole(role=Role.WORKER.value)])
            db.add(user)
        new_users.append((row, user))
    db.flush()
    for row, user in new_users:
        if user.enterprise_id is None:
            user.enterprise_id = enterprise.id
        db.add(Worker(user_id=user.id, enterprise_id=enterprise.id, id_number=row.id_number,
                      full_name=row.full_name, phone=row.phone, job_category=row.job_category,
                      hired_on=row.hired_on, education_level=row.education_level,
                      team=row.team))
    db.flush()


# --- uploads awaiting confirmation (the preview step of the page) ---------------------------

def store_upload(*, db: Session, enterprise: Enterprise, data: bytes, filename: str,
                 by: User) -> RosterUpload:
    """Keep an uploaded file until the user confirms the preview (and drop stale ones)."""
    db.execute(delete(RosterUpload).where(RosterUpload.created_at < utcnow() - UPLOAD_TTL))
    upload = RosterUpload(token=secrets.token_urlsafe(24), enterprise_id=enterprise.id,
                          uploaded_by=by.id, filename=filename[:255], content=data)
    db.add(upload)
    db.flush()
    return upload


def get_upload_or_404(*, db: Session, enterprise: Enterprise, token: str, by: User) -> RosterUpload:
    """An upload of this enterprise made by this user."""
    upload = db.scalar(select(RosterUpload).where(
        RosterUpload.token == token, RosterUpload.enterprise_id == enterprise.id,
        RosterUpload.uploaded_by == by.id))
    if upload is None or upload.created_at < utcnow() - UPLOAD_TTL:
        raise NotFound(_("This upload has expired; please upload the file again."))
    return upload


def discard_upload(*, db: Session, upload: RosterUpload) -> None:
    """Forget an upload once imported or cancelled."""
    db.delete(upload)
    db.flush()


def export_roster(*, db: Session, enterprise: Enterprise) -> bytes:
    """The roster as .xlsx with the import's columns, so it can be edited and re-imported."""
    workers = db.scalars(select(Worker).where(Worker.enterprise_id == enterprise.id)
                         .order_by(Worker.full_name, Worker.id))
    rows = ([w.id_number, w.full_name, w.phone, w.job_category, w.hired_on,
             w.education_level or "", w.team or ""] for w in workers)
    return write_xlsx(EXPORT_COLUMNS, rows, sheet_title="roster")
