"""Markdown to safe HTML: raw HTML is escaped by the parser and the result sanitized again."""

from __future__ import annotations

import html as htmllib
import re
from functools import lru_cache

import nh3
from markdown_it import MarkdownIt

_TAGS = {"p", "h1", "h2", "h3", "h4", "h5", "h6", "ul", "ol", "li", "strong", "em", "code",
         "pre", "blockquote", "hr", "br", "a", "img", "table", "thead", "tbody", "tr", "th", "td",
         "del", "sup", "sub"}
_ATTRIBUTES = {"a": {"href", "title"}, "img": {"src", "alt", "title"},
               "th": {"style"}, "td": {"style"}}


@lru_cache
def _parser() -> MarkdownIt:
    return MarkdownIt("commonmark", {"html": False, "linkify": False}).enable("table") \
        .enable("strikethrough")


def without_title(markdown: str) -> str:
    """The Markdown without its first '# heading' (the page shows the title already)."""
    lines = markdown.lstrip("\ufeff").splitlines()
    for index, line in enumerate(lines):
        if line.strip():
            return "\n".join(lines[index + 1:]) if line.startswith("# ") else markdown
    return markdown


def render(markdown: str) -> str:
    """Sanitized HTML for `markdown` (no script, no event handler, no foreign origin images)."""
    html = _parser().render(markdown)
    return nh3.clean(html, tags=_TAGS, attributes=_ATTRIBUTES, url_schemes={"https", "mailto"},
                     link_rel="noopener noreferrer nofollow",
                     filter_style_properties={"text-align"})


_TEXT_BLOCKS = {"p", "div", "pre", "li", "ul", "ol", "h1", "h2", "h3", "h4", "h5", "h6",
                "blockquote", "table", "tr", "hr"}
_TEXT_TAG = re.compile(r"<(/?)([a-z0-9]+)[^>]*>")


def html_to_text(html: str) -> str:
    """Plain text of untrusted HTML (e.g. a Moodle `[html]` question): sanitized by nh3 first
    (scripts, styles and comments go with their content), then block elements and <br> become
    line breaks, whitespace collapses as a browser would except inside <pre>, and entities are
    decoded. The result is text to be escaped on output, never markup."""
    cleaned = nh3.clean(html, tags=_TEXT_BLOCKS | {"br", "td", "th"}, attributes={},
                        link_rel=None, strip_comments=True)
    out: list[str] = []
    pre = 0
    position = 0

    def newline() -> None:
        if out and not out[-1].endswith("\n"):
            out.append("\n")

    for match in _TEXT_TAG.finditer(cleaned + "<end>"):
        chunk = htmllib.unescape(cleaned[position:match.start()])
        position = match.end()
        if pre:
            if chunk:
                out.append(chunk)
        elif chunk:
            chunk = re.sub(r"\s+", " ", chunk)
            if not out or out[-1].endswith("\n"):
                chunk = chunk.lstrip()
            if chunk:
                out.append(chunk)
        closing, tag = match.group(1), match.group(2)
        if tag == "br":
            out.append("\n")
        elif tag in ("td", "th") and closing:
            out.append(" ")
        elif tag in _TEXT_BLOCKS:
            if tag == "pre":
                pre = max(0, pre - 1) if closing else pre + 1
            newline()
    lines = [line.rstrip() for line in "".join(out).split("\n")]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip("\n").rstrip()
