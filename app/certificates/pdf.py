"""The holder's certificate as a printable PDF: A4 landscape, bilingual (Chinese and English,
like the paper certificates it replaces), a QR code pointing at the public verification page.

The font ships with the package (fonts/: Noto Sans SC, subset to the 8,105 characters of the
Table of General Standard Chinese Characters, GB 2312 and Big5's common hanzi, OFL 1.1; see
fonts/README.md), so no system font package is needed. fpdf2 embeds only the glyphs used
(subsetting again), so the font adds a few kilobytes to each PDF."""

from __future__ import annotations

import io
from datetime import date
from pathlib import Path

import segno
from fpdf import FPDF

from app.certificates import service
from app.certificates.addresses import base_url
from app.certificates.models import Certificate
from app.organisations import reference

FONT_PATH = Path(__file__).resolve().parent / "fonts" / "NotoSansSC-Regular.subset.ttf"

# Bilingual labels: the printed document is the same whatever the reader's browser language.
STATUS_STAMPS = {
    "suspended": "暂停 SUSPENDED",
    "revoked": "撤销 REVOKED",
    "expired": "过期 EXPIRED",
}
INK = (40, 40, 60)
ACCENT = (150, 20, 30)


def verification_url(number: str) -> str:
    """What the QR code encodes: the public verification page of the certificate."""
    return base_url() + "/verify/" + number


def _font_path() -> Path:
    if not FONT_PATH.is_file():  # a broken install, not something a request can cause
        raise RuntimeError(f"the certificate font is missing from the package: {FONT_PATH}")
    return FONT_PATH


def _category_names(code: str) -> tuple[str, str]:
    for row in reference.job_categories():
        if row["code"] == code:
            return str(row.get("zh") or row["en"]), str(row["en"])
    return code, code


def _day(value: date | None) -> str:
    return value.isoformat() if value else "—"


def render_pdf(certificate: Certificate) -> bytes:
    """The certificate (full holder name and ID number: this is the holder's own document)."""
    worker = certificate.worker
    status = service.status_of(certificate)
    pdf = FPDF(orientation="L", unit="mm", format="A4")
    pdf.set_title(f"{certificate.number} {certificate.title.get('zh_CN', '')}".strip())
    pdf.set_author(certificate.issuer)
    pdf.set_creator("Pithead")
    pdf.set_auto_page_break(False)
    pdf.add_page()
    pdf.add_font("cjk", "", str(_font_path()))
    width, height = pdf.w, pdf.h  # 297 x 210

    # Double border.
    pdf.set_draw_color(*ACCENT)
    pdf.set_line_width(1.2)
    pdf.rect(8, 8, width - 16, height - 16)
    pdf.set_line_width(0.3)
    pdf.rect(11, 11, width - 22, height - 22)

    pdf.set_text_color(*INK)
    pdf.set_font("cjk", size=11)
    pdf.set_xy(15, 16)
    pdf.cell(width - 30, 6, "矿山安全培训平台  " + certificate.issuer, align="C")

    pdf.set_text_color(*ACCENT)
    pdf.set_font("cjk", size=24)
    pdf.set_xy(15, 28)
    pdf.cell(width - 30, 12, certificate.title.get("zh_CN") or certificate.title.get("en", ""),
             align="C")
    pdf.set_font("cjk", size=13)
    pdf.set_xy(15, 41)
    pdf.cell(width - 30, 7, certificate.title.get("en", ""), align="C")

    zh_category, en_category = _category_names(certificate.job_category)
    rows = [
        ("姓名 Name", worker.full_name),
        ("身份证号 ID number", worker.id_number),
        ("证书编号 Certificate No.", certificate.number),
        ("作业类别 Job category", f"{zh_category}  {en_category}"
         if zh_category != en_category else zh_category),
        ("工作单位 Employer", worker.enterprise.name),
        ("发证日期 Issued on", _day(certificate.issued_on)),
        ("有效期至 Valid until", _day(certificate.expires_on)),
        ("复审日期 Review due", _day(certificate.review_due_on)),
        ("发证机构 Issuer", certificate.issuer),
    ]
    pdf.set_text_color(*INK)
    y = 58.0
    for label, value in rows:
        pdf.set_font("cjk", size=10)
        pdf.set_xy(24, y)
        pdf.cell(58, 9, label)
        pdf.set_font("cjk", size=14)
        pdf.set_xy(84, y)
        pdf.cell(116, 9, str(value))
        pdf.set_draw_color(200, 200, 210)
        pdf.set_line_width(0.2)
        pdf.line(84, y + 9, 200, y + 9)
        y += 13

    # QR code to the verification page, with the address printed below it.
    url = verification_url(certificate.number)
    png = io.BytesIO()
    segno.make(url, error="m").save(png, kind="png", scale=10, border=2)
    png.seek(0)
    pdf.image(png, x=width - 78, y=62, w=56, h=56)
    pdf.set_font("cjk", size=8)
    pdf.set_xy(width - 90, 120)
    pdf.multi_cell(80, 4, "扫码核验 Scan to verify\n" + url, align="C")

    if status in STATUS_STAMPS:
        pdf.set_draw_color(*ACCENT)
        pdf.set_text_color(*ACCENT)
        pdf.set_line_width(1.0)
        pdf.rect(width - 92, 146, 80, 20)
        pdf.set_font("cjk", size=18)
        pdf.set_xy(width - 92, 146)
        pdf.cell(80, 20, STATUS_STAMPS[status], align="C")
        if certificate.status_reason:
            pdf.set_font("cjk", size=8)
            pdf.set_xy(width - 92, 167)
            pdf.multi_cell(80, 4, certificate.status_reason, align="C")
    return bytes(pdf.output())
