"""Build small course packages on disk for tests (media generated, so every variant is easy)."""

from __future__ import annotations

import io
import struct
from pathlib import Path
from typing import Any

import yaml
from PIL import Image

GIFT_EN = """$CATEGORY: basics

::B-1::Methane is lighter than air. {T}

::B-2::Which gas is measured at the roof of a heading? {=Methane ~Carbon dioxide ~Nitrogen}

::B-3::Which are personal protective equipment? {~%50%Helmet ~%50%Self-rescuer ~%-100%Cigarettes}
"""
GIFT_ZH = """$CATEGORY: basics

::B-1::甲烷比空气轻。 {T}

::B-2::在巷道顶部测量哪种气体？ {=甲烷 ~二氧化碳 ~氮气}

::B-3::哪些是个人防护用品？ {~%50%安全帽 ~%50%自救器 ~%-100%香烟}
"""


def png(width: int = 64, height: int = 32) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), (40, 40, 40)).save(buffer, format="PNG")
    return buffer.getvalue()


def mp4(duration_seconds: float = 60.0) -> bytes:
    """A minimal MP4 (ftyp + moov/mvhd) whose header says `duration_seconds`."""
    ftyp = struct.pack(">I4s4sI8s", 24, b"ftyp", b"isom", 512, b"isomiso2")
    timescale = 1000
    mvhd_body = struct.pack(">B3xIIII", 0, 0, 0, timescale, int(duration_seconds * timescale))
    mvhd_body += b"\x00" * (100 - len(mvhd_body) + 4)
    mvhd = struct.pack(">I4s", 8 + len(mvhd_body), b"mvhd") + mvhd_body
    moov = struct.pack(">I4s", 8 + len(mvhd), b"moov") + mvhd
    return ftyp + moov


def pdf() -> bytes:
    return b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def course_yaml(**overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "code": "TEST-MINI",
        "version": 1,
        "title": {"en": "Mini course", "zh_CN": "迷你课程"},
        "job_category": "general.underground",
        "kind": "general",
        "credit_hours": 2,
        "required_minutes": 4,
        "practical_required": False,
        "modules": [
            {"title": {"en": "Basics", "zh_CN": "基础"}, "lessons": [
                {"kind": "text", "file": "lessons/01-intro.md", "minutes": 2},
                {"kind": "video", "file": "media/clip.mp4", "minutes": 1,
                 "title": {"en": "A clip", "zh_CN": "短片"}},
            ]},
            {"title": {"en": "Practice", "zh_CN": "练习"}, "lessons": [
                {"kind": "document", "file": "media/card.pdf", "minutes": 1,
                 "title": {"en": "Card"}},
                {"kind": "panorama", "file": "media/scene.png", "minutes": 1,
                 "title": {"en": "Scene", "zh_CN": "场景"},
                 "hotspots": [
                     {"yaw": 30, "pitch": -5, "label": {"en": "Cable"}, "hazard": True},
                     {"yaw": -90, "pitch": 10, "label": {"en": "Roof"}, "hazard": True},
                     {"yaw": 150, "pitch": 0, "label": {"en": "Refuge"}, "hazard": False},
                 ]},
            ]},
        ],
        "exam": {"title": {"en": "Exam"}, "duration_minutes": 30, "pass_mark": 80,
                 "max_attempts": 2, "requires_completion": True,
                 "blueprint": [{"category": "basics", "count": 3}]},
    }
    data.update(overrides)
    return data


def write_package(root: Path, *, data: dict[str, Any] | None = None,
                  files: dict[str, bytes | str] | None = None,
                  yaml_text: str | None = None) -> Path:
    """Write a package (default: the mini course) under `root`; `files` adds or replaces files
    (a value of b"" deletes the file)."""
    root.mkdir(parents=True, exist_ok=True)
    contents: dict[str, bytes | str] = {
        "lessons/01-intro.md": "# Introduction\n\nStay safe. ![diagram](../media/d.png)\n\n"
                               "<script>alert(1)</script>\n",
        "lessons/01-intro.zh_CN.md": "# 介绍\n\n注意安全。\n",
        "media/d.png": png(),
        "media/clip.mp4": mp4(60),
        "media/card.pdf": pdf(),
        "media/scene.png": png(64, 32),
        "questions/basics.gift": GIFT_EN,
        "questions/basics.zh_CN.gift": GIFT_ZH,
    }
    contents.update(files or {})
    for rel, content in contents.items():
        path = root / rel
        if content == b"":
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")
    text = yaml_text if yaml_text is not None else yaml.safe_dump(
        data or course_yaml(), allow_unicode=True, sort_keys=False)
    (root / "course.yaml").write_text(text, encoding="utf-8")
    return root
