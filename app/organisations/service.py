"""Business rules of organisations: regions, enterprises, jurisdiction, workers."""

from __future__ import annotations

from datetime import date

from sqlalchemy import ColumnElement, false, func, or_, select, true
from sqlalchemy.orm import Session, joinedload

from app.accounts import service as accounts
from app.accounts.models import Role, User, UserRole
from app.errors import Conflict, Forbidden, Invalid, NotFound
from app.i18n import gettext as _
from app.organisations import reference, validators
from app.organisations.models import Enterprise, EnterpriseKind, MineType, Region, Worker
from app.organisations.roster import TEAM_MAX_LENGTH, clean_team
from app.pagination import LIKE_ESCAPE, like_pattern

# --- regions --------------------------------------------------------------------------------

def sync_regions(*, db: Session) -> int:
    """Load the shipped GB/T 2260 list into the regions table (insert new, rename changed)."""
    existing = {r.code: r for r in db.scalars(select(Region))}
    changed = 0
    for item in reference.regions():
        code = str(item["code"])
        region = existing.get(code)
        if region is None:
            db.add(Region(code=code, name_en=item["en"], name_zh=item["zh"]))
            changed += 1
        elif (region.name_en, region.name_zh) != (item["en"], item["zh"]):
            region.name_en, region.name_zh = item["en"], item["zh"]
            changed += 1
    db.flush()
    return changed


def clean_region_code(*, db: Session, value: str | None, field: str = "region_code") -> str | None:
    """The short form of a code of the shipped GB/T 2260 list ('140100' -> '1401').

    Invalid when the code is malformed or names no division (149999, 1499); the check is
    against the list shipped with this version (reference.region_codes), not the database.
    """
    if value is None or str(value).strip() == "":
        return None
    code = validators.normalise_region_code(str(value))
    if code is None:
        raise Invalid(errors=[{"loc": [field], "msg": _(
            "A region code has 2, 4 or 6 digits (GB/T 2260), for example 14 or 140100.")}])
    if not reference.is_region(code[:2]):
        raise Invalid(errors=[{"loc": [field], "msg": _(
            "There is no province with code {code}.").format(code=code[:2])}])
    if not reference.is_region(code):
        raise Invalid(errors=[{"loc": [field], "msg": _(
            "There is no region with code {code} in GB/T 2260.").format(
                code=validators.full_region_code(code))}])
    return code


def region_names(*, db: Session, codes: set[str]) -> dict[str, Region]:
    """Known regions among `codes` (one query)."""
    if not codes:
        return {}
    return {r.code: r for r in db.scalars(select(Region).where(Region.code.in_(codes)))}


def list_regions(*, db: Session, max_digits: int = 4) -> list[Region]:
    """Known regions by code: provinces and prefectures (the default, for pickers: about 370
    rows), or every division with max_digits=6 (about 3,200 with the counties)."""
    return list(db.scalars(select(Region).where(func.length(Region.code) <= max_digits)
                           .order_by(Region.code)))


# --- jurisdiction ---------------------------------------------------------------------------

def enterprise_scope(user: User) -> ColumnElement[bool]:
    """SQL condition on Enterprise: the enterprises `user` may see (the one rule for it)."""
    if user.has_role(Role.ADMIN):
        return true()
    conditions: list[ColumnElement[bool]] = []
    if user.has_role(Role.REGULATOR) and user.region_code:
        conditions.append(Enterprise.region_code.startswith(user.region_code, autoescape=True))
    if user.has_role(Role.ENTERPRISE_ADMIN) and user.enterprise_id:
        conditions.append(Enterprise.id == user.enterprise_id)
    return or_(*conditions) if conditions else false()


def can_see_enterprise(user: User, enterprise: Enterprise) -> bool:
    """The same rule as enterprise_scope, for one loaded enterprise."""
    if user.has_role(Role.ADMIN):
        return True
    if user.has_role(Role.REGULATOR) and user.region_code and \
            enterprise.region_code.startswith(user.region_code):
        return True
    return bool(user.has_role(Role.ENTERPRISE_ADMIN) and user.enterprise_id == enterprise.id)


def can_manage_enterprise(user: User, enterprise_id: int) -> bool:
    """Admins, and the enterprise's own administrators, change its roster."""
    return user.has_role(Role.ADMIN) or (
        user.has_role(Role.ENTERPRISE_ADMIN) and user.enterprise_id == enterprise_id)


