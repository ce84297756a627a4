#!/usr/bin/env python3
"""Generate the bilingual "pre-shift safety confirmation checklist and emergency card" PDF.

fpdf2 with the Noto Sans CJK SC face (subset into the PDF, so the file stays small).

    .venv/bin/python tools/media/make_checklist_pdf.py [--out PATH]
"""

from __future__ import annotations

import argparse
from pathlib import Path

from fpdf import FPDF

ROOT = Path(__file__).resolve().parents[2]
OUT = ROOT / "courses/production-annual-refresher/media/pre-shift-checklist.pdf"
REGULAR = "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc"
BOLD = "/usr/share/fonts/opentype/noto/NotoSansCJK-Bold.ttc"
SC = 2  # index of the Simplified Chinese face in the Noto CJK collections

CHECKLIST = [
    (
        "A. Fit for work",
        "A. 个人状态",
        [
            (
                "I am rested, sober (no alcohol before the shift) and fit to work.",
                "睡眠充足，班前未饮酒，身体状况适合作业。",
            ),
            (
                "I carry my hard hat, a charged and working cap lamp, my self-rescuer and positio"
                "ning tag; "
                "I wear cotton or anti-static work clothes, boots, dust mask and gloves.",
                "佩戴安全帽，携带充足电且完好的矿灯、自救器和人员定位卡；穿棉布或抗静电工作服、胶"
                "靴，带防尘口罩和手套。",
            ),
            (
                "Self-rescuer: case undamaged, seal intact, pressure gauge in the normal range.",
                "自救器：外壳完好，封印完整，压力表指示在正常范围。",
            ),
            (
                "No cigarettes, lighters, matches or other ignition sources; no synthetic-fibre c"
                "lothing.",
                "未携带烟草和点火物品，未穿化纤衣服。",
            ),
        ],
    ),
    (
        "B. Pre-shift meeting",
        "B. 班前会",
        [
            (
                "I know today's task, my work place and who is in charge.",
                "清楚当班任务、作业地点和现场负责人。",
            ),
            (
                "I know the hazards of this task, their controls, and the hazards handed over by "
                "the last shift.",
                "清楚本岗位危险因素和防范措施，清楚上一班交接的隐患。",
            ),
            (
                "I know the escape route from my work place and where the nearest refuge chamber,"
                " telephone and "
                "compressed-air / water point are.",
                "清楚作业地点的避灾路线，以及最近的避难硐室、电话、压风自救和供水施救点的位置。",
            ),
        ],
    ),
    (
        "C. At the work place: hand-over and safety confirmation",
        "C. 现场交接班与安全确认",
        [
            (
                "Hand-over received face to face: roof, gas, ventilation, equipment, unfinished w"
                "ork, hazards.",
                "现场面对面交接：顶板、瓦斯、通风、设备、未完成工作和隐患。",
            ),
            (
                "Roof and ribs sounded from under supported roof; loose rock barred down; nobody "
                "under unsupported roof.",
                "在有支护的安全地点敲帮问顶，找掉活矸危岩，严禁空顶作业。",
            ),
            (
                "Supports complete and effective (bolts, mesh, props or powered supports).",
                "支护完整有效（锚杆、金属网、支柱或液压支架）。",
            ),
            (
                "Gas checked (portable detector or sensor display) and below the limit; ventilati"
                "on normal; "
                "air doors closed.",
                "瓦斯已检查（便携仪或传感器显示）且未超限；通风正常；风门关闭。",
            ),
            (
                "Methane sensor hung in the right place (close under the roof) and working.",
                "甲烷传感器悬挂位置正确（靠近顶板）且工作正常。",
            ),
            (
                "Equipment: guards in place; emergency stop and signals work; explosion-proof enc"
                "losures intact; "
                "cables hung up.",
                "设备：防护罩齐全；急停和信号装置有效；防爆外壳完好；电缆吊挂整齐。",
            ),
            (
                "Walkway and escape route clear: no standing water, no material piled in the way.",
                "人行道和避灾路线畅通：无积水，无杂物堆放。",
            ),
            ("Dust-suppression sprays working.", "防尘喷雾洒水装置正常。"),
        ],
    ),
]

