"""Business rules of the talent pool: who may see and change entries, search, create, update."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import exists, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload

from app.accounts import service as accounts
from app.accounts.models import Role, User, UserRole
from app.db import utcnow
from app.errors import Conflict, Forbidden, Invalid, NotFound
from app.experts.models import (
    Expert,
    ExpertRole,
    ExpertRoleLink,
    ExpertSpeciality,
    Speciality,
)
from app.i18n import gettext as _
from app.organisations import service as organisations
from app.pagination import LIKE_ESCAPE, like_pattern

# Everyone but a plain worker consults the pool.
STAFF_ROLES = (Role.ADMIN, Role.REGULATOR, Role.ENTERPRISE_ADMIN, Role.TRAINER, Role.EXAMINER)
# A login linked to an expert must be one that trains or examines on the platform.
LINKABLE_ROLES = (Role.TRAINER, Role.EXAMINER)
SPECIALITY_CODES = tuple(s.value for s in Speciality)
ROLE_CODES = tuple(r.value for r in ExpertRole)
FIELDS = ("full_name", "organisation", "region_code", "specialities", "roles", "qualifications",
          "available", "user_id")


# --- who may do what ------------------------------------------------------------------------

def is_staff(user: User) -> bool:
    """Staff consult the pool: every role except a plain worker."""
    return user.has_role(*STAFF_ROLES)


def can_create(user: User) -> bool:
    """Admins, and regulators that have a region, add experts (regulators: in their region)."""
    return user.has_role(Role.ADMIN) or bool(user.has_role(Role.REGULATOR) and user.region_code)


def covers_region(user: User, region_code: str) -> bool:
    """True when `user` may add or edit experts of `region_code` (a short GB/T 2260 code)."""
    if user.has_role(Role.ADMIN):
        return True
    return bool(user.has_role(Role.REGULATOR) and user.region_code
                and region_code.startswith(user.region_code))


def can_edit(user: User, expert: Expert) -> bool:
    """Admins, and regulators whose region covers the expert's."""
    return covers_region(user, expert.region_code)


# --- lookups --------------------------------------------------------------------------------

def _loaded() -> list[Any]:
    return [selectinload(Expert.specialities), selectinload(Expert.roles),
            selectinload(Expert.user)]


def get_or_404(*, db: Session, expert_id: int) -> Expert:
    """An expert with its specialities, roles and linked login loaded, or NotFound."""
    expert = db.scalar(select(Expert).where(Expert.id == expert_id).options(*_loaded()))
    if expert is None:
        raise NotFound(_("No such expert."))
    return expert


@dataclass(frozen=True)
class ExpertFilter:
    """A search of the pool; every part is optional."""

    query: str = ""
    speciality: str = ""
    region: str = ""
    role: str = ""
    available: bool | None = None


def clean_filter(*, db: Session, query: str = "", speciality: str = "", region: str = "",
                 role: str = "", available: bool | None = None) -> ExpertFilter:
    """Check a search: an unknown speciality, role or region is a 422 naming the parameter."""
    errors: list[dict[str, Any]] = []
    speciality, role = speciality.strip(), role.strip()
    if speciality and speciality not in SPECIALITY_CODES:
        errors.append({"loc": ["query", "speciality"], "msg": _(
            "Unknown speciality {code}.").format(code=speciality)})
    if role and role not in ROLE_CODES:
        errors.append({"loc": ["query", "role"], "msg": _(
            "Unknown expert role {code}.").format(code=role)})
    code = ""
    try:
        code = organisations.clean_region_code(db=db, value=region, field="region") or ""
    except Invalid as exc:
        errors.extend({"loc": ["query", *e["loc"]], "msg": e["msg"]} for e in exc.errors)
    if errors:
        raise Invalid(errors=errors)
    return ExpertFilter(query=query.strip(), speciality=speciality, region=code, role=role,
                        available=available)


