from datetime import date

from sqlalchemy import select, update

from app.accounts.models import Role
from app.certificates import numbers
from app.certificates.models import Certificate, CertificateEvent
from tests import factories as f


def test_issued_by_the_theory_pass_and_listed_for_the_holder(client, db, certified):
    worker = certified["worker"]
    listed = client.get(f"/api/v1/workers/{worker.id}/certificates",
                        headers=certified["auth"]).json()
    assert listed["total"] == 1
    item = listed["items"][0]
    assert item["status"] == "valid" and numbers.is_well_formed(item["number"])
    assert item["title"] == "Special operations certificate: test work"
    issued = date.fromisoformat(item["issued_on"])
    assert date.fromisoformat(item["expires_on"]) == issued.replace(year=issued.year + 6)
    assert date.fromisoformat(item["review_due_on"]) == issued.replace(year=issued.year + 3)
    kinds = db.scalars(select(CertificateEvent.kind)).all()
    assert kinds == ["issued"]


def test_public_verification_masks_the_holder(client, db, certified):
    number = db.scalar(select(Certificate.number))
    body = client.get(f"/api/v1/certificates/{number}/verification").json()
    assert body["status"] == "valid" and body["holder_name_masked"] == "张**"
    assert body["id_number_masked"].count("*") == 8
    assert certified["worker"].full_name not in str(body)
    typo = number[:-1] + ("0" if number[-1] != "0" else "1")
    assert client.get(f"/api/v1/certificates/{typo}/verification").status_code == 404
    lower = client.get(f"/api/v1/certificates/{number.lower()}/verification")
    assert lower.status_code == 200
    by_holder = client.get("/api/v1/certificates/verification", params={
        "id_number": certified["worker"].id_number, "name": "张三丰"}).json()
    assert by_holder["total"] == 1
    wrong_name = client.get("/api/v1/certificates/verification", params={
        "id_number": certified["worker"].id_number, "name": "李四"}).json()
    assert wrong_name["total"] == 0


def test_regulator_of_the_region_revokes_and_verifiers_see_the_reason(client, db, certified):
    f.user(db, Role.REGULATOR, username="reg14", region_code="14")
    f.user(db, Role.REGULATOR, username="reg15", region_code="15")
    db.commit()
    number = db.scalar(select(Certificate.number))
    db.commit()
    body = {"reason": "Falsified training records"}
    other = client.post(f"/api/v1/certificates/{number}/revoke", json=body,
                        headers=f.token(client, "reg15"))
    assert other.status_code == 404
    holder = client.post(f"/api/v1/certificates/{number}/suspend", json=body,
                         headers=certified["auth"])
    assert holder.status_code == 403
    auth = f.token(client, "reg14")
    suspended = client.post(f"/api/v1/certificates/{number}/suspend", json=body, headers=auth)
    assert suspended.status_code == 200 and suspended.json()["status"] == "suspended"
    seen = client.get(f"/api/v1/certificates/{number}/verification").json()
    assert (seen["status"], seen["status_reason"]) == ("suspended", "Falsified training records")
    back = client.post(f"/api/v1/certificates/{number}/reinstate", json={"reason": "cleared"},
                       headers=auth)
    assert back.json()["status"] == "valid"
    revoked = client.post(f"/api/v1/certificates/{number}/revoke", json=body, headers=auth)
    assert revoked.json()["status"] == "revoked"
    again = client.post(f"/api/v1/certificates/{number}/reinstate", json={"reason": "x"},
                        headers=auth)
    assert again.status_code == 409 and again.json()["code"] == "certificate_revoked"
    db.commit()
    kinds = db.scalars(select(CertificateEvent.kind).order_by(CertificateEvent.id)).all()
    assert kinds == ["issued", "suspended", "reinstated", "revoked"]


def test_expired_by_date(client, db, certified):
    db.execute(update(Certificate).values(expires_on=date(2020, 1, 1)))
    db.commit()
    number = db.scalar(select(Certificate.number))
    db.commit()
    assert client.get(f"/api/v1/certificates/{number}/verification").json()["status"] == "expired"


def test_check_character_catches_typos():
    body = "7K3Q9XW2MD4T"
    check = numbers.check_character(body)
    for i in range(len(body)):
        for char in numbers.ALPHABET:
            if char != body[i]:
                assert numbers.check_character(body[:i] + char + body[i + 1:]) != check
    for i in range(len(body) - 1):
        if body[i] != body[i + 1]:
            swapped = body[:i] + body[i + 1] + body[i] + body[i + 2:]
            assert numbers.check_character(swapped) != check
