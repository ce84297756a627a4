"""The hand-written iCalendar builder against RFC 5545: CRLF, folding at 75 octets without
splitting UTF-8 characters, TEXT escaping, UTC times; and a small parser that the page tests
use to read the feeds back."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone

import pytest

from app.practicals import calendar as ics

CONTENT_LINE = re.compile(r"^(?P<name>[A-Z][A-Z0-9-]*)(?P<params>(;[^:]*)?):(?P<value>.*)$")


def unescape(value: str) -> str:
    """A TEXT value back to plain text."""
    out, chars = [], iter(value)
    for char in chars:
        if char == "\\":
            following = next(chars)
            out.append("\n" if following in "nN" else following)
        else:
            out.append(char)
    return "".join(out)


def parse_ics(body: str) -> list[dict[str, str]]:
    """Every VEVENT of a VCALENDAR as {property: unescaped value}, after checking the framing
    (CRLF only, lines of at most 75 octets, BEGIN/END balanced, VERSION and PRODID present)."""
    raw = body.encode("utf-8")
    assert raw.endswith(b"\r\n")
    assert b"\n" not in raw.replace(b"\r\n", b""), "bare LF"
    physical = raw[:-2].split(b"\r\n")
    assert all(len(line) <= 75 for line in physical), [len(x) for x in physical if len(x) > 75]
    lines: list[str] = []
    for line in physical:
        text = line.decode("utf-8")  # each physical line is valid UTF-8 on its own
        if text.startswith((" ", "\t")):
            lines[-1] += text[1:]
        else:
            lines.append(text)
    assert lines[0] == "BEGIN:VCALENDAR" and lines[-1] == "END:VCALENDAR"
    props = [CONTENT_LINE.match(line) for line in lines]
    assert all(props), [line for line, m in zip(lines, props, strict=True) if not m]
    top = {m["name"] for m in props if m}
    assert {"VERSION", "PRODID"} <= top
    events: list[dict[str, str]] = []
    current: dict[str, str] | None = None
    depth = 0
    for match in props:
        assert match is not None
        name, value = match["name"], match["value"]
        if name == "BEGIN":
            depth += 1
            if value == "VEVENT":
                current = {}
        elif name == "END":
            depth -= 1
            if value == "VEVENT":
                assert current is not None
                events.append(current)
                current = None
        elif current is not None:
            current[name] = unescape(value)
    assert depth == 0
    return events


def utc(value: str) -> datetime:
    """A DATE-TIME in UTC form back to an aware datetime."""
    assert value.endswith("Z"), value
    return datetime.strptime(value, "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)


# --- the builder ------------------------------------------------------------------------------

def test_text_values_are_escaped():
    assert ics.escape_text("a,b;c\\d\ne\r\nf") == "a\\,b\\;c\\\\d\\ne\\nf"
    assert unescape(ics.escape_text("a,b;c\\d\ne")) == "a,b;c\\d\ne"


def test_folding_keeps_lines_within_75_octets_and_utf8_characters_whole():
    line = "SUMMARY:" + "瓦斯检查工实操考试" * 12 + "x" * 50
    folded = ics.fold(line)
    pieces = folded.split("\r\n")
    assert len(pieces) > 3
    assert all(len(p.encode("utf-8")) <= 75 for p in pieces)
    assert all(p.startswith(" ") for p in pieces[1:])
    # A piece never ends inside a 3-octet character: each decodes on its own.
    assert all(p.encode("utf-8").decode("utf-8") == p for p in pieces)
    # No octet is lost: joining the pieces back gives the line.
    assert pieces[0] + "".join(p[1:] for p in pieces[1:]) == line
    # The first piece is filled as far as a whole character allows.
    assert 73 <= len(pieces[0].encode("utf-8")) <= 75
    assert ics.fold("SHORT:line") == "SHORT:line"
    exact = "X:" + "a" * 73
    assert ics.fold(exact) == exact and ics.fold(exact + "b") == exact + "\r\n b"


def test_times_are_written_in_utc():
    beijing = timezone(timedelta(hours=8))
    assert ics.utc_stamp(datetime(2026, 12, 1, 9, 30, tzinfo=beijing)) == "20261201T013000Z"
    with pytest.raises(ValueError):
        ics.utc_stamp(datetime(2026, 12, 1, 9, 30))


def test_a_calendar_parses_back_with_every_event_and_field():
    start = datetime(2026, 12, 1, 1, 0, tzinfo=UTC)
    events = [
        ics.Event(uid="practical-session-7", start=start, end=start + timedelta(hours=3),
                  summary="实操考试: 瓦斯检查工, initial; part 1",
                  location="太原矿山安全实操考试基地, 1 Mine Road",
                  description="Line one\nLine two, with \\ and ; " + "长" * 40,
                  url="http://testserver/practicals/sessions/7"),
        ics.Event(uid="practical-session-8", start=start + timedelta(days=7),
                  end=start + timedelta(days=7, hours=3), summary="Cancelled one",
                  status="CANCELLED"),
    ]
    now = datetime(2026, 11, 28, 12, 0, 5, tzinfo=UTC)
    body = ics.build(events, name="My practical tests, 2026", now=now)
    assert body.startswith("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:")
    assert "X-WR-CALNAME:My practical tests\\, 2026\r\n" in body
    parsed = parse_ics(body)
    assert [e["UID"] for e in parsed] == ["practical-session-7@pithead",
                                          "practical-session-8@pithead"]
    first, second = parsed
    assert utc(first["DTSTART"]) == start and utc(first["DTEND"]) == start + timedelta(hours=3)
    assert first["DTSTAMP"] == "20261128T120005Z"
    assert first["SUMMARY"] == "实操考试: 瓦斯检查工, initial; part 1"
    assert first["LOCATION"] == "太原矿山安全实操考试基地, 1 Mine Road"
    assert first["DESCRIPTION"] == "Line one\nLine two, with \\ and ; " + "长" * 40
    assert first["STATUS"] == "CONFIRMED" and second["STATUS"] == "CANCELLED"
    assert "LOCATION" not in second and "DESCRIPTION" not in second


def test_the_parser_rejects_bare_line_feeds_and_long_lines():
    good = ics.build([], name="x", now=datetime(2026, 1, 1, tzinfo=UTC))
    assert parse_ics(good) == []
    with pytest.raises(AssertionError):
        parse_ics(good.replace("\r\n", "\n"))
    with pytest.raises(AssertionError):
        parse_ics(good.replace("X-WR-CALNAME:x", "X-WR-CALNAME:" + "x" * 80))
