"""The practical-test API as written in API.md."""

from datetime import timedelta

from app.accounts.models import Role
from app.db import utcnow
from tests import factories as f


def test_contract_flow(client, db, practical, clock):
    admin_auth = f.token(client, "root")
    centre = client.post("/api/v1/test-centres", headers=admin_auth, json={
        "name": "Datong base", "region_code": "140200", "address": "2 Pit Lane",
        "kinds": ["practical_test", "skills_training"]})
    assert centre.status_code == 201 and centre.json()["region_code"] == "1402"
    start = (utcnow() + timedelta(days=3)).replace(microsecond=0)
    created = client.post("/api/v1/practical-sessions", headers=admin_auth, json={
        "test_centre_id": centre.json()["id"], "course_id": practical["course"].id,
        "starts_at": start.isoformat(), "ends_at": (start + timedelta(hours=2)).isoformat(),
        "capacity": 1, "examiner_id": practical["examiner"].id})
    assert created.status_code == 201
    session = created.json()
    assert (session["booked"], session["capacity"]) == (0, 1)
    listed = client.get(f"/api/v1/practical-sessions?course_id={practical['course'].id}",
                        headers=admin_auth).json()
    assert session["id"] in [s["id"] for s in listed["items"]]

    first, second = practical["worker"](), practical["worker"]()
    stranger = practical["worker"](passed=False)
    f.user(db, Role.ENTERPRISE_ADMIN, username="boss", enterprise_id=practical["enterprise"].id)
    f.user(db, Role.ENTERPRISE_ADMIN, username="other-boss",
           enterprise_id=f.enterprise(db, region="150602").id)
    db.commit()
    url = f"/api/v1/practical-sessions/{session['id']}/bookings"
    booked = client.post(url, json={"worker_id": first.id},
                         headers=f.token(client, first.id_number))
    assert booked.status_code == 201 and booked.json()["status"] == "booked"
    waiting = client.post(url, json={"worker_id": second.id}, headers=f.token(client, "boss"))
    assert waiting.status_code == 201 and waiting.json()["status"] == "waitlisted"
    refused = client.post(url, json={"worker_id": stranger.id}, headers=f.token(client, "boss"))
    assert refused.status_code == 409 and refused.json()["code"] == "not_eligible"
    foreign = client.post(url, json={"worker_id": first.id},
                          headers=f.token(client, "other-boss"))
    assert foreign.status_code == 404

    seen = {user: client.get(f"/api/v1/practical-sessions/{session['id']}",
                             headers=f.token(client, user)).json()["bookings"]
            for user in ("root", "boss", "other-boss", first.id_number)}
    assert len(seen["root"]) == 2 and len(seen["boss"]) == 2
    assert seen["other-boss"] == []
    assert [b["worker_id"] for b in seen[first.id_number]] == [first.id]

    gone = client.delete(f"/api/v1/bookings/{booked.json()['id']}",
                         headers=f.token(client, first.id_number))
    assert gone.status_code == 204
    after = client.get(f"/api/v1/practical-sessions/{session['id']}", headers=admin_auth).json()
    assert {b["worker_id"]: b["status"] for b in after["bookings"]} == {
        first.id: "cancelled", second.id: "booked"}

    result_url = f"/api/v1/bookings/{waiting.json()['id']}/result"
    body = {"passed": True, "score": 88, "notes": "Zeroed in fresh air, read correctly."}
    clock.at(start)
    assert client.post(result_url, json=body, headers=f.token(client, "boss")).status_code == 403
    done = client.post(result_url, json=body, headers=f.token(client, "examiner1"))
    assert done.status_code == 200
    assert (done.json()["status"], done.json()["score"]) == ("passed", 88)
    again = client.post(result_url, json=body, headers=f.token(client, "examiner1"))
    assert again.status_code == 409 and again.json()["code"] == "booking_not_booked"
