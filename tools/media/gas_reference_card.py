"""Generate the bilingual gas inspector's reference card (PDF) for the course
courses/coal-gas-inspection-initial.

    .venv/bin/python tools/media/gas_reference_card.py

Needs fpdf2 (a project dependency) and a CJK font (Noto Sans CJK, Debian package
fonts-noto-cjk). fpdf2 subsets the font, so the PDF stays small.
"""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from pathlib import Path

from fpdf import FPDF
from fpdf.fonts import FontFace

ROOT = Path(__file__).resolve().parents[2]
OUT = ROOT / "courses" / "coal-gas-inspection-initial" / "media" / "gas-reference-card.pdf"
FONT_DIRS = [Path("/usr/share/fonts/opentype/noto"), Path("/usr/share/fonts/noto-cjk")]
SC_INDEX = 2  # Noto Sans CJK .ttc: 0 JP, 1 KR, 2 SC, 3 TC, 4 HK

LIMITS = [
    (
        "Mine total return / wing return\n矿井总回风巷或一翼回风巷",
        "CH4 or CO2 > 0.75 %",
        "Find the cause at once and deal with it\n立即查明原因，进行处理",
    ),
    (
        "District return; coal or heading face return\n采区回风巷、采掘工作面回风巷",
        "CH4 > 1.0 %  or  CO2 > 1.5 %",
        "Stop work, withdraw people, take measures\n停止工作，撤出人员，采取措施，进行处理",
    ),
    (
        "Face air and other work places\n采掘工作面及其他作业地点风流中",
        "CH4 ≥ 1.0 %",
        "Stop drilling with electric drills\n停止用电钻打眼",
    ),
    (
        "Within 20 m of the blasting place\n爆破地点附近 20 m 以内风流中",
        "CH4 ≥ 1.0 %",
        "No blasting\n严禁爆破",
    ),
    (
        "Face air; within 20 m of motors or switches\n采掘工作面风流中；电动机或其开关附近 20 m 内",
        "CH4 ≥ 1.5 %",
        "Stop work, cut power, withdraw people\n停止工作，切断电源，撤出人员，进行处理",
    ),
    (
        "Any space > 0.5 m³ (accumulation)\n体积大于 0.5 m³ 的空间（瓦斯积聚）",
        "CH4 ≥ 2.0 %",
        "Within 20 m: stop work, withdraw, cut power\n附近 20 m 内停止工作，撤出人员，切断电源",
    ),
    (
        "Face air\n采掘工作面风流中",
        "CO2 ≥ 1.5 %",
        "Stop work, withdraw, find cause, make measures\n停止工作，撤出人员，查明原因，制定措施",
    ),
    (
        "Equipment cut off because of methane\n因甲烷超限切断电源的设备",
        "CH4 < 1.0 %",
        "Only then may power be restored\n方可通电开动",
    ),
    (
        "Restarting a stopped local fan\n恢复局部通风机",
        "area max CH4 ≤ 1.0 %, CO2 ≤ 1.5 %;\nwithin 10 m of fan and switch CH4 ≤ 0.5 %",
        "Designated person restarts the fan\n由指定人员开启局部通风机",
    ),
    (
        "Intake air of coal and heading faces\n采掘工作面进风流",
        "O2 ≥ 20 %,  CO2 ≤ 0.5 %",
        "Minimum air quality\n空气质量最低要求",
    ),
]

HARMFUL = [
    ("CO  一氧化碳", "0.0024 %", "NO2 (nitrogen oxides)  氮氧化物", "0.00025 %"),
    ("SO2  二氧化硫", "0.0005 %", "H2S  硫化氢", "0.00066 %"),
    ("NH3  氨", "0.004 %", "", ""),
]

