"""Workbooks of the compliance list and the oversight dashboard: the same rows, columns and
labels as the page and the JSON (docs/oversight.md)."""

from __future__ import annotations

import io
from collections.abc import Sequence
from typing import Any

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font

from app.i18n import gettext as _
from app.i18n import localized
from app.oversight import compliance
from app.oversight.compliance import CompliancePage, WorkerCompliance
from app.oversight.dashboard import Dashboard
from app.spreadsheets import neutralise_formula

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _sheet(workbook: Workbook, title: str, header: Sequence[str],
           rows: Sequence[Sequence[Any]]) -> None:
    sheet = workbook.create_sheet(title=title[:31])
    bold = Font(bold=True)
    cells = []
    for name in header:
        cell = WriteOnlyCell(sheet, value=name)
        cell.font = bold
        cells.append(cell)
    sheet.append(cells)
    for row in rows:
        sheet.append([neutralise_formula(value) for value in row])


def _save(workbook: Workbook) -> bytes:
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def totals_rows(totals: dict[str, Any]) -> list[list[Any]]:
    """The totals as (key, value) rows, keys as in the JSON."""
    return [[key, value] for key, value in totals.items()]


def status_label(status: str) -> str:
    """A compliance status in the current language."""
    return _(compliance.STATUS_LABELS.get(status, status))


def certificate_text(row: WorkerCompliance) -> str:
    """The current certificates of a row as one cell: number, status, expiry."""
    return "; ".join(f"{c.number} {localized(c.title)} ({c.status}, {c.expires_on.isoformat()})"
                     for c in row.certificates)


def compliance_header() -> list[str]:
    return [_("Worker ID"), _("Name"), _("Job category"), _("Team"), _("Hired on"),
            _("Requirement"),
            _("Required hours"), _("Credited hours"), _("Shortfall (hours)"),
            _("Initial training overdue"), _("Theory pass valid until"), _("Certificates"),
            _("Days to expiry"), _("Days to review"), _("Status"), _("Status code")]


def compliance_line(row: WorkerCompliance, category_names: dict[str, str]) -> list[Any]:
    """One worker's cells, as the page's table shows them."""
    return [row.worker_id, row.full_name, category_names.get(row.job_category, row.job_category),
            row.team or "", row.hired_on,
            _("Initial") if row.requirement == "initial" else _("Annual"),
            row.required_hours, row.credited_hours, row.shortfall_hours,
            _("Yes") if row.overdue_initial else _("No"), row.theory_pass_valid_until,
            certificate_text(row), row.days_to_expiry, row.days_to_review,
            status_label(row.status), row.status]


def compliance_workbook(*, page: CompliancePage, rows: Sequence[WorkerCompliance],
                        category_names: dict[str, str]) -> bytes:
    """Sheet 1: every row matching the filters in the shown order; sheet 2: the totals."""
    workbook = Workbook(write_only=True)
    _sheet(workbook, _("Workers"), compliance_header(),
           [compliance_line(row, category_names) for row in rows])
    _sheet(workbook, _("Totals"), [_("Total"), _("Value")],
           [["year", page.period.year], ["enterprise_id", page.enterprise_id],
            *totals_rows(page.totals.as_dict())])
    return _save(workbook)


def oversight_workbook(*, board: Dashboard, data: dict[str, Any],
                       category_names: dict[str, str]) -> bytes:
    """The dashboard's tables: enterprises, totals, job categories, months."""
    workbook = Workbook(write_only=True)
    keys = list(data["totals"].keys())
    keys.remove("enterprises")
    _sheet(workbook, _("Enterprises"), ["enterprise_id", "name", "region_code", *keys],
           [[e["enterprise_id"], e["name"], e["region_code"], *[e["totals"][k] for k in keys]]
            for e in data["enterprises"]])
    _sheet(workbook, _("Totals"), [_("Total"), _("Value")],
           [["region", board.region or ""], ["year", board.period.year],
            *totals_rows(data["totals"])])
    category_keys = [k for k in (data["job_categories"][0].keys()
                                 if data["job_categories"] else []) if k != "job_category"]
    _sheet(workbook, _("Job categories"), ["job_category", _("Job category"), *category_keys],
           [[c["job_category"], category_names.get(c["job_category"], c["job_category"]),
             *[c[k] for k in category_keys]] for c in data["job_categories"]])
    _sheet(workbook, _("Months"), ["month", "certificates_issued", "hours_credited"],
           [[m["month"], m["certificates_issued"], m["hours_credited"]] for m in data["months"]])
    return _save(workbook)