def list_(*, db: Session, filters: ExpertFilter, page: int = 1,
          page_size: int = 25) -> tuple[list[Expert], int]:
    """One page of the experts matching `filters`, by name."""
    stmt = select(Expert)
    if filters.speciality:
        stmt = stmt.where(exists().where(ExpertSpeciality.expert_id == Expert.id,
                                         ExpertSpeciality.speciality == filters.speciality))
    if filters.role:
        stmt = stmt.where(exists().where(ExpertRoleLink.expert_id == Expert.id,
                                         ExpertRoleLink.role == filters.role))
    if filters.region:
        stmt = stmt.where(Expert.region_code.startswith(filters.region, autoescape=True))
    if filters.available is not None:
        stmt = stmt.where(Expert.available == filters.available)
    if filters.query:
        like = like_pattern(filters.query)
        stmt = stmt.where(or_(Expert.full_name.ilike(like, escape=LIKE_ESCAPE),
                              Expert.organisation.ilike(like, escape=LIKE_ESCAPE),
                              Expert.qualifications.ilike(like, escape=LIKE_ESCAPE)))
    total = db.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    items = db.scalars(stmt.options(*_loaded()).order_by(Expert.full_name, Expert.id)
                       .limit(page_size).offset((page - 1) * page_size)).all()
    return list(items), total


def linkable_users(*, db: Session) -> list[User]:
    """Active trainers and examiners, by name: the logins an expert may be linked to."""
    return list(db.scalars(
        select(User).where(User.is_active.is_(True), exists().where(
            UserRole.user_id == User.id, UserRole.role.in_([r.value for r in LINKABLE_ROLES])))
        .options(selectinload(User.roles)).order_by(User.full_name, User.username)))


# --- create and update ----------------------------------------------------------------------

@dataclass
class _Checked:
    values: dict[str, Any] = field(default_factory=dict)
    errors: list[dict[str, Any]] = field(default_factory=list)


def _codes(values: list[str], allowed: tuple[str, ...], loc: str, checked: _Checked) -> list[str]:
    codes = sorted({str(v).strip() for v in values if str(v).strip()})
    unknown = [c for c in codes if c not in allowed]
    if unknown:
        checked.errors.append({"loc": [loc], "msg": _(
            "Unknown code(s): {codes}. Allowed: {allowed}.").format(
                codes=", ".join(unknown), allowed=", ".join(allowed))})
    return codes


def _check(*, db: Session, data: dict[str, Any], expert: Expert | None) -> _Checked:
    """Validate the given fields (all of them on create, the changed ones on update)."""
    checked = _Checked()
    for name in ("full_name", "organisation"):
        if name in data:
            text = str(data[name] or "").strip()
            if not text:
                checked.errors.append({"loc": [name], "msg": _("This field is required.")})
            checked.values[name] = text
    if "qualifications" in data:
        checked.values["qualifications"] = str(data["qualifications"] or "").strip()
    if "available" in data:
        checked.values["available"] = bool(data["available"])
    if "region_code" in data:
        try:
            code = organisations.clean_region_code(db=db, value=data["region_code"])
        except Invalid as exc:
            checked.errors.extend(exc.errors)
        else:
            if code is None:
                checked.errors.append({"loc": ["region_code"], "msg": _("Choose a region.")})
            checked.values["region_code"] = code
    if "specialities" in data:
        codes = _codes(data["specialities"] or [], SPECIALITY_CODES, "specialities", checked)
        if not codes:
            checked.errors.append({"loc": ["specialities"], "msg": _(
                "Choose at least one speciality.")})
        checked.values["specialities"] = codes
    if "roles" in data:
        checked.values["roles"] = _codes(data["roles"] or [], ROLE_CODES, "roles", checked)
    if "user_id" in data:
        checked.values["user_id"] = _check_user(db=db, user_id=data["user_id"], expert=expert,
                                                checked=checked)
    return checked


def _check_user(*, db: Session, user_id: int | None, expert: Expert | None,
                checked: _Checked) -> int | None:
    if user_id is None:
        return None
    user = accounts.get_user(db=db, user_id=user_id)
    if user is None:
        checked.errors.append({"loc": ["user_id"], "msg": _("No such user.")})
        return None
    if not user.has_role(*LINKABLE_ROLES):
        checked.errors.append({"loc": ["user_id"], "msg": _(
            "Only a trainer's or an examiner's login can be linked to an expert.")})
        return None
    other = db.scalar(select(Expert.id).where(Expert.user_id == user_id))
    if other is not None and (expert is None or other != expert.id):
        raise Conflict(_("This login is already linked to another expert."),
                       code="user_already_linked")
    return user_id


