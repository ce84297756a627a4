import io
from datetime import date, timedelta
from urllib.parse import unquote

import openpyxl
from sqlalchemy import select, update

from app.accounts.models import AuditEvent, Role
from app.certificates import numbers, service
from app.certificates.models import Certificate, CertificateEvent
from tests import factories as f


def _number(db) -> str:
    """The number of the certificate issued by the `certified` fixture."""
    number = db.scalar(select(Certificate.number).order_by(Certificate.id).limit(1))
    db.commit()
    return number


def _other_certificate(db, enterprise, *, full_name: str, body: str = "8M4R2TXW9KDP") -> str:
    """A certificate of another worker (issued directly: issuing is tested elsewhere)."""
    first = db.scalar(select(Certificate).order_by(Certificate.id))
    last_index = db.scalar(select(Certificate.status_index).order_by(
        Certificate.status_index.desc()).limit(1))
    worker = f.worker(db, enterprise, full_name=full_name)
    number = f"PH-{body}-{numbers.check_character(body)}"
    db.add(Certificate(number=number, worker_id=worker.id, course_id=first.course_id,
                       course_code=first.course_code, title=first.title,
                       job_category=first.job_category, issued_on=date(2026, 1, 1),
                       expires_on=date(2032, 1, 1), review_due_on=date(2029, 1, 1),
                       status_index=last_index + 1, issuer=first.issuer))
    db.commit()
    return number


def test_public_page_masks_the_holder_and_explains_unknown_numbers(client, db, certified):
    number = _number(db)
    page = client.get(f"/verify/{number}")
    assert page.status_code == 200
    assert "cert-status-valid" in page.text and "✔ Valid" in page.text
    assert "/static/css/certificates.css" in page.text  # the CSP forbids inline styles
    css = client.get("/static/css/certificates.css")
    assert css.status_code == 200 and ".cert-status-revoked" in css.text
    assert "张**" in page.text and "张三丰" not in page.text
    worker = certified["worker"]
    assert worker.id_number not in page.text
    assert worker.id_number[:6] + "*" * 8 + worker.id_number[-4:] in page.text
    assert "Special operations certificate: test work" in page.text
    assert service.ISSUER in page.text
    typo = number[:-1] + ("0" if number[-1] != "0" else "1")
    missing = client.get(f"/verify/{typo}")
    assert missing.status_code == 404
    assert "check character" in missing.text and typo in missing.text
    assert client.get(f"/verify/{number.lower()}").status_code == 200
    found = client.get("/verify", params={"number": number}, follow_redirects=False)
    # Crockford's check symbols (* ~ $ =) may travel percent-encoded; the page is the same.
    assert found.status_code == 303 and unquote(found.headers["location"]) == f"/verify/{number}"
    assert 'href="/verify/credential"' in client.get("/verify").text
    # /verify/{number} must not swallow the credential page (router order in app/main.py).
    assert client.get("/verify/credential").status_code == 200


def test_search_by_id_number_and_name_needs_both(client, db, certified):
    number = _number(db)
    worker = certified["worker"]
    both = client.get("/verify", params={"id_number": worker.id_number, "name": "张三丰"})
    assert both.status_code == 200 and f"/verify/{number}" in both.text
    assert "张三丰" not in both.text.split("<h2>")[-1]  # results show the masked name
    wrong = client.get("/verify", params={"id_number": worker.id_number, "name": "李四"})
    assert f"/verify/{number}" not in wrong.text and "no-results" in wrong.text
    only_id = client.get("/verify", params={"id_number": worker.id_number})
    assert f"/verify/{number}" not in only_id.text and "no-results" in only_id.text


def test_regulator_suspends_on_the_page_and_verifiers_see_the_reason(client, db, certified):
    f.user(db, Role.REGULATOR, username="reg14", region_code="14")
    db.commit()
    number = _number(db)
    csrf = f.login(client, "reg14")
    detail = client.get(f"/certificates/{number}")
    assert detail.status_code == 200 and f'action="/certificates/{number}/suspend"' in detail.text
    empty = client.post(f"/certificates/{number}/suspend",
                        data={"csrf_token": csrf, "reason": "  "})
    assert empty.status_code == 200 and "Give the reason" in empty.text
    no_csrf = client.post(f"/certificates/{number}/suspend", data={"reason": "x"})
    assert no_csrf.status_code == 403
    done = client.post(f"/certificates/{number}/suspend",
                       data={"csrf_token": csrf, "reason": "Falsified training records"})
    assert done.status_code == 200 and "The certificate is suspended." in done.text
    assert f'action="/certificates/{number}/reinstate"' in done.text
    public = client.get(f"/verify/{number}").text
    assert "cert-status-suspended" in public and "Falsified training records" in public
    db.commit()
    assert db.scalars(select(CertificateEvent.kind).order_by(CertificateEvent.id)).all() == [
        "issued", "suspended"]
    audit = db.scalar(select(AuditEvent).where(AuditEvent.action == "certificate.suspended"))
    assert audit.object_id == number and audit.detail["reason"] == "Falsified training records"
    revoked = client.post(f"/certificates/{number}/revoke",
                          data={"csrf_token": csrf, "reason": "Confirmed"})
    assert "The certificate is revoked." in revoked.text
    assert f'action="/certificates/{number}/' not in revoked.text  # final: no more forms
    again = client.post(f"/certificates/{number}/reinstate",
                        data={"csrf_token": csrf, "reason": "x"})
    assert "A revoked certificate is final." in again.text
    assert client.post(f"/certificates/{number}/explode",
                       data={"csrf_token": csrf, "reason": "x"}).status_code == 404


