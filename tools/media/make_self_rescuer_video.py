#!/usr/bin/env python3
"""Render the short "putting on a compressed-oxygen self-rescuer" video (640x360 H.264).

Frames are drawn with Pillow and piped to ffmpeg (which must be on PATH; it is only needed to
regenerate the video, not to run Pithead). Deterministic apart from the encoder's own version.

    .venv/bin/python tools/media/make_self_rescuer_video.py [--out PATH]
"""

from __future__ import annotations

import argparse
import math
import subprocess
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

W, H, FPS = 640, 360, 12
ROOT = Path(__file__).resolve().parents[2]
OUT = ROOT / "courses/general-underground-induction/media/self-rescuer-donning.mp4"
FONT = "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc"
FONT_BOLD = "/usr/share/fonts/opentype/noto/NotoSansCJK-Bold.ttc"
RED, DARK, BG = (192, 57, 43), (40, 40, 40), (245, 243, 236)

STEPS = [
    (
        "Swing the self-rescuer to the front and hold its base.",
        "把自救器转到胸腹前，一手托住底部。",
    ),
    (
        "Pull the red opening lever and seal strap; take off the cover.",
        "扳开红色开启扳手，拉开封口带，去掉上盖。",
    ),
    (
        "Put the neck strap over your head and unfold the breathing bag.",
        "把挎带套在脖子上，展开气囊。",
    ),
    ("Open the oxygen cylinder valve fully (anticlockwise).", "逆时针把氧气瓶开关完全打开。"),
    (
        "Mouthpiece between lips and teeth; bite the grips; lips tight.",
        "口具放在唇齿之间，咬紧牙垫，闭紧嘴唇。",
    ),
    ("Press the bypass button until the bag fills.", "按动补气按钮，使气囊迅速鼓起。"),
    (
        "Put on the nose clip. From now on breathe only through your mouth.",
        "夹好鼻夹，此后只用嘴呼吸。",
    ),
    (
        "Walk out along the escape route. Do not run; never take it off in bad air.",
        "沿避灾路线撤离，不要跑；未到新鲜风流处严禁取下。",
    ),
]


def font(size, bold=False):
    try:
        return ImageFont.truetype(FONT_BOLD if bold else FONT, size, index=2)
    except OSError:
        return ImageFont.load_default()


def wrap(draw, text, fnt, width):
    """Wrap English on spaces and Chinese on characters to the given pixel width."""
    lines, line = [], ""
    pieces = text.split(" ") if text.isascii() else list(text)
    sep = " " if text.isascii() else ""
    for piece in pieces:
        candidate = (line + sep + piece) if line else piece
        no_break = piece in "，。；、：）"  # keep Chinese punctuation off the start of a line
        if draw.textlength(candidate, font=fnt) > width and line and not no_break:
            lines.append(line)
            line = piece
        else:
            line = candidate
    if line:
        lines.append(line)
    return lines


def head(d, cx, cy, r=30):
    d.ellipse([cx - r, cy - r, cx + r, cy + r], fill=(243, 217, 184), outline=DARK, width=3)
    d.chord(
        [cx - r - 3, cy - r - 6, cx + r + 3, cy + r - 2],
        180,
        360,
        fill=(242, 194, 48),
        outline=DARK,
        width=3,
    )
    d.rectangle([cx - 8, cy - r - 2, cx + 8, cy - r + 9], fill="white", outline=DARK)


def unit(d, cx, cy):
    d.rounded_rectangle(
        [cx - 34, cy - 24, cx + 34, cy + 24], 8, fill=(232, 232, 232), outline=DARK, width=3
    )
    d.ellipse([cx + 8, cy - 16, cx + 26, cy + 2], fill="white", outline=DARK, width=2)
    d.line([cx + 17, cy - 7, cx + 22, cy - 12], fill=RED, width=2)


def arrow(d, x0, y0, x1, y1, colour=RED, width=6):
    d.line([x0, y0, x1, y1], fill=colour, width=width)
    a = math.atan2(y1 - y0, x1 - x0)
    s = 14
    d.polygon(
        [
            (x1 + s * math.cos(a), y1 + s * math.sin(a)),
            (x1 + s * math.cos(a + 2.4), y1 + s * math.sin(a + 2.4)),
            (x1 + s * math.cos(a - 2.4), y1 + s * math.sin(a - 2.4)),
        ],
        fill=colour,
    )


