"""Markdown to safe HTML: raw HTML is escaped by the parser and the result sanitized again."""

from __future__ import annotations

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