def can_see_worker(user: User, worker: Worker) -> bool:
    """A worker sees itself; staff see workers of the enterprises they may see."""
    if worker.user_id == user.id:
        return True
    return can_see_enterprise(user, worker.enterprise)


# --- enterprises ----------------------------------------------------------------------------

def get_enterprise_or_404(*, db: Session, enterprise_id: int) -> Enterprise:
    """An enterprise or NotFound."""
    enterprise = db.get(Enterprise, enterprise_id)
    if enterprise is None:
        raise NotFound(_("No such enterprise."))
    return enterprise


def create_enterprise(*, db: Session, name: str, credit_code: str, region_code: str,
                      mine_type: str, above_designated_size: bool, by: User,
                      ip: str | None = None,
                      kind: str = EnterpriseKind.ENTERPRISE.value) -> Enterprise:
    """Register an enterprise (or, with kind 'agency', a supervisory agency); its unified
    social credit code must pass GB 32100."""
    errors = []
    code = credit_code.strip().upper()
    problem = validators.credit_code_problem(code)
    if problem is not None:
        template, params = problem
        errors.append({"loc": ["credit_code"], "msg": _(template).format(**params)})
    if not name.strip():
        errors.append({"loc": ["name"], "msg": _("Enter the enterprise's name.")})
    if mine_type not in {m.value for m in MineType}:
        errors.append({"loc": ["mine_type"], "msg": _("Choose a mine type.")})
    try:
        region = clean_region_code(db=db, value=region_code)
    except Invalid as exc:
        errors.extend(exc.errors)
        region = None
    if region is None and not any(e["loc"] == ["region_code"] for e in errors):
        errors.append({"loc": ["region_code"], "msg": _("Choose a region.")})
    if errors:
        raise Invalid(errors=errors)
    if db.scalar(select(Enterprise.id).where(Enterprise.credit_code == code)) is not None:
        raise Conflict(_("An enterprise with credit code {code} is already registered.").format(
            code=code), code="credit_code_taken")
    enterprise = Enterprise(name=name.strip(), credit_code=code, region_code=region or "",
                            mine_type=mine_type, above_designated_size=above_designated_size,
                            kind=kind)
    db.add(enterprise)
    db.flush()
    accounts.record_audit(db=db, action=f"{kind}.created", actor=by, object_type="enterprise",
                          object_id=enterprise.id, enterprise_id=enterprise.id,
                          region_code=enterprise.region_code, ip=ip,
                          detail={"name": enterprise.name, "credit_code": code})
    return enterprise


def list_enterprises(*, db: Session, user: User, query: str = "", page: int = 1,
                     page_size: int = 25) -> tuple[list[Enterprise], int]:
    """The enterprises `user` may see, optionally searched by name or credit code."""
    stmt = select(Enterprise).where(enterprise_scope(user),
                                    Enterprise.kind == EnterpriseKind.ENTERPRISE.value)
    if query.strip():
        like = like_pattern(query.strip())
        stmt = stmt.where(or_(Enterprise.name.ilike(like, escape=LIKE_ESCAPE),
                              Enterprise.credit_code.ilike(like, escape=LIKE_ESCAPE)))
    total = db.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    items = db.scalars(stmt.order_by(Enterprise.name).limit(page_size)
                       .offset((page - 1) * page_size)).all()
    return list(items), total


def all_enterprises(*, db: Session) -> list[Enterprise]:
    """Every enterprise by name (for platform-wide roles such as trainers picking attendees)."""
    return list(db.scalars(select(Enterprise).order_by(Enterprise.name)))


def staff_counts(*, db: Session, enterprise_ids: list[int]) -> dict[int, int]:
    """Roster size per enterprise (one query)."""
    if not enterprise_ids:
        return {}
    rows = db.execute(select(Worker.enterprise_id, func.count()).where(
        Worker.enterprise_id.in_(enterprise_ids)).group_by(Worker.enterprise_id))
    return {eid: count for eid, count in rows}


# --- workers --------------------------------------------------------------------------------

def get_worker_or_404(*, db: Session, worker_id: int) -> Worker:
    """A worker with its enterprise loaded, or NotFound."""
    worker = db.scalar(select(Worker).where(Worker.id == worker_id)
                       .options(joinedload(Worker.enterprise)))
    if worker is None:
        raise NotFound(_("No such worker."))
    return worker


def worker_of_user(*, db: Session, user_id: int) -> Worker | None:
    """The worker profile of a login, if it has one."""
    return db.scalar(select(Worker).where(Worker.user_id == user_id)
                     .options(joinedload(Worker.enterprise)))