def bag(d, cx, cy, rx, ry):
    d.ellipse([cx - rx, cy - ry, cx + rx, cy + ry], fill=(246, 226, 122), outline=DARK, width=3)


def icon(d, step, t):
    """Draw the pictogram of a step in the left half; t in [0, 1) animates it."""
    cx, cy = 160, 165
    wob = math.sin(t * 2 * math.pi * 2)
    if step == 0:
        head(d, cx, cy - 80)
        d.rectangle(
            [cx - 45, cy - 45, cx + 45, cy + 70], fill=(74, 111, 165), outline=DARK, width=3
        )
        ux = cx - 90 + min(1.0, t * 2) * 90
        unit(d, ux, cy + 20)
        arrow(d, cx - 140, cy + 20, cx - 100 + 8 * wob, cy + 20)
    elif step == 1:
        unit(d, cx, cy + 40)
        lift = 40 * min(1.0, t * 1.6)
        d.polygon(
            [
                (cx - 36, cy + 10 - lift),
                (cx + 36, cy - 6 - lift),
                (cx + 40, cy + 12 - lift),
                (cx - 32, cy + 28 - lift),
            ],
            fill=(232, 232, 232),
            outline=DARK,
        )
        d.line([cx + 42, cy + 30, cx + 70, cy + 14 - 10 * min(1.0, t * 3)], fill=RED, width=6)
        arrow(d, cx, cy - 10 - lift, cx, cy - 70 - lift * 0.3)
    elif step == 2:
        head(d, cx, cy - 70)
        d.arc([cx - 42, cy - 70, cx + 42, cy + 50], 200, 340, fill=(138, 109, 47), width=6)
        d.line([cx - 30, cy - 50, cx - 22, cy + 30], fill=(138, 109, 47), width=6)
        d.line([cx + 30, cy - 50, cx + 22, cy + 30], fill=(138, 109, 47), width=6)
        grow = 0.5 + 0.5 * min(1.0, t * 2)
        bag(d, cx, cy + 55, 48 * grow, 24 * grow)
    elif step == 3:
        d.rounded_rectangle(
            [cx - 22, cy - 60, cx + 22, cy + 70], 18, fill=(91, 139, 208), outline=DARK, width=3
        )
        d.rectangle([cx - 12, cy - 82, cx + 12, cy - 60], fill=DARK)
        a0 = 200 - 300 * t
        d.arc([cx - 60, cy - 130, cx + 60, cy - 20], a0, a0 + 220, fill=RED, width=6)
    elif step == 4:
        head(d, cx, cy - 40, 40)
        d.rounded_rectangle([cx - 16, cy - 26, cx + 16, cy - 10], 4, fill=DARK)
        d.line([cx, cy - 10, cx, cy + 40], fill=DARK, width=9)
        bag(d, cx, cy + 62, 44, 22)
    elif step == 5:
        grow = 0.55 + 0.45 * min(1.0, t * 1.5)
        bag(d, cx, cy, 80 * grow, 46 * grow)
        press = 6 * max(0.0, wob)
        d.ellipse([cx + 66, cy + 40, cx + 86, cy + 60], fill=RED, outline=DARK, width=2)
        d.line([cx + 116 - press, cy + 90 - press, cx + 88, cy + 62], fill=DARK, width=12)
        for dx, dy in ((-100, -60), (100, -60), (0, -80)):
            d.line([cx + dx * 0.8, cy + dy * 0.8, cx + dx, cy + dy], fill=RED, width=5)
    elif step == 6:
        head(d, cx, cy - 10, 56)
        clip = 1 - min(1.0, t * 2)
        d.rounded_rectangle(
            [cx - 26 - 20 * clip, cy - 14, cx + 26 + 20 * clip, cy + 2], 6, outline=RED, width=5
        )
        d.rounded_rectangle([cx - 16, cy + 14, cx + 16, cy + 28], 4, fill=DARK)
    else:
        x = cx - 60 + 80 * t
        d.ellipse([x - 16, cy - 86, x + 16, cy - 54], fill=(243, 217, 184), outline=DARK, width=3)
        swing = 22 * wob
        d.line([x, cy - 54, x - 4, cy + 10], fill=DARK, width=8)
        d.line([x - 4, cy + 10, x + 10 + swing, cy + 70], fill=DARK, width=8)
        d.line([x - 4, cy + 10, x - 14 - swing, cy + 70], fill=DARK, width=8)
        d.line([x - 2, cy - 40, x + 24, cy - 20 + swing * 0.5], fill=DARK, width=7)
        d.rectangle([x + 18, cy - 26, x + 40, cy - 8], fill=(246, 226, 122), outline=DARK)
        arrow(d, cx + 40, cy + 100, cx + 120, cy + 100, colour=(42, 157, 92))


