"""Generate the short animated video "From a stopped fan to an explosion: where the chain
could have been broken" for the course courses/warning-education-accident-cases.

    .venv/bin/python tools/media/warning_chain_video.py

Frames are drawn with Pillow (installed with fpdf2) and piped to ffmpeg
(Debian package ffmpeg): H.264, yuv420p, 640x360, +faststart, about 47 s.
Captions are bilingual; the CJK font is Noto Sans CJK (Debian package fonts-noto-cjk).
The story is the composite teaching case of lesson 02, not a real accident.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

ROOT = Path(__file__).resolve().parents[2]
OUT = ROOT / "courses" / "warning-education-accident-cases" / "media" / "stopped-fan-chain.mp4"
W, H, FPS = 640, 360, 24
FONT = Path("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc")
FONT_BOLD = Path("/usr/share/fonts/opentype/noto/NotoSansCJK-Bold.ttc")
SC_INDEX = 2

BG = (248, 249, 250)
DARK = (33, 37, 41)
RED = (201, 42, 42)
GREEN = (47, 158, 68)
GREY = (134, 142, 150)
AMBER = (255, 212, 59)


def font(size: int, bold: bool = False) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(str(FONT_BOLD if bold else FONT), size, index=SC_INDEX)


F_TITLE = font(28, True)
F_SUB = font(19)
F_SMALL = font(12)
F_MED = font(16)
F_EVENT = font(21, True)
F_EVENTZH = font(18)
F_CAP = font(16, True)
F_CAPZH = font(15)

LINKS = [
    (
        "Interlock bypassed weeks earlier",
        "几周前风电闭锁被短接",
        "Report and restore every bypassed protection",
        "发现被甩掉的保护，立即汇报并恢复",
    ),
    (
        "Fan stopped without a plan, power left on",
        "无计划停风，巷道未断电",
        "Planned stops only: cut power, withdraw, report",
        "有计划停风：断电、撤人、汇报",
    ),
    (
        "Gas builds up at the face for two hours",
        "迎头瓦斯积聚近两小时",
        "Fence off the heading; nobody goes in",
        "巷口设栅栏，禁止人员进入",
    ),
    (
        "Board filled in before the round",
        "牌板在巡检前就已填好",
        "Measure first, then write, at the spot",
        "先测后填，当场记录",
    ),
    (
        "Fan restarted with no gas check",
        "未检查瓦斯就开启局部通风机",
        "Restart only if CH4 ≤ 1.0 %, CO2 ≤ 1.5 %, ≤ 0.5 % near fan",
        "停风区甲烷≤1.0%、二氧化碳≤1.5%，风机附近≤0.5%方可开启",
    ),
    (
        "Gas meets a non-flameproof junction box",
        "瓦斯遇到失爆的接线盒",
        "Keep every electrical enclosure flameproof",
        "电气设备必须保持防爆性能",
    ),
]


def caption(d: ImageDraw.ImageDraw, en: str, zh: str) -> None:
    d.rectangle([0, H - 58, W, H], fill=DARK)
    d.text((W // 2, H - 42), en, font=F_CAP, fill=(255, 255, 255), anchor="mm")
    d.text((W // 2, H - 18), zh, font=F_CAPZH, fill=AMBER, anchor="mm")


def chain(d: ImageDraw.ImageDraw, upto: int, current: int | None, barriers: bool = False) -> None:
    """Row of numbered links; links < upto are shown, `current` is highlighted."""
    xs = [50 + i * 90 for i in range(7)]
    y = 58
    for i in range(6):
        if i + 1 < upto and not barriers:
            d.line([xs[i] + 18, y, xs[i + 1] - 18, y], fill=RED, width=4)
    for i in range(7):
        x = xs[i]
        shown = i < upto
        if i == 6:
            col = RED if shown else (222, 226, 230)
            d.regular_polygon((x, y, 22), 8, fill=col)
            d.text((x, y), "!", font=F_EVENT, fill=(255, 255, 255), anchor="mm")
            continue
        fill = RED if shown else (222, 226, 230)
        if barriers:
            fill = GREEN
        d.ellipse(
            [x - 18, y - 18, x + 18, y + 18],
            fill=fill,
            outline=AMBER if current == i else fill,
            width=4,
        )
        d.text((x, y), str(i + 1), font=F_MED, fill=(255, 255, 255), anchor="mm")
        if barriers:
            d.line([x - 8, y + 26, x + 8, y + 26], fill=GREEN, width=3)


def scene_title(d: ImageDraw.ImageDraw, t: float) -> None:
    d.rectangle([0, 0, W, H], fill=DARK)
    d.text((W // 2, 110), "From a stopped fan", font=F_TITLE, fill=(255, 255, 255), anchor="mm")
    d.text((W // 2, 148), "to an explosion", font=F_TITLE, fill=(255, 255, 255), anchor="mm")
    d.text((W // 2, 196), "从停风到爆炸：链条本可在哪里打断", font=F_SUB, fill=AMBER, anchor="mm")
    d.text(
        (W // 2, 270),
        "Teaching case based on common accident patterns",
        font=F_SMALL,
        fill=GREY,
        anchor="mm",
    )
    d.text((W // 2, 290), "根据常见事故规律编写的教学案例", font=F_SMALL, fill=GREY, anchor="mm")


def make_link_scene(i: int):
    en, zh, ben, bzh = LINKS[i]

    def scene(d: ImageDraw.ImageDraw, t: float) -> None:
        chain(d, i + 1, i)
        d.text((W // 2, 112), f"Link {i + 1}  第 {i + 1} 环", font=F_SMALL, fill=GREY, anchor="mm")
        d.text((W // 2, 142), en, font=F_EVENT, fill=RED, anchor="mm")
        d.text((W // 2, 172), zh, font=F_EVENTZH, fill=RED, anchor="mm")
        if t > 0.35:
            d.rounded_rectangle(
                [30, 200, W - 30, 284], radius=10, fill=(235, 251, 238), outline=GREEN, width=2
            )
            d.text(
                (W // 2, 218),
                "Barrier that would have broken the chain  本可打断链条的防线",
                font=F_SMALL,
                fill=GREEN,
                anchor="mm",
            )
            d.text((W // 2, 244), ben, font=F_MED, fill=DARK, anchor="mm")
            d.text((W // 2, 268), bzh, font=F_SMALL, fill=DARK, anchor="mm")
        caption(d, "One more hole in the defences", "防线上又多了一个漏洞")

    return scene


def scene_explosion(d: ImageDraw.ImageDraw, t: float) -> None:
    flash = int(255 * max(0.0, 1 - t * 1.6))
    d.rectangle([0, 0, W, H], fill=(255, 120 + flash // 3, flash // 3))
    chain(d, 7, None)
    d.text((W // 2, 170), "EXPLOSION", font=F_TITLE, fill=(255, 255, 255), anchor="mm")
    d.text((W // 2, 208), "爆炸", font=F_TITLE, fill=(255, 255, 255), anchor="mm")
    caption(d, "Most victims died of carbon monoxide", "多数遇难者死于一氧化碳中毒")


def scene_final(d: ImageDraw.ImageDraw, t: float) -> None:
    chain(d, 6 if t > 0.25 else 7, None, barriers=t > 0.25)
    if t > 0.25:
        d.line([540 - 26, 58 - 26, 540 + 26, 58 + 26], fill=GREEN, width=5)
        d.line([540 - 26, 58 + 26, 540 + 26, 58 - 26], fill=GREEN, width=5)
    d.text(
        (W // 2, 130),
        "Any ONE barrier would have prevented it.",
        font=F_EVENT,
        fill=GREEN,
        anchor="mm",
    )
    d.text(
        (W // 2, 160), "任何一道防线守住，事故就不会发生。", font=F_EVENTZH, fill=GREEN, anchor="mm"
    )
    if t > 0.45:
        d.text(
            (W // 2, 214),
            "The last barrier is you: stop, check, report.",
            font=F_MED,
            fill=DARK,
            anchor="mm",
        )
        d.text(
            (W // 2, 240),
            "最后一道防线是你自己：停下、检查、汇报。",
            font=F_MED,
            fill=DARK,
            anchor="mm",
        )
    caption(
        d,
        "Never enter a heading after a fan stop before the gas check",
        "停风后，瓦斯检查之前绝不进入巷道",
    )


SCENES = (
    [(scene_title, 4.0)]
    + [(make_link_scene(i), 5.5) for i in range(6)]
    + [
        (scene_explosion, 3.0),
        (scene_final, 7.0),
    ]
)


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
        "title=From a stopped fan to an explosion",
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
