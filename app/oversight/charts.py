"""Server-rendered SVG charts: accessible (role="img", <title>, <desc>, every mark labelled),
scalable to a phone (viewBox, width 100 %), no script. Each chart on the page is followed by a
table of the same numbers."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from itertools import count

from markupsafe import Markup

# Colours with enough contrast on white, told apart by position and label as well as hue.
PALETTE = ("#1f6f4a", "#b5651d", "#8a1c1c", "#c9a227", "#4a6fa5", "#6b4c9a")
_ids = count(1)


@dataclass(frozen=True)
class Bar:
    label: str
    value: float
    text: str  # the value as shown (e.g. "85 %")


@dataclass(frozen=True)
class Segment:
    label: str
    value: int


def _frame(title: str, desc: str, width: int, height: int, body: list[Markup]) -> Markup:
    # Markup.format escapes every argument: labels (enterprise names) cannot inject markup.
    return Markup(
        '<svg class="chart" viewBox="0 0 {w} {h}" width="100%" role="img" '
        'aria-labelledby="chart-{n}-t chart-{n}-d" preserveAspectRatio="xMinYMin meet" '
        'xmlns="http://www.w3.org/2000/svg"><title id="chart-{n}-t">{title}</title>'
        '<desc id="chart-{n}-d">{desc}</desc>{body}</svg>').format(
            w=width, h=height, n=next(_ids), title=title, desc=desc, body=Markup("").join(body))


def column_chart(*, title: str, desc: str, bars: Sequence[Bar], colour: str = PALETTE[0],
                 height: int = 180) -> Markup:
    """Vertical bars (a monthly trend), the value above each bar and its label below."""
    width = 360
    top, bottom = 18, 24
    plot = height - top - bottom
    peak = max((b.value for b in bars), default=0) or 1
    step = width / max(1, len(bars))
    body = [Markup('<line x1="0" y1="{y}" x2="{w}" y2="{y}" stroke="#888"/>').format(
        y=top + plot, w=width)]
    for i, bar in enumerate(bars):
        h = plot * bar.value / peak
        x = i * step + step * 0.15
        w = step * 0.7
        y = top + plot - h
        body.append(Markup(
            '<g><title>{label}: {text}</title>'
            '<rect x="{x:.1f}" y="{y:.1f}" width="{w:.1f}" height="{h:.1f}" fill="{colour}"/>'
            '<text x="{mid:.1f}" y="{above:.1f}" font-size="9" text-anchor="middle">{text}</text>'
            '<text x="{mid:.1f}" y="{base}" font-size="10" text-anchor="middle">{label}</text>'
            '</g>').format(label=bar.label, text=bar.text, x=x, y=y, w=w, h=h, colour=colour,
                           mid=x + w / 2, above=y - 3, base=height - 8))
    return _frame(title, desc, width, height, body)


def bar_chart(*, title: str, desc: str, bars: Sequence[Bar], maximum: float = 1.0,
              colour: str = PALETTE[4]) -> Markup:
    """Horizontal bars (rates by job category): label above, value at the end of the bar."""
    width, row = 360, 34
    height = max(row, row * len(bars)) + 4
    body: list[Markup] = []
    for i, bar in enumerate(bars):
        y = i * row
        w = (width - 60) * (bar.value / maximum if maximum else 0)
        body.append(Markup(
            '<g><title>{label}: {text}</title>'
            '<text x="0" y="{y1}" font-size="11">{label}</text>'
            '<rect x="0" y="{y2}" width="{w:.1f}" height="12" fill="{colour}"/>'
            '<text x="{x3:.1f}" y="{y3}" font-size="11">{text}</text></g>').format(
                label=bar.label, text=bar.text, y1=y + 11, y2=y + 15, w=max(w, 1),
                colour=colour, x3=w + 4, y3=y + 25))
    return _frame(title, desc, width, height, body)


def stacked_chart(*, title: str, desc: str, rows: Sequence[tuple[str, Sequence[Segment]]],
                  legend: Sequence[str]) -> Markup:
    """One 100 % bar per row (compliance by enterprise), with a legend."""
    width, row = 360, 34
    legend_rows = (len(legend) + 1) // 2
    height = legend_rows * 16 + max(row, row * len(rows)) + 8
    body: list[Markup] = []
    for i, name in enumerate(legend):
        lx, ly = (i % 2) * 180, (i // 2) * 16
        body.append(Markup(
            '<rect x="{x}" y="{y1}" width="10" height="10" fill="{colour}"/>'
            '<text x="{x2}" y="{y2}" font-size="10">{name}</text>').format(
                x=lx, y1=ly + 2, colour=PALETTE[i % len(PALETTE)], x2=lx + 14, y2=ly + 11,
                name=name))
    offset = legend_rows * 16 + 6
    for i, (label, segments) in enumerate(rows):
        y = offset + i * row
        total = sum(s.value for s in segments) or 1
        parts = ", ".join(f"{s.label} {s.value}" for s in segments)
        body.append(Markup('<g><title>{label}: {parts}</title>'
                           '<text x="0" y="{y1}" font-size="11">{label}</text>').format(
                               label=label, parts=parts, y1=y + 11))
        x = 0.0
        for j, segment in enumerate(segments):
            w = width * segment.value / total
            if w > 0:
                body.append(Markup(
                    '<rect x="{x:.1f}" y="{y1}" width="{w:.1f}" height="12" fill="{colour}"/>')
                    .format(x=x, y1=y + 15, w=w, colour=PALETTE[j % len(PALETTE)]))
            x += w
        body.append(Markup("</g>"))
    return _frame(title, desc, width, height, body)
