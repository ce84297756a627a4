"""Certificate lookups with jurisdiction."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from app.accounts.deps import CurrentUser
from app.certificates import service
from app.certificates.models import Certificate
from app.config import get_settings
from app.db import SessionDep
from app.errors import Forbidden, NotFound
from app.i18n import gettext as _
from app.ratelimit import SlidingWindow

_public_lookups: SlidingWindow | None = None


async def throttle_public(request: Request) -> None:
    """Public verification: a budget of look-ups per address, against scraping. (Async: it
    does no I/O, so the most visited public endpoint spares a thread hand-off.)"""
    global _public_lookups
    limit = get_settings().verify_rate_per_minute
    if _public_lookups is None or _public_lookups.limit != limit:
        _public_lookups = SlidingWindow(limit)
    _public_lookups.hit(request.client.host if request.client else "unknown")


PublicThrottle = Depends(throttle_public)


def visible_certificate(number: str, user: CurrentUser, db: SessionDep) -> Certificate:
    """A certificate the user may see (holder, enterprise admins, regulators, admins)."""
    certificate = service.get_by_number_or_404(db=db, number=number)
    if not service.can_see(user, certificate):
        raise NotFound(_("There is no certificate with this number."),
                       code="certificate_not_found")
    return certificate


VisibleCertificate = Annotated[Certificate, Depends(visible_certificate)]


def decidable_certificate(certificate: VisibleCertificate, user: CurrentUser) -> Certificate:
    """A certificate the user may suspend, reinstate or revoke (its region's regulators)."""
    if not service.can_decide(user, certificate):
        raise Forbidden(_("Only regulators of the holder's region may change this "
                          "certificate."))
    return certificate


DecidableCertificate = Annotated[Certificate, Depends(decidable_certificate)]
