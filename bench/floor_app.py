"""The floor of bench/pages.py: the signed-in worker's home at its barest.

A plain Starlette app (no FastAPI, no dependency injection, no middleware, no templates, no ORM
objects) that runs the same SQL statements as Pithead's home page for a worker, on an engine
built by the same `app.db.make_engine` with the same settings, in one read transaction, from
a sync endpoint in Starlette's thread pool as Pithead's routes are:

1. the session, by SHA-256 of the `pithead_session` cookie, joined with its active,
   unexpired user and the user's roles;
2. the worker profile of that user, joined with its enterprise;
3. the worker's enrolments with their courses;
4. the rule profile in force (class-hour lengths);
5. the worker's study seconds this year by mode;

and answers a small HTML page with the same facts. Whatever Pithead spends beyond this is
framework, ORM, template and middleware cost. bench/pages.py checks before measuring that
both run the same statements (`same_statements`), so this file must follow the home page.

    PITHEAD_DATABASE_URL=sqlite:///... uvicorn bench.floor_app:app --workers 2
"""

from __future__ import annotations

import hashlib
from datetime import date
from html import escape

from sqlalchemy import bindparam, func, select, text
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Route

from app.accounts.models import User, UserRole, WebSession
from app.config import get_settings
from app.courses.models import Course
from app.db import make_engine, utcnow
from app.learning.models import Enrolment, LedgerEntry, RuleProfile
from app.learning.service import local_day
from app.organisations.models import Enterprise, Worker
from app.practicals.models import Notification

settings = get_settings()
engine = make_engine(settings.database_url, pool_size=settings.db_pool_size)

users, sessions, workers = User.__table__, WebSession.__table__, Worker.__table__
notifications = Notification.__table__
enrolments, ledger, rules = Enrolment.__table__, LedgerEntry.__table__, RuleProfile.__table__
roles = UserRole.__table__.alias("user_roles_1")  # the aliases the ORM's joined loads use
enterprises = Enterprise.__table__.alias("enterprises_1")
courses = Course.__table__.alias("courses_1")

# The statements the ORM emits for the home page (bench/pages.py compares them).
SESSION_USER = (
    select(users, roles)
    .select_from(users.join(sessions, sessions.c.user_id == users.c.id)
                 .outerjoin(roles, users.c.id == roles.c.user_id))
    .where(sessions.c.token_hash == bindparam("digest"),
           sessions.c.expires_at > bindparam("now", type_=sessions.c.expires_at.type),
           users.c.is_active.is_(True))
    .order_by(roles.c.role)
)
WORKER_PROFILE = (
    select(workers, enterprises)
    .select_from(workers.outerjoin(enterprises, enterprises.c.id == workers.c.enterprise_id))
    .where(workers.c.user_id == bindparam("user_id"))
)
courses_plain = Course.__table__
ENROLMENTS = (
    select(enrolments.c.id, courses_plain.c.title, enrolments.c.lessons_completed,
           enrolments.c.lessons_total, enrolments.c.deadline)
    .select_from(enrolments.join(courses_plain, courses_plain.c.id == enrolments.c.course_id))
    .where(enrolments.c.worker_id == bindparam("worker_id"),
           enrolments.c.status == "active")
    .order_by(enrolments.c.enrolled_at.desc(), enrolments.c.id.desc())
)
RULES = select(rules).where(rules.c.is_active.is_(True))
UNREAD = (select(func.count()).select_from(notifications)
          .where(notifications.c.user_id == bindparam("user_id"),
                 notifications.c.read_at.is_(None)))
_profile_cache: dict[str, object] = {}  # the page caches the rule profile per process too
HOURS = (
    select(ledger.c.mode, func.coalesce(func.sum(ledger.c.seconds), 0))
    .where(ledger.c.worker_id == bindparam("worker_id"),
           ledger.c.day >= bindparam("first", type_=ledger.c.day.type),
           ledger.c.day <= bindparam("last", type_=ledger.c.day.type))
    .group_by(ledger.c.mode)
)


def _page(user: dict, role_names: list[str], worker: dict | None, active: list[dict],
          hours: float) -> str:
    body = [f"<!doctype html><title>Home</title><h1>Hello, {escape(user['full_name'])}</h1>",
            f"<p>{escape(' · '.join(role_names))}</p>"]
    if worker is not None:
        body.append(f"<p>{escape(worker['name'])} · {escape(worker['job_category'])}</p>"
                    f"<p>{hours:.1f} class hours this year</p>")
        for item in active:
            body.append(f"<article><h3><a href=\"/learn/{item['id']}\">"
                        f"{escape(item['title'].get('en', ''))}</a></h3>"
                        f"<small>{item['lessons_completed']} of {item['lessons_total']} lessons"
                        f"</small></article>")
        body.append(f"<dl><dt>ID number</dt><dd>{escape(worker['id_number'])}</dd>"
                    f"<dt>Hired on</dt><dd>{worker['hired_on'].isoformat()}</dd></dl>")
    return "".join(body)


def home(request: Request) -> Response:
    cookie = request.cookies.get("pithead_session")
    if not cookie:
        return HTMLResponse("<p>Sign in</p>", status_code=401)
    digest = hashlib.sha256(cookie.encode()).hexdigest()
    now = utcnow()
    with engine.begin() as connection:  # BEGIN DEFERRED ... COMMIT, as a page's read session
        rows = connection.execute(SESSION_USER, {"digest": digest, "now": now}).mappings().all()
        if not rows:
            return HTMLResponse("<p>Sign in</p>", status_code=401)
        user = rows[0]
        role_names = [row["role"] for row in rows if row["role"]]
        worker, active, hours = None, [], 0.0
        if "worker" in role_names:
            worker = connection.execute(WORKER_PROFILE, {"user_id": user["id"]}).mappings().first()
        if worker is not None:
            active = list(connection.execute(ENROLMENTS, {"worker_id": worker["id"]}).mappings())
            profile = _profile_cache.get("rules")
            if profile is None:
                profile = _profile_cache["rules"] = dict(connection.execute(RULES).mappings().one())
            year = local_day(now).year
            seconds = dict(connection.execute(HOURS, {
                "worker_id": worker["id"], "first": date(year, 1, 1),
                "last": date(year, 12, 31)}).tuples().all())
            minutes = profile["data"]["class_hour_minutes"]
            hours = sum(int(seconds.get(mode, 0)) / (int(minutes[mode]) * 60)
                        for mode in ("online", "offline"))
        unread = connection.execute(UNREAD, {"user_id": user["id"]}).scalar_one()
        role_names.append(f"{unread} unread")
    return HTMLResponse(_page(dict(user), role_names, dict(worker) if worker else None,
                              [dict(item) for item in active], hours))


def healthz(request: Request) -> Response:
    with engine.connect() as connection:
        connection.execute(text("SELECT 1"))
    return JSONResponse({"status": "ok"})


app = Starlette(routes=[Route("/", home), Route("/healthz", healthz)])