EMERGENCY = [
    (
        "At once",
        "立即",
        [
            (
                "Stop work, warn the people around you, and report to the dispatcher from the nea"
                "rest telephone: "
                "who you are, where, what happened, how many people.",
                "停止作业，通知周围人员，就近用电话向调度室报告：报告人、地点、发生了什么、涉及人"
                "数。",
            ),
            (
                "Put on your self-rescuer as soon as there is smoke, gas or the air smells or fee"
                "ls wrong.",
                "一旦出现烟雾、有害气体或空气气味、感觉异常，立即佩戴自救器。",
            ),
            (
                "Withdraw along the escape route under the team leader's command; keep together; "
                "count heads.",
                "在班组长指挥下沿避灾路线撤离，集体行动，清点人数。",
            ),
        ],
    ),
    (
        "Fire",
        "火灾",
        [
            (
                "Small and safe to tackle: fight it from the fresh-air side with extinguishers, s"
                "and or water "
                "(not water on live electrical equipment). Otherwise leave.",
                "火势小且能保证安全时，在上风侧用灭火器、砂子或水灭火（带电设备不得用水）；否则立"
                "即撤离。",
            ),
            (
                "Walk towards fresh air against the smoke; in the return side, take the shortest "
                "way into intake air.",
                "迎着新鲜风流撤离；处在回风侧时，以最短路线进入进风巷。",
            ),
        ],
    ),
    (
        "Gas or coal-dust explosion",
        "瓦斯、煤尘爆炸",
        [
            (
                "Blast felt: lie face down with your back to it, protect your head, hold your bre"
                "ath, cover mouth and nose.",
                "感到冲击时，背向冲击波脸朝下卧倒，护住头部，憋气，捂住口鼻。",
            ),
            (
                "Then put on the self-rescuer and leave through intake air; if the way is blocked"
                ", go to a refuge chamber.",
                "随后佩戴自救器，经进风巷撤离；道路不通时进入避难硐室待救。",
            ),
        ],
    ),
    (
        "Water inrush",
        "透水",
        [
            (
                "Move up to a higher level and away from low places and dead ends; if trapped, wa"
                "it at the highest "
                "point, knock on pipes or rails, save your lamp.",
                "向上部水平和高处撤离，避开低洼处和盲巷；被困时在最高处等待，敲击管道或铁轨求救，"
                "节约矿灯用电。",
            ),
        ],
    ),
    (
        "Roof fall",
        "冒顶",
        [
            (
                "Get out from under the falling area to securely supported roof. If trapped: stay"
                " calm, signal by "
                "knocking, save your strength. Rescuers support the roof before they dig.",
                "迅速撤到支护可靠的地点。被困时保持冷静，敲击求救，节省体力。施救人员先加固顶板再"
                "扒人。",
            ),
        ],
    ),
    (
        "Someone injured",
        "有人受伤",
        [
            (
                "Make the place safe first. Not breathing normally: start CPR (hard, fast compres"
                "sions in the centre of "
                "the chest, 5-6 cm deep, 100-120 a minute). Press hard on bleeding. Splint fractu"
                "res. Do not move a "
                "suspected spine injury unless the place is dangerous.",
                "先确保现场安全。无正常呼吸时立即心肺复苏（胸部正中用力快速按压，深度5-6厘米，每"
                "分钟100-120次）。"
                "用力压迫止血。骨折先固定。疑有脊柱损伤时，除非现场危险，不要搬动。",
            ),
        ],
    ),
]


class Card(FPDF):
    def header(self):
        self.set_font("cjk", "B", 8)
        self.set_text_color(120, 120, 120)
        self.cell(
            0,
            5,
            "Annual refresher for production workers / 从业人员年度再培训",
            align="R",
            new_x="LMARGIN",
            new_y="NEXT",
        )
        self.set_text_color(0, 0, 0)

    def footer(self):
        self.set_y(-12)
        self.set_font("cjk", "", 7)
        self.set_text_color(120, 120, 120)
        self.cell(
            0,
            5,
            "Keep your mine's own checklist where it differs. 本企业另有规定的，以本企业规定为准"
            "。  "
            f"{self.page_no()}/2",
            align="C",
        )
        self.set_text_color(0, 0, 0)


