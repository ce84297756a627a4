"""Media files (course images, videos, PDFs, panoramas, uploads): content-addressed storage
under PITHEAD_MEDIA_DIR with generated names, and content-type checks by magic bytes."""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path

from app.config import get_settings

_KEY = re.compile(r"^[0-9a-f]{40}\.(png|jpg|webp|svg|pdf|mp4)$")


@dataclass(frozen=True)
class MediaKind:
    extension: str
    content_type: str
    max_bytes: int


IMAGE_LIMIT = 5 * 1024 * 1024
KINDS = {
    "png": MediaKind("png", "image/png", IMAGE_LIMIT),
    "jpg": MediaKind("jpg", "image/jpeg", IMAGE_LIMIT),
    "webp": MediaKind("webp", "image/webp", IMAGE_LIMIT),
    "svg": MediaKind("svg", "image/svg+xml", 1024 * 1024),
    "pdf": MediaKind("pdf", "application/pdf", 20 * 1024 * 1024),
    "mp4": MediaKind("mp4", "video/mp4", 50 * 1024 * 1024),
}
IMAGE_KINDS = frozenset({"png", "jpg", "webp", "svg"})
_SVG_FORBIDDEN = re.compile(rb"<script|\bon[a-z]+\s*=|javascript:|<foreignobject|<iframe|<embed",
                            re.IGNORECASE)


def sniff(data: bytes) -> str | None:
    """The real kind of a file from its first bytes ('png', 'jpg', ..., or None)."""
    head = data[:512]
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if head.startswith(b"\xff\xd8\xff"):
        return "jpg"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "webp"
    if head.startswith(b"%PDF-"):
        return "pdf"
    if head[4:8] == b"ftyp":
        return "mp4"
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if text.startswith(b"<svg") or (text.startswith(b"<?xml") and b"<svg" in data[:4096].lower()):
        return "svg"
    return None


def problem(data: bytes, *, allowed: frozenset[str] | set[str]) -> str | None:
    """Why `data` may not be stored as one of `allowed` kinds (English template), or None."""
    kind = sniff(data)
    if kind is None or kind not in allowed:
        return "the file is not one of: " + ", ".join(sorted(allowed))
    if len(data) > KINDS[kind].max_bytes:
        return f"the file is larger than {KINDS[kind].max_bytes // (1024 * 1024)} MB"
    if kind == "svg" and _SVG_FORBIDDEN.search(data):
        return "the SVG contains scripts or event handlers"
    return None


def media_root() -> Path:
    """Where media files live."""
    return Path(get_settings().media_dir)


def store(data: bytes) -> str:
    """Store `data` under a name derived from its content; returns the key (idempotent)."""
    kind = sniff(data)
    if kind is None:
        raise ValueError("unknown media type")
    key = f"{hashlib.sha1(data, usedforsecurity=False).hexdigest()}.{kind}"
    path = path_of(key)
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        # Write then rename: a reader never sees half a file, even with several processes.
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    return key


def path_of(key: str) -> Path:
    """The file of a media key; ValueError for anything that is not a key we generated."""
    if not _KEY.match(key):
        raise ValueError("not a media key")
    return media_root() / key[:2] / key


def content_type(key: str) -> str:
    """The Content-Type a media key is served with."""
    return KINDS[key.rsplit(".", 1)[-1]].content_type


def url(key: str) -> str:
    """The URL of a media file."""
    return f"/media/{key}"


def mp4_duration_seconds(data: bytes) -> float | None:
    """The duration in an MP4's movie header (mvhd), or None if it cannot be read."""
    index = data.find(b"mvhd")
    if index < 4:
        return None
    version = data[index + 4]
    body = index + 8
    try:
        if version == 1:
            timescale = int.from_bytes(data[body + 16:body + 20], "big")
            duration = int.from_bytes(data[body + 20:body + 28], "big")
        else:
            timescale = int.from_bytes(data[body + 8:body + 12], "big")
            duration = int.from_bytes(data[body + 12:body + 16], "big")
    except IndexError:
        return None
    return duration / timescale if timescale else None
