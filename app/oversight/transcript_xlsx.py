"""The worker transcript as a workbook: one sheet per section, headers and labels in the
requester's language, codes kept in their own columns for machines. Text can never become a
formula (app.spreadsheets.neutralise_formula); times are China Standard Time."""

from __future__ import annotations

import io
from collections.abc import Sequence
from datetime import datetime

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from app.i18n import LOCAL_TZ, localized
from app.i18n import gettext as _
from app.oversight import transcript as t
from app.spreadsheets import neutralise_formula

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
_INVALID_TITLE = str.maketrans({c: " " for c in "\\*?:/[]"})


def _value(value: object) -> object:
    if isinstance(value, datetime):  # Excel has no zones: the wall clock in Beijing
        return value.astimezone(LOCAL_TZ).replace(tzinfo=None)
    if isinstance(value, str):
        return neutralise_formula(ILLEGAL_CHARACTERS_RE.sub("", value))
    return value


def _sheet(workbook: Workbook, title: str, header: Sequence[str],
           rows: Sequence[Sequence[object]]) -> None:
    sheet = workbook.create_sheet(title=title.translate(_INVALID_TITLE)[:31])
    for index, name in enumerate(header, start=1):
        width = max([len(str(name)) * 2, *(len(str(row[index - 1])) for row in rows[:200])])
        sheet.column_dimensions[get_column_letter(index)].width = min(max(width + 2, 8), 60)
    bold = Font(bold=True)
    cells = []
    for name in header:
        cell = WriteOnlyCell(sheet, value=_value(name))
        cell.font = bold
        cells.append(cell)
    sheet.append(cells)
    for row in rows:
        out = []
        for value in row:
            cell = WriteOnlyCell(sheet, value=_value(value))
            if isinstance(value, datetime):
                cell.number_format = "yyyy-mm-dd hh:mm"
            elif hasattr(value, "isoformat"):
                cell.number_format = "yyyy-mm-dd"
            elif isinstance(value, str):
                cell.data_type = "s"  # text stays text, whatever it looks like
            out.append(cell)
        sheet.append(out)


def render(item: t.Transcript) -> bytes:
    """The workbook (call within the requester's locale)."""
    workbook = Workbook(write_only=True)
    w = item.worker
    _sheet(workbook, _("Profile"), [_("Field"), _("Value")], [
        [_("Full name"), w.full_name],
        [_("ID number"), w.id_number],
        [_("Enterprise"), w.enterprise_name],
        [_("Region"), t.region_name(w.region_code)],
        [_("Job category"), t.category_name(w.job_category)],
        [_("Hired on"), w.hired_on],
        [_("Phone"), w.phone],
        [_("Printed"), item.generated_at],
    ])
    _sheet(workbook, _("Enrolments"), [
        _("Course"), _("Course code"), _("Version"), _("Status"), _("Enrolled on"),
        _("Deadline"), _("Completed on"), _("Credited minutes"), _("Required minutes"),
        _("Class hours"), _("Lessons completed"), _("Lessons"), _("Status code")],
        [[localized(e.course_title), e.course_code, e.version,
          t.label(t.ENROLMENT_LABELS, e.status), e.enrolled_at, e.deadline, e.completed_at,
          e.credited_minutes, e.required_minutes, e.credit_hours, e.lessons_completed,
          e.lessons_total, e.status] for e in item.enrolments])
    _sheet(workbook, _("Theory attempts"), [
        _("Course"), _("Course code"), _("Version"), _("Attempt"), _("Started"),
        _("Submitted"), _("Score"), _("Pass mark"), _("Result")],
        [[localized(a.course_title), a.course_code, a.version, a.number, a.started_at,
          a.submitted_at, a.score, a.pass_mark, t.label(t.ATTEMPT_LABELS, a.outcome)]
         for a in item.attempts])
    _sheet(workbook, _("Practical tests"), [
        _("Course"), _("Course code"), _("Version"), _("Test centre"), _("Session starts"),
        _("Status"), _("Attendance"), _("Score"), _("Result recorded"), _("Status code")],
        [[localized(p.course_title), p.course_code, p.version, p.test_centre, p.starts_at,
          t.label(t.BOOKING_LABELS, p.status), t.label(t.ATTENDANCE_LABELS, p.attendance),
          p.score, p.result_at, p.status] for p in item.practicals])
    _sheet(workbook, _("Certificates"), [
        _("Certificate number"), _("Certificate"), _("Job category"), _("Issued on"),
        _("Expires on"), _("Review due"), _("Status"), _("Reason"), _("Issuer"),
        _("Status code")],
        [[c.number, localized(c.title), t.category_name(c.job_category), c.issued_on,
          c.expires_on, c.review_due_on, t.label(t.CERTIFICATE_LABELS, c.status),
          c.status_reason, c.issuer, c.status] for c in item.certificates])
    _sheet(workbook, _("Certificate history"), [
        _("Certificate number"), _("Date"), _("Event"), _("Reason")],
        [[c.number, e.at, t.label(t.EVENT_LABELS, e.kind), e.reason]
         for c in item.certificates for e in c.history])
    _sheet(workbook, _("Study hours"), [
        _("Year"), _("Requirement"), _("Required hours"), _("Credited hours"),
        _("Online minutes"), _("Offline minutes"), _("Met")],
        [[h.year, t.label(t.REQUIREMENT_LABELS, h.requirement), h.required_hours,
          h.credited_hours, round(h.online_seconds / 60, 1), round(h.offline_seconds / 60, 1),
          _("Yes") if h.met else _("No")] for h in item.hours])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
