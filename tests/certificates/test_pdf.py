import builtins
import inspect
import io
import shutil
import subprocess
from pathlib import Path

import pypdf
from fontTools.ttLib import TTFont
from sqlalchemy import select, update
from sqlalchemy.orm import joinedload

from app.accounts.models import Role
from app.certificates import pdf as certificate_pdf
from app.certificates.models import Certificate
from app.config import get_settings
from app.organisations.models import Worker
from tests import factories as f

FONTS = Path(certificate_pdf.__file__).parent / "fonts"


def _raw_text(data: bytes) -> str:
    """The text of every page exactly as pypdf extracts it."""
    return "\n".join(page.extract_text() for page in pypdf.PdfReader(io.BytesIO(data)).pages)


def _text(data: bytes) -> str:
    """The text of every page without whitespace (fpdf2 places each cell on its own, so words
    of one line may come back with or without the spaces between them)."""
    return "".join(_raw_text(data).split())


def _certificate(db) -> Certificate:
    return db.scalar(select(Certificate).options(
        joinedload(Certificate.worker).joinedload(Worker.enterprise)))


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


def _printed_text(client, number, auth, **headers) -> str:
    got = client.get(f"/api/v1/certificates/{number}/pdf", headers={**auth, **headers})
    assert got.status_code == 200, got.text
    return "".join(page.extract_text() for page in pypdf.PdfReader(io.BytesIO(got.content)).pages)


def test_qr_link_uses_the_request_origin_unless_a_base_url_is_configured(
        client, db, certified, monkeypatch):
    cert = db.scalar(select(Certificate))
    db.commit()
    # Development and tests with nothing configured: the origin the client used.
    printed = _printed_text(client, cert.number, certified["auth"], host="pithead.example:8443")
    assert f"http://pithead.example:8443/verify/{cert.number}" in printed
    # A configured address wins over whatever Host the client sends.
    monkeypatch.setenv("PITHEAD_BASE_URL", "https://verify.mines.example/")
    get_settings.cache_clear()
    try:
        assert certificate_pdf.verification_url(cert.number) == (
            f"https://verify.mines.example/verify/{cert.number}")
        printed = _printed_text(client, cert.number, certified["auth"], host="evil.example")
        assert f"https://verify.mines.example/verify/{cert.number}" in printed
        assert "evil.example" not in printed
    finally:
        get_settings.cache_clear()


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


def test_pdf_text_extracts_with_pypdf_without_nul_characters(client, db, certified):
    """Issue 9 item 2: with the Japanese face of a system .ttc, pypdf read the name back with
    NULs between the characters; the shipped Simplified-Chinese font reads back clean."""
    number = db.scalar(select(Certificate.number))
    db.commit()
    response = client.get(f"/api/v1/certificates/{number}/pdf", headers=certified["auth"])
    assert response.status_code == 200
    raw = _raw_text(response.content)
    assert "\x00" not in raw
    for expected in ("张三丰", "特种作业操作证", number, certified["worker"].id_number):
        assert expected in raw, expected


def test_a_name_of_rare_standard_characters_prints(db, certified):
    """Characters of the third level of the 8,105 table, outside the basic CJK block too
    (U+4DAE in Extension A, U+2CE26 in Extension E), are in the font and read back."""
    cert = _certificate(db)
    cert.worker.full_name = "龚䶮𬸦"
    db.flush()
    raw = _raw_text(certificate_pdf.render_pdf(cert))
    assert "龚䶮𬸦" in raw and "\x00" not in raw


def test_the_font_ships_with_the_package_and_covers_the_standard_characters():
    path = certificate_pdf._font_path()
    assert path == FONTS / "NotoSansSC-Regular.subset.ttf" and path.is_file()
    assert path.stat().st_size < 6_000_000
    font = TTFont(path)
    names = {record.nameID: record.toUnicode() for record in font["name"].names}
    assert names[1] == "Noto Sans SC"  # the Simplified-Chinese face, not JP/KR/TC
    assert "glyf" in font  # TrueType outlines, as fpdf2 embeds them
    cmap = font.getBestCmap()
    standard = (FONTS / "tongyong-guifan-hanzi-8105.txt").read_text(encoding="utf-8").split()
    assert len(standard) == len(set(standard)) == 8105
    gb2312 = {bytes([a, b]).decode("gb2312") for a in range(0xB0, 0xF8) for b in range(0xA1, 0xFF)
              if not (a == 0xD7 and b > 0xF9)}  # row 55 ends at 0xF9
    assert len(gb2312) == 6763
    missing = [c for c in [*standard, *sorted(gb2312)] if ord(c) not in cmap]
    assert missing == []
    printable = "姓名 Name 身份证号 ID 证书编号 No. — 0123456789 ·：（）《》、，。"
    assert [c for c in printable if ord(c) not in cmap] == []
    assert (FONTS / "OFL.txt").read_text().startswith("Copyright 2014-2021 Adobe")
    assert "SIL OPEN FONT LICENSE Version 1.1" in (FONTS / "OFL.txt").read_text()


def test_the_pdf_needs_no_system_font(db, certified, monkeypatch):
    """No path under /usr/share/fonts in the module, and none opened while rendering."""
    assert "/usr/share/fonts" not in inspect.getsource(certificate_pdf)
    real_open = builtins.open
    opened: list[str] = []

    def guarded_open(file, *args, **kwargs):
        name = str(file)
        opened.append(name)
        if name.startswith("/usr/share/fonts"):
            raise AssertionError(f"the PDF opened a system font: {name}")
        return real_open(file, *args, **kwargs)

    monkeypatch.setattr(builtins, "open", guarded_open)
    data = certificate_pdf.render_pdf(_certificate(db))
    monkeypatch.undo()
    assert str(FONTS / "NotoSansSC-Regular.subset.ttf") in opened
    assert "张三丰" in _raw_text(data)
