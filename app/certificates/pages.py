"""HTML routes of certificates: public verification, the holder's certificates and PDF, staff
lists (with .xlsx export) and the regulators' decisions."""

from __future__ import annotations

from urllib.parse import quote

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import Response
from sqlalchemy import select

from app.accounts.api import client_ip
from app.accounts.deps import CurrentUser, page_guard
from app.accounts.models import Role
from app.bounds import parse_int
from app.certificates import pdf, service
from app.certificates.deps import DecidableCertificate, PublicThrottle, VisibleCertificate
from app.db import SessionDep
from app.errors import AppError, Forbidden, Invalid, NotFound
from app.i18n import N_
from app.i18n import gettext as _
from app.organisations import reference
from app.organisations.models import Worker
from app.pagination import PageDep
from app.spreadsheets import write_xlsx
from app.web import flash, redirect, render

router = APIRouter(dependencies=[Depends(page_guard)], include_in_schema=False)

STATUS_LABELS = {
    "valid": N_("Valid"),
    "expired": N_("Expired"),
    "suspended": N_("Suspended"),
    "revoked": N_("Revoked"),
}
EVENT_LABELS = {
    "issued": N_("Issued"),
    "suspended": N_("Suspended"),
    "reinstated": N_("Reinstated"),
    "revoked": N_("Revoked"),
}
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _context() -> dict:
    return {"status_of": service.status_of, "status_labels": STATUS_LABELS,
            "event_labels": EVENT_LABELS,
            "job_categories": {c["code"]: c for c in reference.job_categories()}}


# --- public verification ------------------------------------------------------------------------

@router.get("/verify", name="verify_search", dependencies=[PublicThrottle])
def verify_search(request: Request, db: SessionDep, number: str = "", id_number: str = "",
                  name: str = "") -> Response:
    """Anyone: find a certificate by its number, or by the holder's ID number and name."""
    if number.strip():
        return redirect("/verify/" + quote(number.strip(), safe=""))
    results = None
    if id_number.strip() or name.strip():
        results = service.find_by_holder(db=db, id_number=id_number, name=name) \
            if id_number.strip() and name.strip() else []
    return render(request, "certificates/verify_search.html", {
        **_context(), "results": results, "id_number": id_number, "name": name,
        "masked_holder": service.masked_holder})


@router.get("/verify/{number}", name="verify_page", dependencies=[PublicThrottle])
def verify_page(request: Request, number: str, db: SessionDep) -> Response:
    """Anyone, no login (the QR code points here): status and holder masked."""
    try:
        certificate = service.get_by_number_or_404(db=db, number=number)
    except NotFound:
        return render(request, "certificates/verify_missing.html", {"number": number},
                      status_code=404)
    name, id_number = service.masked_holder(certificate)
    return render(request, "certificates/verify.html", {
        **_context(), "c": certificate, "status": service.status_of(certificate),
        "holder_name": name, "holder_id": id_number})


# --- holders ------------------------------------------------------------------------------------

@router.get("/certificates/mine", name="my_certificates")
def my_certificates(request: Request, db: SessionDep, user: CurrentUser) -> Response:
    """A worker's own certificates with their history, PDF and credential downloads."""
    worker = db.scalar(select(Worker).where(Worker.user_id == user.id))
    if worker is None:
        raise Forbidden(_("Only workers hold certificates."))
    items = service.certificates_of(db=db, worker_id=worker.id)
    return render(request, "certificates/mine.html", {
        **_context(), "items": items,
        "histories": {c.id: service.history_of(db=db, certificate=c) for c in items}})


@router.get("/api/v1/certificates/{number}/pdf", name="certificate_pdf")
def certificate_pdf(certificate: VisibleCertificate) -> Response:
    """The printable certificate (the holder, its enterprise admins, regulators, admins)."""
    return Response(pdf.render_pdf(certificate), media_type="application/pdf",
                    headers={"Content-Disposition":
                             f'inline; filename="{certificate.number}.pdf"'})


# --- staff --------------------------------------------------------------------------------------