STEPS = [
    (
        "1  Prepare  准备",
        "Soda lime and silica gel fresh (colour, 2–5 mm "
        "grains); airtight: squeeze bulb, block inlet, "
        "release — bulb stays flat about 1 min; fringes "
        "bright and sharp; battery; micro-reading moves "
        "the fringe exactly one division.",
        "钠石灰、硅胶有效（颜色、2～5 mm 颗粒）；气密性："
        "捏扁吸气球、堵住进气口、松开——约 1 分钟不胀起；"
        "干涉条纹明亮清晰；电池；测微刻度盘转满刻度时黑纹正好移动一格。",
    ),
    (
        "2  Zero  对零",
        "In fresh air with temperature and pressure "
        "close to the measuring point: dial to 0; squeeze "
        "5–10 times; turn the zero knob until the LEFT "
        "black fringe is on 0; squeeze again and check.",
        "在温度、气压与测点相近的新鲜空气中：测微刻度盘归 0；"
        "捏放吸气球 5～10 次；转动调零手轮使左侧黑纹对准 0；"
        "再捏放几次复查。",
    ),
    (
        "3  Measure CH4  测甲烷",
        "Upper part of the airstream near the roof; also "
        "the top of the face, cavities, upper corners. "
        "Squeeze 5–10 times.",
        "风流上部靠近顶板；还要测迎头顶部、冒落空洞、上隅角。捏放吸气球 5～10 次。",
    ),
    (
        "4  Read  读数",
        "Turn the micro-reading knob until the fringe is "
        "back on the LOWER whole number. Reading = whole "
        "number + dial. Example: 1 + 0.36 = 1.36 %. Reset the dial to 0.",
        "转动测微手轮，使黑纹退回到较小的整数刻度。读数 = 整数 + 测微读数。例：1 + 0.36 = 1.36%。"
        "测微刻度盘归 0。",
    ),
    (
        "5  Measure CO2  测二氧化碳",
        "Lower part of the airstream near the floor: read "
        "CH4 with soda lime, then the mixed value without "
        "it. CO2 = (mixed − CH4) × 0.955.",
        "风流下部靠近底板：先带钠石灰测甲烷，再去掉钠石灰测混合气体。"
        "CO2 =（混合浓度 − 甲烷浓度）× 0.955。",
    ),
    (
        "6  Record and report  记录与汇报",
        "Board, notebook and shift report agree (three-to-one); tell the workers; report any limit "
        "exceeded at once.",
        "牌板、手册、班报三对口；告知作业人员；超限立即汇报。",
    ),
]

