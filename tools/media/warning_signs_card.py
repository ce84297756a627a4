"""Generate the bilingual "warning signs" pocket card (PDF) for the course
courses/warning-education-accident-cases.

    .venv/bin/python tools/media/warning_signs_card.py

Needs fpdf2 (a project dependency) and Noto Sans CJK (Debian package fonts-noto-cjk).
"""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from pathlib import Path

from fpdf import FPDF
from fpdf.fonts import FontFace

ROOT = Path(__file__).resolve().parents[2]
OUT = ROOT / "courses" / "warning-education-accident-cases" / "media" / "warning-signs-card.pdf"
FONT_DIRS = [Path("/usr/share/fonts/opentype/noto"), Path("/usr/share/fonts/noto-cjk")]
SC_INDEX = 2  # Noto Sans CJK .ttc: 0 JP, 1 KR, 2 SC, 3 TC, 4 HK

SIGNS = [
    (
        "Gas\n瓦斯",
        "Local fan silent, duct slack; sensor alarm; board not filled in at the check\n"
        "局部通风机不转、风筒瘪；传感器报警；牌板未按时填写",
        "Leave the heading, cut power, report; enter only after the gas inspector has checked\n"
        "撤出巷道、断电、汇报；瓦斯检查工检查后方可进入",
    ),
    (
        "Outburst\n突出",
        "Popping or booming in the coal; soft, dull coal; "
        "jammed drill rods, blowing holes; gas up and down\n"
        "煤炮声；煤变软变暗；夹钻顶钻喷孔；瓦斯忽大忽小",
        "Stop, warn everyone, escape towards the intake with self-rescuer, report\n"
        "停止作业，通知所有人，戴自救器向进风方向撤离，汇报",
    ),
    (
        "Coal dust\n煤尘",
        "Dust layer on floor, rails, cables; sprays not working; water troughs missing or empty\n"
        "底板、轨道、电缆上有积尘；喷雾不工作；隔爆水棚缺失或无水",
        "Report; stop the machine until sprays work; clean the dust\n"
        "汇报；喷雾恢复前停机；清扫积尘",
    ),
    (
        "Roof\n顶板",
        "Pieces falling; new or wider cracks; creaking or "
        "bending supports; hollow sound; more dripping\n"
        "掉渣；裂缝增多变宽；支架响、变形；敲帮问顶声音发空；淋水增大",
        "Withdraw under supported roof, warn, report; support first, work second\n"
        "退到有支护处，提醒他人，汇报；先支护后作业",
    ),
    (
        "Water\n水害",
        "Sweating coal, rust-red water, cold air, mist, "
        "hissing water, seeping floor, rotten-egg smell\n"
        "挂汗、挂红、空气变冷、雾气、水叫、底板渗水、臭鸡蛋味",
        "Stop at once, report, withdraw upward; never into lower roadways\n"
        "立即停止作业、汇报，向高处撤离；不进入下方巷道",
    ),
    (
        "Transport\n运输",
        "Barriers tied open; couplings without safety pins; people in the incline during haulage\n"
        "挡车栏被绑开；连接装置无保险销；提升时斜巷有人",
        "Do not haul or walk; signal and wait; report the barrier\n"
        "不提升、不行走；发信号等待；报告挡车设施问题",
    ),
    (
        "Electrical\n机电",
        "Protection bypassed; missing bolts on flameproof covers; damaged cables; tingling\n"
        "保护被甩掉；隔爆外壳缺螺栓；电缆破损；麻电感",
        "Cut off, lock, sign, test before work; never switch on what you did not switch off\n"
        "作业前停电、闭锁、挂牌、验电；谁停电谁送电",
    ),
    (
        "Fire\n火灾",
        "Burning-rubber, kerosene or resin smell; haze; warmer air; rising CO\n"
        "胶皮焦味、煤油味、松香味；烟雾；气温升高；一氧化碳上升",
        "Self-rescuer on at once, keep it on; escape away from smoke; report\n"
        "立即戴自救器且不摘下；背离烟雾撤离；汇报",
    ),
]


def find_font(name: str) -> Path:
    for d in FONT_DIRS:
        p = d / name
        if p.exists():
            return p
    sys.exit(f"CJK font {name} not found; install fonts-noto-cjk")


class Card(FPDF):
    def header(self) -> None:
        self.set_font("cjk", "B", 9)
        self.set_text_color(90, 90, 90)
        self.cell(0, 5, "Warning signs card · 事故征兆卡", align="L")
        self.cell(
            0, 5, "Pithead · CN-WARNING-EDUCATION-CASES", align="R", new_x="LMARGIN", new_y="NEXT"
        )
        self.set_draw_color(201, 42, 42)
        self.set_line_width(0.6)
        self.line(self.l_margin, self.get_y() + 1, self.w - self.r_margin, self.get_y() + 1)
        self.ln(4)
        self.set_text_color(0, 0, 0)

    def footer(self) -> None:
        self.set_y(-12)
        self.set_font("cjk", "", 7.5)
        self.set_text_color(110, 110, 110)
        self.multi_cell(
            0,
            3.6,
            "Teaching aid; the Coal Mine Safety Regulations and your mine's rules prevail. "
            f"教学辅助材料；以《煤矿安全规程》和本矿规定为准。  {self.page_no()}/{{nb}}",
            align="C",
        )

    def h1(self, en: str, zh: str) -> None:
        self.set_font("cjk", "B", 15)
        self.cell(0, 8, en, new_x="LMARGIN", new_y="NEXT")
        self.set_font("cjk", "B", 13)
        self.cell(0, 7, zh, new_x="LMARGIN", new_y="NEXT")
        self.ln(2)

    def h2(self, text: str) -> None:
        self.ln(2)
        self.set_font("cjk", "B", 11)
        self.set_fill_color(255, 236, 236)
        self.cell(0, 7, text, fill=True, new_x="LMARGIN", new_y="NEXT")
        self.ln(1)

    def para(self, text: str, size: float = 9.5) -> None:
        self.set_font("cjk", "", size)
        self.multi_cell(0, 4.9, text, align="L", new_x="LMARGIN", new_y="NEXT")