def test_regulator_of_another_region_cannot_see_or_act(client, db, certified):
    f.user(db, Role.REGULATOR, username="reg14", region_code="14")
    f.user(db, Role.REGULATOR, username="reg15", region_code="15")
    db.commit()
    number = _number(db)
    csrf = f.login(client, "reg15")
    assert client.get(f"/certificates/{number}").status_code == 404
    refused = client.post(f"/certificates/{number}/revoke",
                          data={"csrf_token": csrf, "reason": "x"})
    assert refused.status_code == 404
    assert number not in client.get("/certificates").text
    sheet = openpyxl.load_workbook(io.BytesIO(client.get("/certificates/export.xlsx").content))
    assert sheet.active.max_row == 1  # the header only
    db.commit()
    assert db.scalar(select(Certificate.status)) == "valid"
    f.login(client, "reg14")
    listed = client.get("/certificates")
    assert listed.status_code == 200 and number in listed.text and "张三丰" in listed.text


def test_export_opens_is_scoped_and_neutralises_formulas(client, db, certified):
    ent = certified["enterprise"]
    beta = f.enterprise(db, region="150602", name="Beta Mine")
    _other_certificate(db, ent, full_name="=HYPERLINK(\"x\")")
    beta_number = _other_certificate(db, beta, full_name="王五", body="3N7Q2RWX8KDM")
    f.user(db, Role.REGULATOR, username="reg14", region_code="14")
    db.commit()
    number = _number(db)
    f.login(client, "reg14")
    response = client.get("/certificates/export.xlsx")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith(
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    rows = list(openpyxl.load_workbook(io.BytesIO(response.content)).active.values)
    assert rows[0][:3] == ("Number", "Name", "ID number")
    numbers_listed = sorted(row[0] for row in rows[1:])
    assert beta_number not in numbers_listed and number in numbers_listed
    assert len(numbers_listed) == 2
    names = {row[1] for row in rows[1:]}
    assert "张三丰" in names
    formula = next(row[1] for row in rows[1:] if "HYPERLINK" in str(row[1]))
    assert not str(formula).startswith("=")
    filtered = client.get("/certificates/export.xlsx", params={"q": "张三丰"})
    rows = list(openpyxl.load_workbook(io.BytesIO(filtered.content)).active.values)
    assert [row[0] for row in rows[1:]] == [number]


def test_enterprise_admin_sees_own_staff_and_who_is_due(client, db, certified):
    ent = certified["enterprise"]
    neighbour = f.enterprise(db, region="140105", name="Gamma Colliery")
    neighbour_number = _other_certificate(db, neighbour, full_name="赵六")
    f.user(db, Role.ENTERPRISE_ADMIN, username="a_admin", enterprise_id=ent.id)
    db.commit()
    number = _number(db)
    f.login(client, "a_admin")
    page = client.get("/certificates")
    assert page.status_code == 200
    assert number in page.text and neighbour_number not in page.text and "赵六" not in page.text
    assert "/certificates?due=90" in page.text
    assert number not in client.get("/certificates", params={"due": "30"}).text
    soon = service.today() + timedelta(days=10)
    db.execute(update(Certificate).where(Certificate.number == number)
               .values(review_due_on=soon))
    db.commit()
    due = client.get("/certificates", params={"due": "30"})
    assert number in due.text and soon.isoformat() in due.text
    assert client.get(f"/certificates/{neighbour_number}").status_code == 404
    detail = client.get(f"/certificates/{number}")
    assert detail.status_code == 200 and "/suspend" not in detail.text  # sees, cannot decide


def test_worker_sees_own_certificates_with_downloads_and_history(client, db, certified):
    number = _number(db)
    worker = certified["worker"]
    f.login(client, worker.id_number)
    page = client.get("/certificates/mine")
    assert page.status_code == 200
    assert number in page.text
    assert f"/api/v1/certificates/{number}/pdf" in page.text
    assert f"/api/v1/certificates/{number}/credential" in page.text
    assert "Issued" in page.text and "cert-status-valid" in page.text
    assert client.get("/certificates").status_code == 403
    pdf = client.get(f"/api/v1/certificates/{number}/pdf")
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"


def test_staff_without_a_worker_record_have_no_mine_page(client, db, certified):
    f.user(db, Role.REGULATOR, username="reg14", region_code="14")
    db.commit()
    f.login(client, "reg14")
    assert client.get("/certificates/mine").status_code == 403
    assert client.get("/certificates/mine", follow_redirects=False).status_code == 403
