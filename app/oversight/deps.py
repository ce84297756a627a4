"""Lookups with jurisdiction for compliance and oversight; the rules themselves live in
organisations (enterprises) and dashboard.region_for (regions)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Query

from app.errors import Invalid
from app.i18n import gettext as _
from app.organisations import reference
from app.organisations.roster import clean_team
from app.oversight import compliance
from app.oversight.compliance import ComplianceStatus, Period

YearQuery = Annotated[int | None, Query(ge=2000, le=2100,
                                        description="the year; default: the current year")]


def year_period(year: YearQuery = None) -> Period:
    """The period of `?year=` (the current year when absent)."""
    return compliance.period(year=year)


PeriodDep = Annotated[Period, Depends(year_period)]


class ComplianceFilter:
    """`?status=&job_category=&team=&sort=` of the compliance list, checked (422 when unknown;
    a team nobody is in simply matches no one)."""

    def __init__(self, status: Annotated[str, Query(
                     max_length=40, description="one of the statuses; empty: any")] = "",
                 job_category: Annotated[str, Query(max_length=40)] = "",
                 sort: Annotated[str, Query(max_length=20)] = "status",
                 team: Annotated[str, Query(max_length=60, description=(
                     "only this team (as on the roster); empty: any"))] = "") -> None:
        # Empty values are "any" (what a filter form sends when nothing is chosen).
        if status and status not in {s.value for s in ComplianceStatus}:
            raise Invalid(errors=[{"loc": ["query", "status"], "msg": _(
                "Status must be one of: {values}.").format(
                    values=", ".join(s.value for s in ComplianceStatus))}])
        if job_category and job_category not in reference.job_category_codes():
            raise Invalid(errors=[{"loc": ["query", "job_category"],
                                   "msg": _("Unknown job category.")}])
        clean = compliance.clean_sort(sort)
        if not clean:
            raise Invalid(errors=[{"loc": ["query", "sort"], "msg": _(
                "Sort by one of: {keys} (a leading '-' sorts descending).").format(
                    keys=", ".join(compliance.SORTS))}])
        self.status = status or None
        self.job_category = job_category or None
        self.team = clean_team(team)
        self.sort = clean

    def params(self) -> dict[str, str]:
        """The filters as query parameters (for links and the export)."""
        return {k: v for k, v in (("status", self.status or ""),
                                  ("job_category", self.job_category or ""),
                                  ("team", self.team or ""),
                                  ("sort", self.sort)) if v}


FilterDep = Annotated[ComplianceFilter, Depends()]