def section(pdf, title_en, title_zh, rows, boxes):
    pdf.set_fill_color(225, 236, 228)
    pdf.set_font("cjk", "B", 10)
    pdf.cell(0, 7, f"{title_en}    {title_zh}", fill=True, new_x="LMARGIN", new_y="NEXT")
    for en, zh in rows:
        y = pdf.get_y()
        if y > 265:
            pdf.add_page()
            y = pdf.get_y()
        x = pdf.l_margin
        text_x = x + (8 if boxes else 4)
        if boxes:
            pdf.rect(x + 1, y + 1.6, 3.6, 3.6)
        else:
            pdf.set_xy(x, y)
            pdf.set_font("cjk", "B", 9)
            pdf.cell(4, 5, "•")
        pdf.set_xy(text_x, y)
        pdf.set_font("cjk", "", 8.6)
        pdf.multi_cell(pdf.w - pdf.r_margin - text_x, 4.3, en, new_x="LMARGIN", new_y="NEXT")
        pdf.set_x(text_x)
        pdf.set_text_color(90, 30, 20)
        pdf.multi_cell(pdf.w - pdf.r_margin - text_x, 4.3, zh, new_x="LMARGIN", new_y="NEXT")
        pdf.set_text_color(0, 0, 0)
        pdf.ln(1.2)
    pdf.ln(1.5)


def build(out: Path):
    pdf = Card(format="A4")
    pdf.set_margins(14, 12, 14)
    pdf.set_auto_page_break(True, 16)
    pdf.add_font("cjk", "", REGULAR, collection_font_number=SC)
    pdf.add_font("cjk", "B", BOLD, collection_font_number=SC)
    pdf.set_title("Pre-shift safety confirmation checklist and emergency card")
    pdf.set_author("Pithead training course")
    pdf.set_creation_date(
        __import__("datetime").datetime(2025, 1, 1, tzinfo=__import__("datetime").timezone.utc)
    )

    pdf.add_page()
    pdf.set_font("cjk", "B", 15)
    pdf.cell(0, 8, "Pre-shift safety confirmation checklist", new_x="LMARGIN", new_y="NEXT")
    pdf.cell(0, 8, "班前安全确认表", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("cjk", "", 8.6)
    pdf.multi_cell(
        0,
        4.3,
        "Tick each item before you start. Any item you cannot tick: do not start work - report "
        "to the team leader, make it safe or withdraw.\n逐项确认后方可开工。任何一项不能确认："
        "不得开工，向班组长报告，处理后再干，或者撤离。",
        new_x="LMARGIN",
        new_y="NEXT",
    )
    pdf.ln(2)
    for title_en, title_zh, rows in CHECKLIST:
        section(pdf, title_en, title_zh, rows, boxes=True)
    pdf.set_font("cjk", "", 9)
    pdf.ln(2)
    for label in ("Name 姓名", "Team 班组", "Date 日期", "Shift 班次", "Team leader 班组长"):
        pdf.cell(36, 7, label)
        pdf.cell(0, 7, "_" * 40, new_x="LMARGIN", new_y="NEXT")

    pdf.add_page()
    pdf.set_font("cjk", "B", 15)
    pdf.cell(0, 8, "Emergency card", new_x="LMARGIN", new_y="NEXT")
    pdf.cell(0, 8, "应急处置卡", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(1)
    for title_en, title_zh, rows in EMERGENCY:
        section(pdf, title_en, title_zh, rows, boxes=False)
    pdf.set_font("cjk", "B", 10)
    pdf.ln(1)
    for label in (
        "Dispatcher 调度室",
        "Mine rescue team 矿山救护队",
        "Nearest refuge chamber 最近避难硐室",
    ):
        pdf.cell(70, 7, label)
        pdf.cell(0, 7, "_" * 36, new_x="LMARGIN", new_y="NEXT")
    out.parent.mkdir(parents=True, exist_ok=True)
    pdf.output(str(out))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args()
    build(args.out)
    print(f"{args.out}: {args.out.stat().st_size} bytes")


if __name__ == "__main__":
    main()
