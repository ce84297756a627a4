"""Generate the short animated video "Zeroing and reading the optical methanometer"
for the course courses/coal-gas-inspection-initial.

    .venv/bin/python tools/media/gas_methanometer_video.py

Frames are drawn with Pillow (installed with fpdf2) and piped to ffmpeg
(Debian package ffmpeg): H.264, yuv420p, 640x360, +faststart, about 50 s.
Captions are bilingual (English and Simplified Chinese); the CJK font is
Noto Sans CJK (Debian package fonts-noto-cjk).
"""

from __future__ import annotations

import math
import shutil
import subprocess
import sys
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

ROOT = Path(__file__).resolve().parents[2]
OUT = (
    ROOT / "courses" / "coal-gas-inspection-initial" / "media" / "methanometer-zeroing-reading.mp4"
)
W, H, FPS = 640, 360, 24
FONT = Path("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc")
FONT_BOLD = Path("/usr/share/fonts/opentype/noto/NotoSansCJK-Bold.ttc")
SC_INDEX = 2

BG = (248, 249, 250)
INK = (33, 37, 41)
BLUE = (28, 126, 214)
RED = (224, 49, 49)
ORANGE = (240, 140, 0)
GREY = (134, 142, 150)


def font(size: int, bold: bool = False) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(str(FONT_BOLD if bold else FONT), size, index=SC_INDEX)


F_TITLE = font(26, True)
F_SUB = font(20)
F_CAP = font(17, True)
F_CAPZH = font(16)
F_SMALL = font(12)
F_MED = font(15)
F_BIG = font(22, True)


def ease(t: float) -> float:
    t = max(0.0, min(1.0, t))
    return t * t * (3 - 2 * t)


