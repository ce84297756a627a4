"""Rules of the expert pool, without HTTP: validation, jurisdiction, links, search, audit."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from app.accounts import service as accounts
from app.accounts.models import AuditEvent
from app.errors import Conflict, Forbidden, Invalid
from app.experts import service
from app.experts.models import Expert, ExpertSpeciality
from tests.experts.conftest import make_expert

BASE = {"full_name": "钱爆破", "organisation": "Org", "region_code": "150602",
        "specialities": ["blasting"]}


def _audit(db, action: str) -> list[AuditEvent]:  # type: ignore[no-untyped-def]
    db.flush()
    return list(db.scalars(select(AuditEvent).where(AuditEvent.action == action)
                           .order_by(AuditEvent.id)))


def test_create_normalises_and_records(db, people):
    expert = service.create(db=db, data={**BASE, "full_name": "  钱爆破 ",
                                         "specialities": ["blasting", "gas", "blasting"],
                                         "roles": ["trainer", "examiner"],
                                         "qualifications": "  Senior engineer  "},
                            by=people["reg15"], ip="10.0.0.1")
    assert expert.full_name == "钱爆破" and expert.region_code == "150602"
    assert expert.speciality_codes == ["blasting", "gas"]
    assert expert.role_codes == ["examiner", "trainer"]
    assert expert.qualifications == "Senior engineer" and expert.available is True
    [event] = _audit(db, "expert.created")
    assert event.ip == "10.0.0.1" and event.detail["specialities"] == ["blasting", "gas"]


@pytest.mark.parametrize(("change", "loc"), [
    ({"specialities": ["gas", "ghosts"]}, "specialities"),
    ({"specialities": []}, "specialities"),
    ({"roles": ["trainer", "chef"]}, "roles"),
    ({"region_code": ""}, "region_code"),
    ({"region_code": "99"}, "region_code"),
    ({"region_code": "1506xx"}, "region_code"),
    ({"full_name": " "}, "full_name"),
    ({"organisation": ""}, "organisation"),
])
def test_create_refuses_bad_fields(db, people, change, loc):
    with pytest.raises(Invalid) as raised:
        service.create(db=db, data={**BASE, **change}, by=people["admin"])
    assert [e["loc"] for e in raised.value.errors] == [[loc]]
    assert db.scalar(select(func.count()).select_from(Expert)) == 0


def test_every_problem_is_reported_at_once(db, people):
    with pytest.raises(Invalid) as raised:
        service.create(db=db, data={"full_name": "", "organisation": "", "region_code": "x",
                                    "specialities": ["nope"], "roles": ["nope"]},
                       by=people["admin"])
    assert sorted(e["loc"][0] for e in raised.value.errors) == [
        "full_name", "organisation", "region_code", "roles", "specialities"]


def test_jurisdiction_is_a_prefix_of_the_short_code(db, people):
    assert service.covers_region(people["reg14"], "140105")
    assert service.covers_region(people["reg1402"], "1402")
    assert service.covers_region(people["reg1402"], "140211")
    assert not service.covers_region(people["reg1402"], "1401")
    assert not service.covers_region(people["reg1402"], "14")  # the whole province is above it
    assert not service.covers_region(people["reg15"], "140105")
    assert not service.covers_region(people["reg_none"], "14")
    assert not service.covers_region(people["ent_admin"], "140105")
    assert service.covers_region(people["admin"], "65")
    with pytest.raises(Forbidden):
        service.create(db=db, data={**BASE, "region_code": "14"}, by=people["reg1402"])
    with pytest.raises(Forbidden):
        service.create(db=db, data=BASE, by=people["trainer"])
    with pytest.raises(Forbidden):
        service.create(db=db, data={**BASE, "region_code": "14"}, by=people["reg_none"])


def test_staff_is_everyone_but_a_plain_worker(db, people):
    loaded = {name: accounts.get_user(db=db, user_id=user.id) for name, user in people.items()}
    assert [name for name, user in loaded.items() if not service.is_staff(user)] == ["worker"]


def test_update_writes_only_differences(db, people):
    expert = make_expert(db, people["reg14"], specialities=["gas", "water"], roles=["trainer"])
    stamp = expert.updated_at
    same = service.update(db=db, expert=expert, changes={"specialities": ["water", "gas"],
                                                         "available": True},
                          by=people["reg14"])
    assert same.updated_at == stamp and _audit(db, "expert.updated") == []
    changed = service.update(db=db, expert=expert, changes={
        "specialities": ["water", "electrical"], "roles": []}, by=people["reg14"])
    assert changed.speciality_codes == ["electrical", "water"]
    assert changed.role_codes == [] and changed.updated_at > stamp
    db.flush()
    rows = db.scalars(select(ExpertSpeciality.speciality).where(
        ExpertSpeciality.expert_id == expert.id).order_by(ExpertSpeciality.speciality)).all()
    assert rows == ["electrical", "water"]
    [event] = _audit(db, "expert.updated")
    assert event.detail["changes"] == {"specialities": [["gas", "water"], ["electrical", "water"]],
                                       "roles": [["trainer"], []]}


def test_update_checks_both_regions(db, people):
    expert = make_expert(db, people["admin"], region_code="140105")
    with pytest.raises(Forbidden):
        service.update(db=db, expert=expert, changes={"available": False}, by=people["reg15"])
    with pytest.raises(Forbidden):
        service.update(db=db, expert=expert, changes={"region_code": "15"}, by=people["reg14"])
    assert (expert.region_code, expert.available) == ("140105", True)
    moved = service.update(db=db, expert=expert, changes={"region_code": "15"},
                           by=people["admin"])
    assert moved.region_code == "15"


def test_update_refuses_unknown_fields(db, people):
    expert = make_expert(db, people["admin"])
    with pytest.raises(Invalid) as raised:
        service.update(db=db, expert=expert, changes={"id": 7}, by=people["admin"])
    assert raised.value.errors[0]["loc"] == ["id"]


def test_links_to_trainers_and_examiners_only_once(db, people):
    expert = make_expert(db, people["admin"])
    for name in ("worker", "ent_admin", "reg14"):
        with pytest.raises(Invalid):
            service.update(db=db, expert=expert, changes={"user_id": people[name].id},
                           by=people["admin"])
    linked = service.update(db=db, expert=expert, changes={"user_id": people["trainer"].id},
                            by=people["admin"])
    assert linked.user is not None and linked.user.username == "trainer"
    # Linking the same login again to the same expert is no change, not a conflict.
    service.update(db=db, expert=linked, changes={"user_id": people["trainer"].id},
                   by=people["admin"])
    with pytest.raises(Conflict):
        service.create(db=db, data={**BASE, "user_id": people["trainer"].id},
                       by=people["admin"])
    unlinked = service.update(db=db, expert=linked, changes={"user_id": None},
                              by=people["admin"])
    assert unlinked.user is None and unlinked.user_id is None
    assert [u.username for u in service.linkable_users(db=db)] == ["trainer", "examiner"]


def test_clean_filter(db, people):
    assert service.clean_filter(db=db, region="140000", speciality=" gas ") == \
        service.ExpertFilter(region="14", speciality="gas")
    with pytest.raises(Invalid) as raised:
        service.clean_filter(db=db, region="1499", speciality="x", role="y")
    assert sorted(e["loc"][1] for e in raised.value.errors) == ["region", "role", "speciality"]


def test_search_escapes_like_wildcards(db, people):
    a = make_expert(db, people["admin"], full_name="A", qualifications="50% of cases")
    b = make_expert(db, people["admin"], full_name="B", qualifications="5 of cases")
    c = make_expert(db, people["admin"], full_name="C", qualifications="level_3 blaster")
    make_expert(db, people["admin"], full_name="D", qualifications="level 3 blaster")

    def names(query: str) -> list[str]:
        items, _total = service.list_(db=db, filters=service.ExpertFilter(query=query))
        return [e.full_name for e in items]

    assert names("50%") == [a.full_name]
    assert names("%") == [a.full_name]
    assert names("5_of") == []
    assert names("level_3") == [c.full_name]
    assert names("of cases") == [a.full_name, b.full_name]


def test_a_link_made_concurrently_is_a_conflict_not_a_crash(db, people, monkeypatch):
    """Two requests linking the same login: the loser's check passed before the winner's
    insert, so the unique key refuses it; that is the same 409, not a 500."""
    make_expert(db, people["admin"], user_id=people["trainer"].id)
    monkeypatch.setattr(service, "_check_user", lambda *, db, user_id, expert, checked: user_id)
    with pytest.raises(Conflict) as raised:
        service.create(db=db, data={**BASE, "user_id": people["trainer"].id},
                       by=people["admin"])
    assert raised.value.code == "user_already_linked"