def list_workers(*, db: Session, enterprise_id: int, query: str = "", job_category: str = "",
                 team: str = "", page: int = 1,
                 page_size: int = 25) -> tuple[list[Worker], int]:
    """One page of an enterprise's roster, searched by name, ID number or phone, filtered by
    job category and team."""
    stmt = select(Worker).where(Worker.enterprise_id == enterprise_id)
    if query.strip():
        text = query.strip()
        stmt = stmt.where(or_(Worker.full_name.ilike(like_pattern(text), escape=LIKE_ESCAPE),
                              Worker.id_number.startswith(text.upper(), autoescape=True),
                              Worker.phone.startswith(text, autoescape=True)))
    if job_category:
        stmt = stmt.where(Worker.job_category == job_category)
    if team:
        stmt = stmt.where(Worker.team == team)
    total = db.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    items = db.scalars(stmt.order_by(Worker.full_name, Worker.id).limit(page_size)
                       .offset((page - 1) * page_size)).all()
    return list(items), total


def enterprise_teams(*, db: Session, enterprise_id: int) -> list[str]:
    """The distinct teams of an enterprise's roster, sorted (for the team filters)."""
    return list(db.scalars(select(Worker.team).where(
        Worker.enterprise_id == enterprise_id, Worker.team.is_not(None))
        .group_by(Worker.team).order_by(Worker.team)))


def set_worker_team(*, db: Session, worker: Worker, team: str | None, by: User,
                    ip: str | None = None) -> None:
    """Put a worker in a team (None or blank: no team); Invalid when the name is too long."""
    name = clean_team(team or "")
    if name is not None and len(name) > TEAM_MAX_LENGTH:
        raise Invalid(errors=[{"loc": ["body", "team"], "msg": _(
            "The team name is longer than {n} characters.").format(n=TEAM_MAX_LENGTH)}])
    if name == worker.team:
        return
    before, worker.team = worker.team, name
    db.flush()
    accounts.record_audit(db=db, action="worker.team_changed", actor=by, object_type="worker",
                          object_id=worker.id, enterprise_id=worker.enterprise_id, ip=ip,
                          detail={"from": before, "to": name})


def all_workers(*, db: Session, enterprise_id: int) -> list[Worker]:
    """The whole roster, for export."""
    return list(db.scalars(select(Worker).where(Worker.enterprise_id == enterprise_id)
                           .order_by(Worker.full_name, Worker.id)))


def set_worker_password(*, db: Session, worker: Worker, password: str, by: User,
                        ip: str | None = None) -> None:
    """Set the password a worker logs in with (username: the ID number)."""
    user = accounts.get_user_or_404(db=db, user_id=worker.user_id)
    if not by.has_role(Role.ADMIN) and user.role_names != [Role.WORKER.value]:
        # An enterprise admin must not take over a login that also holds staff roles.
        raise Forbidden(_("This login also has staff roles; only an administrator may set "
                          "its password."))
    accounts.reset_password(db=db, user=user, password=password, by=by, ip=ip)


# --- supervisory agencies and their cadres (learners too) -------------------------------------

def learner_roles(*, db: Session, worker_ids: list[int]) -> dict[int, str]:
    """Each learner's role for course audiences: 'regulator' for a supervisory cadre (a profile
    in an agency's roster), 'worker' for everyone on an enterprise roster."""
    if not worker_ids:
        return {}
    rows = db.execute(select(Worker.id, Enterprise.kind).join(
        Enterprise, Enterprise.id == Worker.enterprise_id).where(Worker.id.in_(worker_ids)))
    return {worker_id: Role.REGULATOR.value if kind == EnterpriseKind.AGENCY.value
            else Role.WORKER.value for worker_id, kind in rows}


def learner_role(worker: Worker) -> str:
    """learner_roles for one worker whose enterprise is loaded."""
    return Role.REGULATOR.value if worker.enterprise.kind == EnterpriseKind.AGENCY.value \
        else Role.WORKER.value


def create_agency(*, db: Session, name: str, credit_code: str, region_code: str, by: User,
                  ip: str | None = None) -> Enterprise:
    """Register a supervisory agency (admins anywhere, regulators within their region)."""
    if not by.has_role(Role.ADMIN):
        region = clean_region_code(db=db, value=region_code)
        if not (by.has_role(Role.REGULATOR) and by.region_code and region
                and region.startswith(by.region_code)):
            raise Invalid(errors=[{"loc": ["region_code"], "msg": _(
                "You may register agencies of your own region only.")}])
    return create_enterprise(db=db, name=name, credit_code=credit_code,
                             region_code=region_code, mine_type=MineType.OTHER.value,
                             above_designated_size=False, by=by, ip=ip,
                             kind=EnterpriseKind.AGENCY.value)