def caption(d: ImageDraw.ImageDraw, en: str, zh: str) -> None:
    d.rectangle([0, H - 62, W, H], fill=(33, 37, 41))
    d.text((W // 2, H - 46), en, font=F_CAP, fill=(255, 255, 255), anchor="mm")
    d.text((W // 2, H - 20), zh, font=F_CAPZH, fill=(255, 212, 59), anchor="mm")


def heading(d: ImageDraw.ImageDraw, en: str, zh: str) -> None:
    d.text((20, 14), en, font=F_MED, fill=INK)
    d.text((20, 34), zh, font=F_SMALL, fill=GREY)


def eyepiece(d: ImageDraw.ImageDraw, x0: int, y0: int, pos: float, label: str = "") -> None:
    """Scale 0-10 % with the fringe group.

    pos = position of the reference (left) black fringe, in %.
    """
    w, h = 400, 120
    d.rounded_rectangle(
        [x0, y0, x0 + w, y0 + h], radius=14, fill=(230, 233, 236), outline=INK, width=2
    )
    left, right = x0 + 36, x0 + w - 24
    step = (right - left) / 10
    base = y0 + h - 28
    d.line([left, base, right, base], fill=INK, width=1)
    for i in range(11):
        x = left + i * step
        d.line([x, base - 10, x, base], fill=INK, width=1)
        d.text((x, base + 11), str(i), font=F_SMALL, fill=INK, anchor="mm")
    xr = left + pos * step
    colours = [RED, (47, 158, 68), BLUE, INK, INK, BLUE, (47, 158, 68), RED]
    offsets = [-3, -2, -1, 0, 1, 2, 3, 4]
    for off, col in zip(offsets, colours, strict=True):
        x = xr + off * 6
        if x0 + 8 <= x <= x0 + w - 8:
            wdt = 4 if col == INK else 2
            d.line([x, y0 + 12, x, base - 14], fill=col, width=wdt)
    d.polygon([(xr - 5, y0 + 4), (xr + 5, y0 + 4), (xr, y0 + 11)], fill=RED)
    if label:
        d.text((x0 + w // 2, y0 - 12), label, font=F_SMALL, fill=GREY, anchor="mm")


def dial(d: ImageDraw.ImageDraw, cx: int, cy: int, value: float) -> None:
    r = 70
    d.ellipse([cx - r, cy - r, cx + r, cy + r], fill=(255, 255, 255), outline=INK, width=2)
    for i in range(50):
        a = math.radians(i * 7.2 - 90)
        inner = r - (12 if i % 5 == 0 else 6)
        d.line(
            [
                cx + inner * math.cos(a),
                cy + inner * math.sin(a),
                cx + r * math.cos(a),
                cy + r * math.sin(a),
            ],
            fill=INK,
            width=1,
        )
        if i % 5 == 0:
            tr = r - 22
            d.text(
                (cx + tr * math.cos(a), cy + tr * math.sin(a)),
                f"{i * 0.02:.1f}".replace("0.0", "0"),
                font=F_SMALL,
                fill=INK,
                anchor="mm",
            )
    a = math.radians(value * 360 - 90)
    d.line([cx, cy, cx + (r - 8) * math.cos(a), cy + (r - 8) * math.sin(a)], fill=RED, width=3)
    d.ellipse([cx - 4, cy - 4, cx + 4, cy + 4], fill=RED)
    d.text((cx, cy + r + 14), f"dial 刻度盘 {value:.2f}", font=F_MED, fill=RED, anchor="mm")


# ---------------------------------------------------------------- scenes


def scene_title(d: ImageDraw.ImageDraw, t: float) -> None:
    d.rectangle([0, 0, W, H], fill=(33, 37, 41))
    d.text(
        (W // 2, 120), "Zeroing and reading the", font=F_TITLE, fill=(255, 255, 255), anchor="mm"
    )
    d.text((W // 2, 156), "optical methanometer", font=F_TITLE, fill=(255, 255, 255), anchor="mm")
    d.text(
        (W // 2, 206), "光干涉甲烷测定器的对零与读数", font=F_SUB, fill=(255, 212, 59), anchor="mm"
    )
    d.text(
        (W // 2, 300),
        "Coal mine gas inspection · 煤矿瓦斯检查作业",
        font=F_SMALL,
        fill=GREY,
        anchor="mm",
    )


CHECKS = [
    ("Soda lime and silica gel fresh", "钠石灰、硅胶有效"),
    ("Airtight: bulb stays flat ~1 min", "气密性：吸气球约 1 分钟不胀起"),
    ("Fringes bright and sharp", "干涉条纹明亮清晰"),
    ("Battery charged", "电池电量充足"),
]


def scene_checks(d: ImageDraw.ImageDraw, t: float) -> None:
    heading(d, "1  Check before going underground", "1  下井前检查")
    for i, (en, zh) in enumerate(CHECKS):
        if t * 5 > i + 0.3:
            y = 80 + i * 52
            d.rounded_rectangle(
                [60, y, 580, y + 42], radius=8, fill=(235, 251, 238), outline=(47, 158, 68)
            )
            d.text((80, y + 21), "✓", font=F_BIG, fill=(47, 158, 68), anchor="lm")
            d.text((115, y + 12), en, font=F_MED, fill=INK, anchor="lm")
            d.text((115, y + 31), zh, font=F_SMALL, fill=GREY, anchor="lm")
    caption(d, "Prepare the instrument on the surface", "在地面做好仪器准备")


def scene_zero(d: ImageDraw.ImageDraw, t: float) -> None:
    heading(d, "2  Zero in fresh air near the measuring point", "2  在测点附近的新鲜风流中对零")
    pos = 0.45 * (1 - ease((t - 0.35) / 0.45))
    eyepiece(d, 20, 90, pos, "eyepiece 目镜")
    dial(d, 520, 150, 0.0)
    if t < 0.35:
        caption(d, "Dial to 0, squeeze the bulb 5–10 times", "测微刻度盘归 0，捏放吸气球 5～10 次")
    elif t < 0.85:
        caption(d, "Turn the zero knob: left black fringe onto 0", "转动调零手轮，使左侧黑纹对准 0")
    else:
        caption(d, "Squeeze again and check it stays on 0", "再捏放几次，确认黑纹仍在 0 位")


def scene_measure(d: ImageDraw.ImageDraw, t: float) -> None:
    heading(d, "3  Measure CH4 near the roof", "3  在风流上部、靠近顶板测甲烷")
    pos = 1.36 * ease((t - 0.3) / 0.5)
    eyepiece(d, 20, 90, pos, "eyepiece 目镜")
    dial(d, 520, 150, 0.0)
    if t < 0.3:
        caption(
            d,
            "Sampling tube near the roof, squeeze 5–10 times",
            "进气管伸到顶板附近，捏放吸气球 5～10 次",
        )
    else:
        caption(d, "The fringe moves: now between 1 and 2", "黑纹移动，现在位于 1 与 2 之间")


def scene_read(d: ImageDraw.ImageDraw, t: float) -> None:
    heading(d, "4  Turn the micro-reading knob", "4  转动测微手轮")
    k = ease((t - 0.1) / 0.5)
    eyepiece(d, 20, 90, 1.36 - 0.36 * k, "eyepiece 目镜")
    dial(d, 520, 150, 0.36 * k)
    if t < 0.65:
        caption(
            d, "Bring the fringe back to the LOWER whole number: 1", "使黑纹退回到较小的整数刻度 1"
        )
    else:
        d.rounded_rectangle([40, 232, 420, 286], radius=8, fill=(231, 245, 255), outline=BLUE)
        d.text((230, 248), "CH4 = 1 + 0.36 = 1.36 %", font=F_BIG, fill=INK, anchor="mm")
        d.text((230, 274), "甲烷浓度 = 整数 + 测微读数", font=F_SMALL, fill=GREY, anchor="mm")
        caption(
            d,
            "Reading = whole number + dial. Reset the dial to 0.",
            "读数 = 整数 + 测微读数；用后刻度盘归 0",
        )


def scene_co2(d: ImageDraw.ImageDraw, t: float) -> None:
    heading(d, "5  CO2 near the floor", "5  在风流下部、靠近底板测二氧化碳")
    rows = [
        ("With soda lime: CH4", "带钠石灰：甲烷", "0.30 %"),
        ("Without soda lime: mixed", "去掉钠石灰：混合气体", "1.10 %"),
        ("CO2 = (1.10 − 0.30) × 0.955", "CO2 =（混合 − 甲烷）× 0.955", "≈ 0.76 %"),
    ]
    for i, (en, zh, val) in enumerate(rows):
        if t * 4 > i + 0.2:
            y = 80 + i * 60
            d.rounded_rectangle([60, y, 580, y + 48], radius=8, fill=(255, 255, 255), outline=GREY)
            d.text((80, y + 15), en, font=F_MED, fill=INK, anchor="lm")
            d.text((80, y + 35), zh, font=F_SMALL, fill=GREY, anchor="lm")
            d.text((560, y + 24), val, font=F_BIG, fill=RED if i == 2 else INK, anchor="rm")
    caption(d, "CO2 is heavy: measure it near the floor", "二氧化碳比空气重：在底板附近测定")


def scene_record(d: ImageDraw.ImageDraw, t: float) -> None:
    heading(d, "6  Record and report", "6  记录与汇报")
    items = [("Board", "牌板"), ("Notebook", "手册"), ("Shift report", "班报")]
    for i, (en, zh) in enumerate(items):
        x = 60 + i * 180
        d.rounded_rectangle(
            [x, 90, x + 150, 190], radius=10, fill=(255, 249, 219), outline=ORANGE, width=2
        )
        d.text((x + 75, 125), en, font=F_MED, fill=INK, anchor="mm")
        d.text((x + 75, 150), zh, font=F_MED, fill=INK, anchor="mm")
        d.text((x + 75, 175), "1.36 %  10:40", font=F_SMALL, fill=GREY, anchor="mm")
    if t > 0.3:
        d.text(
            (W // 2, 222),
            "= the same place, time and values  三对口",
            font=F_MED,
            fill=BLUE,
            anchor="mm",
        )
    if t > 0.55:
        d.text(
            (W // 2, 256),
            "1.36 % at the face: stop drilling and blasting, report",
            font=F_SMALL,
            fill=RED,
            anchor="mm",
        )
        d.text(
            (W // 2, 276),
            "迎头 1.36%：停止打眼和爆破，立即汇报",
            font=F_SMALL,
            fill=RED,
            anchor="mm",
        )
    caption(d, "Tell the workers and report at once", "告知现场人员，立即汇报")


SCENES = [
    (scene_title, 4.0),
    (scene_checks, 7.0),
    (scene_zero, 10.0),
    (scene_measure, 8.0),
    (scene_read, 10.0),
    (scene_co2, 7.0),
    (scene_record, 7.0),
]


def frames():
    for fn, seconds in SCENES:
        n = int(seconds * FPS)
        for i in range(n):
            img = Image.new("RGB", (W, H), BG)
            fn(ImageDraw.Draw(img), i / max(1, n - 1))
            yield img


def main() -> None:
    ffmpeg = shutil.which("ffmpeg")
    if not ffmpeg:
        sys.exit("ffmpeg not found (apt-get install -y ffmpeg)")
    OUT.parent.mkdir(parents=True, exist_ok=True)
    cmd = [
        ffmpeg,
        "-y",
        "-loglevel",
        "error",
        "-f",
        "rawvideo",
        "-pix_fmt",
        "rgb24",
        "-s",
        f"{W}x{H}",
        "-r",
        str(FPS),
        "-i",
        "-",
        "-c:v",
        "libx264",
        "-preset",
        "slow",
        "-crf",
        "28",
        "-tune",
        "animation",
        "-pix_fmt",
        "yuv420p",
        "-movflags",
        "+faststart",
        "-an",
        "-map_metadata",
        "-1",
        "-metadata",
        "title=Zeroing and reading the optical methanometer",
        str(OUT),
    ]
    proc = subprocess.Popen(cmd, stdin=subprocess.PIPE)  # noqa: S603 - fixed argv, no shell
    assert proc.stdin is not None
    for img in frames():
        proc.stdin.write(img.tobytes())
    proc.stdin.close()
    if proc.wait() != 0:
        sys.exit("ffmpeg failed")
    print(f"wrote {OUT.relative_to(ROOT)} ({OUT.stat().st_size} bytes)")


if __name__ == "__main__":
    main()