def _staff(user: CurrentUser) -> None:
    if not user.has_role(Role.ADMIN, Role.REGULATOR, Role.ENTERPRISE_ADMIN):
        raise Forbidden(_("This list is for regulators and enterprise administrators."))


def _filters(q: str, job_category: str, status: str, due: str) -> service.CertificateFilter:
    days = parse_int(due, name="due", minimum=0, maximum=36_500)
    return service.CertificateFilter(query=q, job_category=job_category,
                                     status=status if status in STATUS_LABELS else "",
                                     due_within_days=days)


@router.get("/certificates", name="certificates")
def certificates(request: Request, db: SessionDep, user: CurrentUser, paging: PageDep,
                 q: str = "", job_category: str = "", status: str = "",
                 due: str = "") -> Response:
    """Certificates within the user's jurisdiction, with filters."""
    _staff(user)
    filters = _filters(q, job_category, status, due)
    items, total = service.search(db=db, user=user, filters=filters, page=paging.page,
                                  page_size=paging.page_size)
    params = {"q": q, "job_category": job_category, "status": status, "due": due}
    return render(request, "certificates/list.html", {
        **_context(), "items": items, "total": total, "paging": paging, "params": params,
        "enterprise_view": not user.has_role(Role.ADMIN, Role.REGULATOR)})


@router.get("/certificates/export.xlsx", name="certificates_export")
def certificates_export(db: SessionDep, user: CurrentUser, q: str = "", job_category: str = "",
                        status: str = "", due: str = "") -> Response:
    """The filtered list as .xlsx (every page; cells can never become formulas)."""
    _staff(user)
    filters = _filters(q, job_category, status, due)
    rows: list[list[object]] = []
    page = 1
    while True:
        items, total = service.search(db=db, user=user, filters=filters, page=page,
                                      page_size=500)
        for c in items:
            rows.append([c.number, c.worker.full_name, c.worker.id_number,
                         c.worker.enterprise.name, c.job_category, c.title.get("zh_CN", ""),
                         _(STATUS_LABELS[service.status_of(c)]), c.issued_on, c.expires_on,
                         c.review_due_on or ""])
        if page * 500 >= total or not items:
            break
        page += 1
    header = [_("Number"), _("Name"), _("ID number"), _("Enterprise"), _("Job category"),
              _("Title"), _("Status"), _("Issued on"), _("Expires on"), _("Review due")]
    return Response(write_xlsx(header, rows, sheet_title=_("Certificates")), media_type=XLSX,
                    headers={"Content-Disposition": 'attachment; filename="certificates.xlsx"'})


@router.get("/certificates/{number}", name="certificate")
def certificate_detail(request: Request, certificate: VisibleCertificate, db: SessionDep,
                       user: CurrentUser) -> Response:
    """A certificate with its history; regulators of its region act on it here."""
    return render(request, "certificates/detail.html", {
        **_context(), "c": certificate, "status": service.status_of(certificate),
        "history": service.history_of(db=db, certificate=certificate),
        "can_decide": service.can_decide(user, certificate)})


ACTIONS = {"suspend": (service.suspend, N_("The certificate is suspended.")),
           "reinstate": (service.reinstate, N_("The certificate is reinstated.")),
           "revoke": (service.revoke, N_("The certificate is revoked."))}


@router.post("/certificates/{number}/{action}", name="certificate_action")
def certificate_action(request: Request, action: str, certificate: DecidableCertificate,
                       db: SessionDep, user: CurrentUser,
                       reason: str = Form("")) -> Response:
    """Suspend, reinstate or revoke with a reason (audited by the service)."""
    if action not in ACTIONS:
        raise NotFound(_("There is no such action."))
    decide, done = ACTIONS[action]
    target = f"/certificates/{certificate.number}"
    try:
        decide(db=db, certificate=certificate, reason=reason, by=user, ip=client_ip(request))
    except Invalid as error:
        flash(request, "; ".join(e["msg"] for e in error.errors), "error")
        return redirect(target)
    except AppError as error:
        flash(request, error.message, "error")
        return redirect(target)
    flash(request, _(done))
    return redirect(target)

