"""iCalendar (RFC 5545) text for practical sessions: a feed per worker and one per session.

Written by hand (a few dozen lines) rather than with a library: CRLF line ends, lines folded
at 75 octets without splitting a UTF-8 character, TEXT values escaped, times in UTC.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

PRODID = "-//Pithead//Practical tests//EN"
UID_DOMAIN = "pithead"
MAX_OCTETS = 75


@dataclass(frozen=True)
class Event:
    """One VEVENT."""

    uid: str
    start: datetime
    end: datetime
    summary: str
    location: str = ""
    description: str = ""
    url: str = ""
    status: str = "CONFIRMED"  # CONFIRMED, TENTATIVE or CANCELLED


def escape_text(value: str) -> str:
    """A TEXT value: backslash, semicolon and comma escaped, newlines as \\n (RFC 5545 3.3.11)."""
    value = value.replace("\r\n", "\n").replace("\r", "\n")
    return (value.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,")
            .replace("\n", "\\n"))


def utc_stamp(moment: datetime) -> str:
    """A DATE-TIME in UTC form: 20261201T013000Z."""
    if moment.tzinfo is None:
        raise ValueError("naive datetime in a calendar")
    return moment.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def fold(line: str) -> str:
    """Fold a content line into pieces of at most 75 octets (the continuation's leading space
    included), never inside a UTF-8 character; joined with CRLF."""
    pieces: list[str] = []
    current, size, limit = "", 0, MAX_OCTETS
    for char in line:
        width = len(char.encode("utf-8"))
        if size + width > limit:
            pieces.append(current)
            current, size, limit = "", 0, MAX_OCTETS - 1
        current += char
        size += width
    pieces.append(current)
    return "\r\n ".join(pieces)


def _property(name: str, value: str) -> str:
    return fold(f"{name}:{value}") + "\r\n"


def build(events: Iterable[Event], *, name: str, now: datetime) -> str:
    """A VCALENDAR with the events, ready to serve as text/calendar."""
    out = [_property("BEGIN", "VCALENDAR"), _property("VERSION", "2.0"),
           _property("PRODID", PRODID), _property("CALSCALE", "GREGORIAN"),
           _property("METHOD", "PUBLISH"), _property("X-WR-CALNAME", escape_text(name))]
    stamp = utc_stamp(now)
    for event in events:
        out += [_property("BEGIN", "VEVENT"),
                _property("UID", f"{event.uid}@{UID_DOMAIN}"),
                _property("DTSTAMP", stamp),
                _property("DTSTART", utc_stamp(event.start)),
                _property("DTEND", utc_stamp(event.end)),
                _property("SUMMARY", escape_text(event.summary)),
                _property("STATUS", event.status)]
        if event.location:
            out.append(_property("LOCATION", escape_text(event.location)))
        if event.description:
            out.append(_property("DESCRIPTION", escape_text(event.description)))
        if event.url:
            out.append(_property("URL", event.url))
        out.append(_property("END", "VEVENT"))
    out.append(_property("END", "VCALENDAR"))
    return "".join(out)