def _check_jurisdiction(by: User, region_code: str) -> None:
    if not covers_region(by, region_code):
        raise Forbidden(_("You may only add or edit experts of your own region."),
                        code="outside_jurisdiction")


def _set_links(expert: Expert, *, specialities: list[str] | None = None,
               roles: list[str] | None = None) -> None:
    # Only the differences are written: removing and re-adding a row with the same primary
    # key in one flush would collide.
    if specialities is not None:
        for row in [s for s in expert.specialities if s.speciality not in specialities]:
            expert.specialities.remove(row)
        have = set(expert.speciality_codes)
        expert.specialities.extend(ExpertSpeciality(speciality=c) for c in specialities
                                   if c not in have)
    if roles is not None:
        for link in [r for r in expert.roles if r.role not in roles]:
            expert.roles.remove(link)
        have = set(expert.role_codes)
        expert.roles.extend(ExpertRoleLink(role=c) for c in roles if c not in have)


def _flush(db: Session) -> None:
    # The one unique rule besides keys is one expert per login: a concurrent request that
    # linked the same login first makes the insert fail here, which is the same conflict.
    try:
        db.flush()
    except IntegrityError as exc:
        raise Conflict(_("This login is already linked to another expert."),
                       code="user_already_linked") from exc


def create(*, db: Session, data: dict[str, Any], by: User, ip: str | None = None) -> Expert:
    """Add an expert to the pool (admins anywhere, regulators in their own region)."""
    if not can_create(by):
        raise Forbidden(_("Only administrators and regulators add experts."))
    full = {"roles": [], "qualifications": "", "available": True, "user_id": None,
            "full_name": "", "organisation": "", "region_code": "", "specialities": [], **data}
    checked = _check(db=db, data=full, expert=None)
    if checked.errors:
        raise Invalid(errors=checked.errors)
    values = checked.values
    _check_jurisdiction(by, values["region_code"])
    expert = Expert(full_name=values["full_name"], organisation=values["organisation"],
                    region_code=values["region_code"], qualifications=values["qualifications"],
                    available=values["available"], user_id=values["user_id"],
                    specialities=[], roles=[])
    _set_links(expert, specialities=values["specialities"], roles=values["roles"])
    db.add(expert)
    _flush(db)
    accounts.record_audit(db=db, action="expert.created", actor=by, object_type="expert",
                          object_id=expert.id, region_code=expert.region_code, ip=ip,
                          detail={k: values[k] for k in FIELDS})
    return get_or_404(db=db, expert_id=expert.id)


def _current(expert: Expert) -> dict[str, Any]:
    return {"full_name": expert.full_name, "organisation": expert.organisation,
            "region_code": expert.region_code, "specialities": expert.speciality_codes,
            "roles": expert.role_codes, "qualifications": expert.qualifications,
            "available": expert.available, "user_id": expert.user_id}


def update(*, db: Session, expert: Expert, changes: dict[str, Any], by: User,
           ip: str | None = None) -> Expert:
    """Change the given fields; moving an expert needs jurisdiction over both regions."""
    if not can_edit(by, expert):
        raise Forbidden(_("You may only add or edit experts of your own region."),
                        code="outside_jurisdiction")
    unknown = sorted(set(changes) - set(FIELDS))
    if unknown:
        raise Invalid(errors=[{"loc": [name], "msg": _("This field is not expected here.")}
                              for name in unknown])
    checked = _check(db=db, data=changes, expert=expert)
    if checked.errors:
        raise Invalid(errors=checked.errors)
    before = _current(expert)
    diff = {k: [before[k], v] for k, v in checked.values.items() if before[k] != v}
    if not diff:
        return expert
    if "region_code" in diff:
        _check_jurisdiction(by, checked.values["region_code"])
    for name in ("full_name", "organisation", "region_code", "qualifications", "available",
                 "user_id"):
        if name in diff:
            setattr(expert, name, checked.values[name])
    _set_links(expert, specialities=checked.values.get("specialities"),
               roles=checked.values.get("roles"))
    expert.updated_at = utcnow()
    _flush(db)
    accounts.record_audit(db=db, action="expert.updated", actor=by, object_type="expert",
                          object_id=expert.id, region_code=expert.region_code, ip=ip,
                          detail={"changes": diff})
    db.expire(expert)
    return get_or_404(db=db, expert_id=expert.id)
