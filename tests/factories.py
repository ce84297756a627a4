"""Factories for test data. Each writes through the session it is given and flushes."""

from __future__ import annotations

import itertools
import re
from datetime import date

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from app.accounts.models import Role, User, UserRole

__all__ = ["Role"]
from app.accounts.security import hash_password
from app.organisations.models import Enterprise, MineType, Worker
from app.organisations.validators import make_credit_code, make_resident_id

PASSWORD = "correct-horse-battery"
_PASSWORD_HASH = hash_password(PASSWORD)  # argon2 is slow on purpose: hash once per run
_seq = itertools.count(1)


def enterprise(db: Session, *, region: str = "140105", name: str | None = None,
               mine_type: MineType = MineType.COAL) -> Enterprise:
    n = next(_seq)
    item = Enterprise(name=name or f"Enterprise {n}", credit_code=make_credit_code(
        region=region.ljust(6, "0"), org_seq=n), region_code=region, mine_type=mine_type.value,
        above_designated_size=True)
    db.add(item)
    db.flush()
    return item


def user(db: Session, *roles: Role, username: str | None = None, enterprise_id: int | None = None,
         region_code: str | None = None, full_name: str = "Test User",
         active: bool = True) -> User:
    n = next(_seq)
    item = User(username=username or f"user{n}", full_name=full_name, password_hash=_PASSWORD_HASH,
                is_active=active, enterprise_id=enterprise_id, region_code=region_code,
                roles=[UserRole(role=r.value) for r in (roles or (Role.WORKER,))])
    db.add(item)
    db.flush()
    return item


def worker(db: Session, ent: Enterprise, *, full_name: str = "张三",
           job_category: str = "general.underground", birth: date = date(1990, 5, 17),
           hired_on: date = date(2020, 3, 1)) -> Worker:
    n = next(_seq)
    id_number = make_resident_id(region=ent.region_code.ljust(6, "0")[:6], birth=birth,
                                 sequence=n % 1000)
    login = user(db, Role.WORKER, username=id_number, enterprise_id=ent.id, full_name=full_name)
    item = Worker(user_id=login.id, enterprise_id=ent.id, id_number=id_number,
                  full_name=full_name, phone="13800138000", job_category=job_category,
                  hired_on=hired_on)
    db.add(item)
    db.flush()
    return item


def csrf_from(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, "no csrf_token in the page"
    return match.group(1)


def login(client: TestClient, username: str, password: str = PASSWORD) -> str:
    """Sign in through the real login form; returns the CSRF token of the new session."""
    page = client.get("/login")
    response = client.post("/login", data={"username": username, "password": password,
                                           "csrf_token": csrf_from(page.text), "next": "/"},
                           follow_redirects=False)
    assert response.status_code == 303, response.text
    return csrf_from(client.get("/").text)


def token(client: TestClient, username: str, password: str = PASSWORD) -> dict[str, str]:
    """Authorization header of a fresh bearer token."""
    response = client.post("/api/v1/auth/token", data={"username": username, "password": password})
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}
