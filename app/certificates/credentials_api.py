"""Routes of signed credentials: a holder's VC-JWT, the issuer's JWKS, the status lists, and the
public page where a verifier checks a credential."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, File, Form, Request, UploadFile
from fastapi.responses import JSONResponse, Response

from app.accounts.deps import CurrentUser, page_guard
from app.accounts.models import Role
from app.certificates import credentials, service
from app.certificates.deps import VisibleCertificate
from app.certificates.models import Certificate
from app.db import SessionDep
from app.errors import NotFound
from app.i18n import gettext as _
from app.web import render

router = APIRouter(tags=["certificates"])
PageGuard = [Depends(page_guard)]
MAX_UPLOAD = 64 * 1024
JWK_MEDIA_TYPE = "application/jwk+json"


def _holder_side(user: CurrentUser, certificate: Certificate) -> bool:
    """The holder, its enterprise's administrators and admins (not regulators)."""
    worker = certificate.worker
    if worker.user_id == user.id or user.has_role(Role.ADMIN):
        return True
    return bool(user.has_role(Role.ENTERPRISE_ADMIN) and user.enterprise_id == worker.enterprise_id)


@router.get("/api/v1/certificates/{number}/credential",
            responses={200: {"content": {credentials.MEDIA_TYPE: {}}}})
def credential(certificate: VisibleCertificate, user: CurrentUser, db: SessionDep) -> Response:
    """The certificate as an Open Badges 3.0 credential, a VC-JWT signed with EdDSA."""
    if not _holder_side(user, certificate):
        raise NotFound(_("There is no certificate with this number."),
                       code="certificate_not_found")
    token = credentials.issue_credential(db, certificate)
    return Response(token, media_type=credentials.MEDIA_TYPE, headers={
        "Content-Disposition": f'attachment; filename="{certificate.number}.jwt"',
        "Cache-Control": "no-store"})


@router.get("/.well-known/jwks.json")
def jwks(db: SessionDep) -> JSONResponse:
    """Anyone: every public key that signed credentials, retired ones too."""
    return JSONResponse(credentials.jwks(db), headers={"Cache-Control": "public, max-age=300"})


@router.get("/api/v1/keys/{thumbprint}", responses={200: {"content": {JWK_MEDIA_TYPE: {}}}})
def key(thumbprint: str, db: SessionDep) -> JSONResponse:
    """Anyone: one public key; a credential's `kid` header is this URL."""
    jwk = credentials.public_key(db, thumbprint)
    if jwk is None:
        raise NotFound(_("There is no key with this id."), code="key_not_found")
    return JSONResponse(jwk, media_type=JWK_MEDIA_TYPE,
                        headers={"Cache-Control": "public, max-age=300"})


@router.get("/api/v1/status-lists/{list_id}",
            responses={200: {"content": {credentials.MEDIA_TYPE: {}, "application/json": {}}}})
def status_list(list_id: str, request: Request, db: SessionDep,
                format: Literal["jwt", "json"] | None = None) -> Response:
    """Anyone: a Bitstring Status List credential, signed (VC-JWT) by default; unsigned JSON
    with ?format=json or when only JSON is accepted."""
    body = credentials.status_list_credential(db, list_id)
    if body is None:
        raise NotFound(_("There is no status list with this name."), code="not_found")
    headers = {"Cache-Control": "public, max-age=60", "Vary": "Accept"}
    if format == "json" or (format is None and _wants_json(request.headers.get("accept", ""))):
        return JSONResponse(body, headers=headers)
    return Response(credentials.sign_status_list(db, body), media_type=credentials.MEDIA_TYPE,
                    headers=headers)


def _wants_json(accept: str) -> bool:
    """JSON only when asked for and the signed form is not also acceptable."""
    kinds = {part.split(";")[0].strip().lower() for part in accept.split(",")}
    return bool(kinds & {"application/json", "application/vc+ld+json", "application/vc"}) and \
        not kinds & {credentials.MEDIA_TYPE, "*/*", "application/*"}


# --- the verifier's page ------------------------------------------------------------------------

def _page_context(db: SessionDep, token: str) -> dict[str, Any]:
    verdict = credentials.verify_credential(token, credentials.jwks(db),
                                            credentials.current_status_lists(db))
    payload = verdict.payload or {}
    holder = None
    number = credentials.number_of(payload) if verdict.signature_ok else None
    if number:
        try:
            certificate = service.get_by_number_or_404(db=db, number=number)
        except NotFound:
            certificate = None
        if certificate is not None:
            holder = service.masked_holder(certificate)
    return {"verdict": verdict, "payload": payload, "number": number, "holder": holder,
            "reasons": [credentials.describe(r) for r in verdict.reasons],
            "valid_from": str(payload.get("validFrom", ""))[:10],
            "valid_until": str(payload.get("validUntil", ""))[:10]}


@router.get("/verify/credential", name="verify_credential_page", dependencies=PageGuard,
            include_in_schema=False)
def verify_page(request: Request) -> Response:
    """Anyone: paste or upload a credential to check it."""
    return render(request, "certificates/verify_credential.html", {"token": ""})


@router.post("/verify/credential", dependencies=PageGuard, include_in_schema=False)
def verify_submit(request: Request, db: SessionDep, token: Annotated[str, Form()] = "",
                  file: Annotated[UploadFile | None, File()] = None) -> Response:
    """The verdict on a pasted or uploaded credential."""
    text = token.strip()
    if not text and file is not None and file.filename:
        text = file.file.read(MAX_UPLOAD).decode("utf-8", "replace").strip()
    if not text:
        return render(request, "certificates/verify_credential.html", {
            "token": "", "error": _("Paste a credential or choose a .jwt file.")},
            status_code=422)
    context = _page_context(db, text)
    return render(request, "certificates/verify_credential.html", {"token": text, **context})