def list_agencies(*, db: Session, user: User) -> list[Enterprise]:
    """The supervisory agencies within the user's jurisdiction, by region and name."""
    return list(db.scalars(select(Enterprise).where(
        enterprise_scope(user), Enterprise.kind == EnterpriseKind.AGENCY.value)
        .order_by(Enterprise.region_code, Enterprise.name)))


def list_cadres(*, db: Session, agency_id: int) -> list[Worker]:
    """The learner profiles of an agency's supervisory cadres, by name."""
    return list(db.scalars(select(Worker).where(Worker.enterprise_id == agency_id)
                           .order_by(Worker.full_name, Worker.id)))


def register_cadre(*, db: Session, agency: Enterprise, user_id: int, id_number: str,
                   full_name: str, job_category: str, by: User,
                   ip: str | None = None) -> Worker:
    """Give a regulator user a learner profile in an agency's roster, so it enrols, studies and
    is credited hours like any worker. The user must be a regulator of the agency's province
    and within the registering user's jurisdiction."""
    errors: list[dict[str, object]] = []
    target = accounts.get_user(db=db, user_id=user_id)
    if target is None or not (by.has_role(Role.ADMIN) or (
            target.region_code and by.region_code
            and target.region_code.startswith(by.region_code))):
        errors.append({"loc": ["user_id"], "msg": _("No such regulator user.")})
    elif not target.has_role(Role.REGULATOR):
        errors.append({"loc": ["user_id"], "msg": _(
            "Only a regulator user can be registered as a supervisory cadre.")})
    elif not (target.region_code or "").startswith(agency.region_code[:2]):
        errors.append({"loc": ["user_id"], "msg": _(
            "The regulator works in another province than the agency.")})
    number = validators.normalise_resident_id(id_number)
    problem = validators.resident_id_problem(number)
    if problem is not None:
        template, params = problem
        errors.append({"loc": ["id_number"], "msg": _(template).format(**params)})
    name = full_name.strip()
    if not name or len(name) > 100:
        errors.append({"loc": ["full_name"], "msg": _("Enter the full name (at most 100 "
                                                      "characters).")})
    if job_category not in reference.job_category_codes():
        errors.append({"loc": ["job_category"], "msg": _("Choose a job category from the list.")})
    if errors:
        raise Invalid(errors=errors)
    if db.scalar(select(Worker.id).where(Worker.user_id == user_id)) is not None:
        raise Conflict(_("This user already has a learner profile."), code="already_a_learner")
    if db.scalar(select(Worker.id).where(Worker.id_number == number)) is not None:
        raise Conflict(_("A learner with this ID number is already registered."),
                       code="id_number_taken")
    cadre = Worker(user_id=user_id, enterprise_id=agency.id, id_number=number, full_name=name,
                   job_category=job_category, hired_on=date.today())
    db.add(cadre)
    db.flush()
    accounts.record_audit(db=db, action="cadre.registered", actor=by, object_type="worker",
                          object_id=cadre.id, enterprise_id=agency.id,
                          region_code=agency.region_code, ip=ip,
                          detail={"user_id": user_id, "agency": agency.name})
    return cadre


def cadre_candidates(*, db: Session, agency: Enterprise, by: User) -> list[User]:
    """Regulator users who may be registered as cadres of the agency: of its province, within
    `by`'s jurisdiction, without a learner profile yet (for the registration form)."""
    stmt = (select(User).join(UserRole, UserRole.user_id == User.id)
            .where(UserRole.role == Role.REGULATOR.value, User.is_active.is_(True),
                   User.region_code.startswith(agency.region_code[:2], autoescape=True),
                   User.id.not_in(select(Worker.user_id)))
            .order_by(User.region_code, User.username))
    if not by.has_role(Role.ADMIN):
        stmt = stmt.where(User.region_code.startswith(by.region_code or "\x00",
                                                      autoescape=True))
    return list(db.scalars(stmt))


def catalogue_audience(*, db: Session, user: User) -> str:
    """The course audience a user's catalogue shows: its learner profile's role (workers see
    courses offered to workers, supervisory cadres those offered to regulators); '' (every
    course) for staff without a learner profile."""
    worker = worker_of_user(db=db, user_id=user.id)
    return learner_role(worker) if worker is not None else ""