def caption_frame(title_en, title_zh, body_en="", body_zh="", dark=False):
    img = Image.new("RGB", (W, H), (22, 24, 28) if dark else BG)
    d = ImageDraw.Draw(img)
    fg = (240, 240, 240) if dark else DARK
    y = 70
    for text, size, bold in (
        (title_en, 30, True),
        (title_zh, 30, True),
        (body_en, 19, False),
        (body_zh, 19, False),
    ):
        if not text:
            continue
        f = font(size, bold)
        for line in wrap(d, text, f, W - 80):
            d.text((40, y), line, font=f, fill=fg)
            y += int(size * 1.35)
        y += 8
    return img


def step_frame(index, t):
    img = Image.new("RGB", (W, H), BG)
    d = ImageDraw.Draw(img)
    d.rounded_rectangle([16, 16, 304, 320], 14, fill="white", outline=(200, 200, 200), width=2)
    icon(d, index, t)
    d.ellipse([324, 24, 372, 72], fill=RED)
    f = font(28, True)
    num = str(index + 1)
    d.text((348 - d.textlength(num, font=f) / 2, 28), num, font=f, fill="white")
    d.text((384, 34), f"/ {len(STEPS)}", font=font(22), fill=(120, 120, 120))
    en, zh = STEPS[index]
    y = 92
    for text, size, colour in ((en, 21, DARK), (zh, 21, (122, 31, 18))):
        fnt = font(size, True)
        for line in wrap(d, text, fnt, W - 340):
            d.text((324, y), line, font=fnt, fill=colour)
            y += int(size * 1.4)
        y += 12
    # progress through the steps
    total = len(STEPS)
    for k in range(total):
        x0 = 16 + k * (W - 32) / total
        x1 = x0 + (W - 32) / total - 6
        fill = RED if k < index else (230, 160, 150) if k == index else (215, 215, 210)
        d.rectangle([x0, 334, x1, 346], fill=fill)
        if k == index:
            d.rectangle([x0, 334, x0 + (x1 - x0) * t, 346], fill=RED)
    return img


def frames():
    yield from [
        caption_frame(
            "Putting on a compressed-oxygen self-rescuer",
            "压缩氧自救器的佩戴",
            "Eight steps. Learn them by heart, then by touch.",
            "共八步。先背熟，再练到闭眼也能做。",
        )
    ] * (FPS * 5)
    per_step = FPS * 5
    for index in range(len(STEPS)):
        for k in range(per_step):
            yield step_frame(index, k / per_step)
    yield from [
        caption_frame(
            "Practise in the dark",
            "在黑暗中练习",
            "Close your eyes and repeat: lever, cover, strap, valve, mouthpiece, bypass, "
            "nose clip, go. Your training base will time you.",
            "闭上眼睛反复练：扳手、上盖、挎带、开关、口具、补气、鼻夹、撤离。培训基地实操考核要计时。",
            dark=True,
        )
    ] * (FPS * 6)
    yield from [
        caption_frame(
            "Before every shift",
            "每班入井前",
            "Check the case is undamaged, the seal intact and the pressure gauge in range. "
            "Never open it without cause.",
            "检查外壳完好、封印完整、压力表指示正常。严禁无故打开自救器。",
        )
    ] * (FPS * 5)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    cmd = [
        "ffmpeg",
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
        "veryslow",
        "-crf",
        "30",
        "-tune",
        "animation",
        "-pix_fmt",
        "yuv420p",
        "-movflags",
        "+faststart",
        "-bitexact",
        str(args.out),
    ]
    proc = subprocess.Popen(cmd, stdin=subprocess.PIPE)  # noqa: S603 - fixed argv, no shell
    count = 0
    for frame in frames():
        proc.stdin.write(frame.tobytes())
        count += 1
    proc.stdin.close()
    if proc.wait() != 0:
        raise SystemExit("ffmpeg failed")
    print(f"{args.out}: {count / FPS:.0f} s, {args.out.stat().st_size} bytes")


if __name__ == "__main__":
    main()