def build() -> None:
    pdf = Card(format="A4")
    pdf.set_margins(12, 10, 12)
    pdf.set_auto_page_break(True, margin=16)
    pdf.add_font("cjk", "", find_font("NotoSansCJK-Regular.ttc"), collection_font_number=SC_INDEX)
    pdf.add_font("cjk", "B", find_font("NotoSansCJK-Bold.ttc"), collection_font_number=SC_INDEX)
    pdf.set_title("Warning signs card / 事故征兆卡")
    pdf.set_author("Pithead course CN-WARNING-EDUCATION-CASES")
    pdf.set_creation_date(datetime(2025, 1, 1, tzinfo=UTC))

    pdf.add_page()
    pdf.h1("Warning signs: stop, warn, withdraw, report", "事故征兆：停止、提醒、撤离、汇报")
    pdf.set_font("cjk", "", 10)
    head = FontFace(emphasis="BOLD", fill_color=(255, 201, 201))
    with pdf.table(
        col_widths=(13, 47, 40), line_height=5.4, headings_style=head, text_align="LEFT"
    ) as table:
        table.row(["Hazard 危险", "Signs 征兆", "What to do 应对"])
        for row in SIGNS:
            table.row(list(row))

    pdf.add_page()
    pdf.h1("The three violations, your rights, your escape", "三违、你的权利与避灾")
    pdf.h2("The three violations  三违")
    pdf.para(
        "Illegal command (违章指挥): a leader orders or allows work that breaks the rules.\n"
        "违章指挥：管理人员命令或默许违反规定的作业。"
    )
    pdf.para(
        "Illegal operation (违章作业): a worker breaks a rule or procedure while working.\n"
        "违章作业：作业人员在工作中违反规程或措施。"
    )
    pdf.para(
        "Breach of labour discipline (违反劳动纪律): leaving the post, sleeping, drinking, "
        "doing work one is not assigned or certified for.\n"
        "违反劳动纪律：脱岗、睡岗、酒后上岗、从事未分派或无证的工作。"
    )

    pdf.h2("Your rights under the Work Safety Law  《安全生产法》赋予你的权利")
    for en, zh in [
        (
            "Know the hazards of your workplace and the measures against them.",
            "了解作业场所的危险因素和防范措施。",
        ),
        ("Refuse illegal orders and orders to work in danger.", "拒绝违章指挥和强令冒险作业。"),
        (
            "Stop work and leave when there is direct danger to life.",
            "发现直接危及人身安全的紧急情况时停止作业、撤离。",
        ),
        (
            "Criticise, report and complain about violations.",
            "对违法违章行为提出批评、检举、控告。",
        ),
        (
            "Your employer may not punish you for using these rights.",
            "矿井不得因你行使上述权利而处罚你。",
        ),
    ]:
        pdf.para(f"•  {en}\n    {zh}")

    pdf.h2("Self-rescuer and escape  自救器与避灾")
    for en, zh in [
        (
            "First smell of smoke or fire, or a gas alarm: self-rescuer on at once.",
            "一闻到烟火味或听到瓦斯报警：立即佩戴自救器。",
        ),
        (
            "Keep it on until you are in fresh air, even if the air is hot and dry.",
            "到达新鲜风流之前不摘下，即使吸入的空气又热又干。",
        ),
        (
            "Fire, gas, dust: go against the smoke, towards fresh air, by the posted route.",
            "火灾、瓦斯、煤尘事故：按张贴的路线迎着新鲜风流、背离烟雾撤离。",
        ),
        (
            "Water: go upward, never into lower roadways or dead ends.",
            "水灾：往高处走，不进入下方巷道或独头巷道。",
        ),
        (
            "Cannot get out: go to a refuge chamber, signal and wait.",
            "无法撤出：进入避难硐室，发出信号，等待救援。",
        ),
    ]:
        pdf.para(f"•  {en}\n    {zh}")

    pdf.h2("My commitment  我的承诺")
    pdf.para(
        "I will come home from every shift. I will not "
        "disable a protection, I will stop and report "
        "when I see a warning sign, and I will say no to work that puts people in danger.\n"
        '每个班，我都要平安回家。我不甩掉任何保护；看到征兆就停下并汇报；对让人冒险的作业说"不"。',
        10,
    )

    OUT.parent.mkdir(parents=True, exist_ok=True)
    pdf.output(str(OUT))
    print(f"wrote {OUT.relative_to(ROOT)} ({OUT.stat().st_size} bytes)")


if __name__ == "__main__":
    build()
