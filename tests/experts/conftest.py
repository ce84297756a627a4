"""The people of the expert-pool tests: staff of Shanxi (14) and Inner Mongolia (15)."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy.orm import Session

from app.accounts.models import Role, User
from app.experts import service
from app.experts.models import Expert
from tests import factories as f


@pytest.fixture
def people(db: Session) -> dict[str, User]:
    """One login per kind of caller, committed so the app sees them."""
    ent = f.enterprise(db, region="140105", name="Alpha Colliery")
    worker = f.worker(db, ent, full_name="王工人")
    users = {
        "admin": f.user(db, Role.ADMIN, username="root"),
        "reg14": f.user(db, Role.REGULATOR, username="reg14", region_code="14"),
        "reg15": f.user(db, Role.REGULATOR, username="reg15", region_code="15"),
        "reg1402": f.user(db, Role.REGULATOR, username="reg1402", region_code="1402"),
        "reg_none": f.user(db, Role.REGULATOR, username="regnone"),
        "ent_admin": f.user(db, Role.ENTERPRISE_ADMIN, username="entadmin",
                            enterprise_id=ent.id),
        "trainer": f.user(db, Role.TRAINER, username="trainer", full_name="李培训"),
        "examiner": f.user(db, Role.EXAMINER, username="examiner", full_name="赵考评"),
        "worker": db.get(User, worker.user_id),
    }
    db.commit()
    return users  # type: ignore[return-value]


def make_expert(db: Session, by: User, **overrides: Any) -> Expert:
    """An expert added through the service (committed)."""
    data: dict[str, Any] = {"full_name": "张通风", "organisation": "山西省煤矿安全研究院",
                            "region_code": "140105", "specialities": ["ventilation"],
                            "roles": [], "available": True, **overrides}
    expert = service.create(db=db, data=data, by=by)
    db.commit()
    return expert
