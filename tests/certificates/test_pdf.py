import io
import shutil
import subprocess

import pypdf
from sqlalchemy import select, update
from sqlalchemy.orm import joinedload

from app.accounts.models import Role
from app.certificates import pdf as certificate_pdf
from app.certificates.models import Certificate
from app.config import get_settings
from app.organisations.models import Worker
from tests import factories as f


def _text(data: bytes) -> str:
    """The text of every page without whitespace: pypdf reads fpdf2's two-byte glyph codes of
    the embedded CID font with NULs and spaces between characters (pdftotext does not)."""
    reader = pypdf.PdfReader(io.BytesIO(data))
    return "".join("".join(page.extract_text().replace("\x00", "").split())
                   for page in reader.pages)


def test_holder_downloads_a_pdf_whose_text_extracts_back(client, db, certified, tmp_path):
    cert = db.scalar(select(Certificate))
    db.commit()
    response = client.get(f"/api/v1/certificates/{cert.number}/pdf", headers=certified["auth"])
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/pdf"
    assert response.content.startswith(b"%PDF-")
    assert 5_000 < len(response.content) < 200_000  # the CJK font is subsetted
    reader = pypdf.PdfReader(io.BytesIO(response.content))
    assert len(reader.pages) == 1
    box = reader.pages[0].mediabox
    assert (round(float(box.width)), round(float(box.height))) == (842, 595)  # A4 landscape
    text = _text(response.content)
    worker = certified["worker"]
    for expected in ("张三丰", worker.id_number, cert.number, cert.issued_on.isoformat(),
                     cert.expires_on.isoformat(), cert.review_due_on.isoformat(),
                     "特种作业操作证：测试作业", "Alpha Colliery",
                     get_settings().base_url + "/verify/" + cert.number):
        assert "".join(expected.split()) in text, expected
    assert "SUSPENDED" not in text and "REVOKED" not in text
    # Where poppler-utils is installed: a second extractor, and a page image to look at.
    if shutil.which("pdftoppm") and shutil.which("pdftotext"):
        (tmp_path / "c.pdf").write_bytes(response.content)
        subprocess.run(["pdftoppm", "-png", "-r", "50", "-f", "1", "-l", "1",
                        str(tmp_path / "c.pdf"), str(tmp_path / "page")], check=True)
        assert (tmp_path / "page-1.png").stat().st_size > 1000
        plain = subprocess.run(["pdftotext", str(tmp_path / "c.pdf"), "-"], check=True,
                               capture_output=True, text=True).stdout
        assert "张三丰" in plain and cert.number in plain


def test_suspended_certificate_carries_a_stamp_and_the_reason(db, certified):
    db.execute(update(Certificate).values(status="suspended",
                                          status_reason="Training records under review"))
    db.commit()
    cert = db.scalar(select(Certificate).options(
        joinedload(Certificate.worker).joinedload(Worker.enterprise)))
    text = _text(certificate_pdf.render_pdf(cert))
    assert "SUSPENDED" in text and "Trainingrecordsunderreview" in text


def test_qr_code_encodes_the_verification_url(db, certified):
    cert = db.scalar(select(Certificate))
    assert certificate_pdf.verification_url(cert.number) == (
        get_settings().base_url.rstrip("/") + "/verify/" + cert.number)


def test_only_those_who_may_see_it_get_the_pdf(client, db, certified):
    other = f.enterprise(db, region="150602", name="Beta Mine")
    f.user(db, Role.ENTERPRISE_ADMIN, username="b_admin", enterprise_id=other.id)
    f.user(db, Role.ENTERPRISE_ADMIN, username="a_admin", enterprise_id=certified["enterprise"].id)
    f.user(db, Role.REGULATOR, username="reg15", region_code="15")
    db.commit()
    number = db.scalar(select(Certificate.number))
    db.commit()
    for username in ("b_admin", "reg15"):
        got = client.get(f"/api/v1/certificates/{number}/pdf", headers=f.token(client, username))
        assert got.status_code == 404
    own = client.get(f"/api/v1/certificates/{number}/pdf", headers=f.token(client, "a_admin"))
    assert own.status_code == 200 and own.headers["content-type"] == "application/pdf"
    assert client.get(f"/api/v1/certificates/{number}/pdf").status_code == 401