ERRORS = [
    ("Zeroed in air containing CH4", "readings too low", "在含甲烷的空气中对零", "读数偏低"),
    ("Spent soda lime", "CH4 too high (CO2 read as CH4)", "钠石灰失效", "甲烷读数偏高"),
    ("Spent silica gel", "readings too high", "硅胶失效", "读数偏高"),
    ("Leak, too few squeezes", "readings too low", "漏气、捏放次数不够", "读数偏低"),
    (
        "Large T/P difference",
        "correct: × K, K = 345.8 T / P",
        "温度、气压相差大",
        "校正：× K，K = 345.8 T / P",
    ),
    (
        "Fire gases, goaf gas",
        "large errors, use other detectors",
        "火区、采空区气体",
        "误差大，用其他仪器",
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
        self.cell(0, 5, "Gas inspector's reference card · 瓦斯检查工速查卡", align="L")
        self.cell(
            0,
            5,
            "Pithead · CN-COAL-GAS-INSPECTION-INITIAL",
            align="R",
            new_x="LMARGIN",
            new_y="NEXT",
        )
        self.set_draw_color(240, 140, 0)
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
            "Teaching aid summarising the Coal Mine Safety "
            "Regulations; the Regulations and your mine's rules "
            "prevail. 教学辅助材料，摘要自《煤矿安全规程》；以规程原文和本矿规定为准。"
            f"  {self.page_no()}/{{nb}}",
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
        self.set_fill_color(255, 244, 230)
        self.cell(0, 7, text, fill=True, new_x="LMARGIN", new_y="NEXT")
        self.ln(1)


def build() -> None:
    pdf = Card(format="A4")
    pdf.set_margins(12, 10, 12)
    pdf.set_auto_page_break(True, margin=16)
    regular = find_font("NotoSansCJK-Regular.ttc")
    bold = find_font("NotoSansCJK-Bold.ttc")
    pdf.add_font("cjk", "", regular, collection_font_number=SC_INDEX)
    pdf.add_font("cjk", "B", bold, collection_font_number=SC_INDEX)
    pdf.set_title("Gas inspector's reference card / 瓦斯检查工速查卡")
    pdf.set_author("Pithead course CN-COAL-GAS-INSPECTION-INITIAL")
    pdf.set_creation_date(datetime(2025, 1, 1, tzinfo=UTC))  # reproducible output

    # Page 1: limits
    pdf.add_page()
    pdf.h1("Gas limits and required actions", "瓦斯浓度限值与必须采取的措施")
    pdf.set_font("cjk", "", 8.5)
    head = FontFace(emphasis="BOLD", fill_color=(255, 212, 59))
    with pdf.table(
        col_widths=(36, 25, 39),
        line_height=4.4,
        headings_style=head,
        text_align="LEFT",
        first_row_as_headings=True,
    ) as table:
        table.row(["Where 地点", "Limit 限值", "Action 措施"])
        for where, limit, action in LIMITS:
            table.row([where, limit, action])

    pdf.h2("Harmful gases: maximum allowed in mine air  有害气体最高允许浓度")
    pdf.set_font("cjk", "", 9)
    with pdf.table(col_widths=(30, 20, 30, 20), line_height=5, headings_style=head) as table:
        table.row(["Gas 气体", "Max 最高", "Gas 气体", "Max 最高"])
        for row in HARMFUL:
            table.row(list(row))

    pdf.h2("Gas properties  瓦斯性质")
    pdf.set_font("cjk", "", 9)
    with pdf.table(col_widths=(50, 50), line_height=5, headings_style=head) as table:
        table.row(["Property 性质", "Value 数值"])
        table.row(["CH4 relative density 甲烷相对密度", "0.554 (collects at the roof 积聚在顶部)"])
        table.row(["Explosive range 爆炸界限", "about 5–16 %  约 5%～16%"])
        table.row(["Most violent 爆炸最猛烈", "about 9.5 %  约 9.5%"])
        table.row(["Ignition temperature 引火温度", "about 650–750 °C  约 650～750 ℃"])
        table.row(["O2 needed for explosion 爆炸所需氧浓度", "≥ about 12 %  不低于约 12%"])
        table.row(
            ["CO2 relative density 二氧化碳相对密度", "1.52 (collects at the floor 积聚在底部)"]
        )

    # Page 2: optical methanometer
    pdf.add_page()
    pdf.h1("Optical methanometer: operation card", "光干涉甲烷测定器操作卡")
    for title, en, zh in STEPS:
        pdf.set_font("cjk", "B", 10.5)
        pdf.set_fill_color(231, 245, 255)
        pdf.cell(0, 6.5, title, fill=True, new_x="LMARGIN", new_y="NEXT")
        pdf.set_font("cjk", "", 9)
        pdf.multi_cell(0, 4.6, en, align="L", new_x="LMARGIN", new_y="NEXT")
        pdf.multi_cell(0, 4.6, zh, align="L", new_x="LMARGIN", new_y="NEXT")
        pdf.ln(1.5)

    pdf.h2("Common errors  常见误差")
    pdf.set_font("cjk", "", 8.5)
    with pdf.table(col_widths=(24, 26, 24, 26), line_height=4.4, headings_style=head) as table:
        table.row(["Cause", "Effect", "原因", "影响"])
        for row in ERRORS:
            table.row(list(row))

    pdf.h2("When a limit is exceeded  超限处置顺序")
    pdf.set_font("cjk", "", 9)
    for en, zh in [
        ("Stop work and withdraw people to the intake air", "停止工作，撤人到进风流安全地点"),
        ("Cut power as the limit requires", "按规定切断电源"),
        ("Fence off and post a warning sign", "设置栅栏、揭示警标"),
        (
            "Report: place, value, time, measures; note whom you told",
            "汇报地点、浓度、时间、措施，记下向谁汇报",
        ),
        ("Find the cause and deal with it by the approved procedure", "查明原因，按批准的程序处理"),
        ("Check again; power only when CH4 < 1.0 %", "复查；甲烷低于 1.0% 方可送电"),
    ]:
        pdf.multi_cell(0, 4.8, f"•  {en}   {zh}", align="L", new_x="LMARGIN", new_y="NEXT")

    OUT.parent.mkdir(parents=True, exist_ok=True)
    pdf.output(str(OUT))
    print(f"wrote {OUT.relative_to(ROOT)} ({OUT.stat().st_size} bytes)")


if __name__ == "__main__":
    build()
