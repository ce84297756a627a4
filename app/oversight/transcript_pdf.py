"""The worker transcript as a PDF: A4 portrait, in the requester's language (zh_CN or en),
with the platform's name and the printing date on every page and tables that continue on the
next page with their headings repeated.

The CJK font is the one the certificates ship (app.certificates.pdf.FONT_PATH: Noto Sans SC,
OFL 1.1); fpdf2 embeds only the glyphs used. The font has no bold face, so headings are set
apart by a shaded background instead."""

from __future__ import annotations

from collections.abc import Sequence

from fpdf import FPDF
from fpdf.enums import WrapMode, XPos, YPos
from fpdf.fonts import FontFace

from app.certificates.pdf import FONT_PATH
from app.i18n import LOCAL_TZ, get_locale, localized
from app.i18n import gettext as _
from app.oversight import transcript as t

FONT = "cjk"
INK = (30, 30, 40)
MUTED = (100, 100, 110)
HEAD_FILL = (225, 228, 235)
_HEADINGS = FontFace(emphasis="", fill_color=HEAD_FILL)


class _Document(FPDF):
    """A4 portrait with a running header (platform, worker, date) and page numbers."""

    def __init__(self, *, header_left: str, header_right: str, footer: str) -> None:
        super().__init__(orientation="P", unit="mm", format="A4")
        self._header_left = header_left
        self._header_right = header_right
        self._footer = footer
        self.set_margins(15, 20, 15)
        self.set_auto_page_break(True, margin=18)
        if not FONT_PATH.is_file():  # a broken install, not something a request can cause
            raise RuntimeError(f"the PDF font is missing from the package: {FONT_PATH}")
        self.add_font(FONT, "", str(FONT_PATH))

    def header(self) -> None:
        self.set_font(FONT, size=8)
        self.set_text_color(*MUTED)
        self.set_xy(self.l_margin, 8)
        self.cell(self.epw / 2, 5, self._header_left)
        self.cell(self.epw / 2, 5, self._header_right, align="R",
                  new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.set_draw_color(*MUTED)
        self.line(self.l_margin, 14, self.w - self.r_margin, 14)
        self.set_y(20)
        self.set_text_color(*INK)

    def footer(self) -> None:
        self.set_y(-12)
        self.set_font(FONT, size=8)
        self.set_text_color(*MUTED)
        self.cell(0, 5, self._footer.format(page=self.page_no()), align="C")


def _heading(pdf: _Document, text: str) -> None:
    if pdf.get_y() > pdf.h - 45:  # a heading never ends a page alone
        pdf.add_page()
    pdf.ln(3)
    pdf.set_font(FONT, size=12)
    pdf.cell(0, 8, text, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_font(FONT, size=8.5)


def _table(pdf: _Document, header: Sequence[str], rows: Sequence[Sequence[object]],
           widths: Sequence[float], empty: str) -> None:
    if not rows:
        pdf.set_text_color(*MUTED)
        pdf.cell(0, 6, empty, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        pdf.set_text_color(*INK)
        return
    with pdf.table(col_widths=tuple(widths), headings_style=_HEADINGS, text_align="LEFT",
                   wrapmode=WrapMode.WORD, line_height=4.6, padding=1,
                   repeat_headings=1) as table:
        heading = table.row()
        for name in header:
            heading.cell(name)
        for values in rows:
            row = table.row()
            for value in values:
                row.cell(_text(value))


def _text(value: object) -> str:
    if value is None:
        return "—"
    if isinstance(value, float):
        return f"{value:g}"
    # NUL and other control characters would end up in the text layer.
    return "".join(ch for ch in str(value) if ch >= " " or ch == "\n")


def _number(value: float | None) -> str:
    return "—" if value is None else f"{value:g}"


def render(item: t.Transcript) -> bytes:
    """The transcript as PDF bytes in the current locale (the requester's: zh_CN or en)."""
    w = item.worker
    printed = item.generated_at.astimezone(LOCAL_TZ).strftime("%Y-%m-%d %H:%M")
    pdf = _Document(header_left=_(t.PLATFORM_NAME),
                    header_right=_("Printed {date}").format(date=printed),
                    footer=_("Page {page}"))
    pdf.set_title(_("Training transcript") + " " + w.full_name)
    pdf.set_author(_(t.PLATFORM_NAME))
    pdf.set_creator("Pithead")
    pdf.set_lang("zh-CN" if get_locale() == "zh_CN" else "en")
    pdf.add_page()

    pdf.set_font(FONT, size=16)
    pdf.cell(0, 10, _("Training transcript"), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_font(FONT, size=9)
    facts = [(_("Full name"), w.full_name), (_("ID number"), w.id_number),
             (_("Enterprise"), w.enterprise_name), (_("Region"), t.region_name(w.region_code)),
             (_("Job category"), t.category_name(w.job_category)),
             (_("Hired on"), t.day(w.hired_on)), (_("Phone"), w.phone or "—")]
    for name, value in facts:
        pdf.set_text_color(*MUTED)
        pdf.cell(35, 6, name)
        pdf.set_text_color(*INK)
        pdf.multi_cell(0, 6, _text(value), new_x=XPos.LMARGIN, new_y=YPos.NEXT,
                       wrapmode=WrapMode.WORD)

    _heading(pdf, _("Study hours"))
    _table(pdf, [_("Year"), _("Requirement"), _("Required hours"), _("Credited hours"),
                 _("Met")],
           [[h.year, t.label(t.REQUIREMENT_LABELS, h.requirement), _number(h.required_hours),
             _number(h.credited_hours), _("Yes") if h.met else _("No")] for h in item.hours],
           (18, 50, 40, 40, 32), _("No study recorded."))

    _heading(pdf, _("Enrolments"))
    _table(pdf, [_("Course"), _("Version"), _("Status"), _("Credited / required minutes"),
                 _("Deadline")],
           [[f"{localized(e.course_title)} ({e.course_code})", e.version,
             t.label(t.ENROLMENT_LABELS, e.status),
             f"{e.credited_minutes:g} / {e.required_minutes}", t.day(e.deadline)]
            for e in item.enrolments],
           (72, 16, 28, 38, 26), _("No enrolments."))

    _heading(pdf, _("Theory attempts"))
    _table(pdf, [_("Course"), _("Version"), _("Attempt"), _("Date"), _("Score"),
                 _("Pass mark"), _("Result")],
           [[f"{localized(a.course_title)} ({a.course_code})", a.version, a.number,
             t.local_time(a.submitted_at or a.started_at), _number(a.score), a.pass_mark,
             t.label(t.ATTEMPT_LABELS, a.outcome)] for a in item.attempts],
           (58, 14, 14, 32, 18, 20, 24), _("No theory attempts."))

    _heading(pdf, _("Practical tests"))
    _table(pdf, [_("Course"), _("Test centre"), _("Session starts"), _("Status"),
                 _("Attendance"), _("Score")],
           [[f"{localized(p.course_title)} ({p.course_code}) v{p.version}", p.test_centre,
             t.local_time(p.starts_at), t.label(t.BOOKING_LABELS, p.status),
             t.label(t.ATTENDANCE_LABELS, p.attendance) or "—", _number(p.score)]
            for p in item.practicals],
           (52, 36, 30, 22, 22, 18), _("No practical bookings."))

    _heading(pdf, _("Certificates"))
    _table(pdf, [_("Certificate number"), _("Certificate"), _("Issued on"), _("Expires on"),
                 _("Status"), _("History")],
           [[c.number, localized(c.title), t.day(c.issued_on), t.day(c.expires_on),
             t.label(t.CERTIFICATE_LABELS, c.status) +
             (f": {c.status_reason}" if c.status_reason else ""),
             "\n".join(f"{t.local_time(e.at)[:10]} {t.label(t.EVENT_LABELS, e.kind)}"
                       + (f": {e.reason}" if e.reason else "") for e in c.history) or "—"]
            for c in item.certificates],
           (30, 40, 22, 22, 24, 42), _("No certificates."))
    return bytes(pdf.output())
