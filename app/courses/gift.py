"""A parser for the GIFT subset of COURSE_PACKAGE.md: single choice, weighted multiple choice,
true/false; categories, titles, feedback, escapes. Anything else is refused with its line."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Literal

QuestionKind = Literal["single", "multiple", "true_false"]
_ESCAPABLE = "=~#{}:\\"
_CATEGORY = re.compile(r"^\$CATEGORY:\s*(.+?)\s*$")
_WEIGHT = re.compile(r"^%(-?\d+(?:\.\d+)?)%")


class GiftError(ValueError):
    """A GIFT problem, located by file and line."""

    def __init__(self, filename: str, line: int, message: str) -> None:
        super().__init__(f"{filename}:{line}: {message}")
        self.filename, self.line, self.message = filename, line, message


@dataclass
class GiftOption:
    text: str
    weight: float  # percent of the question's credit; right options > 0
    feedback: str = ""


@dataclass
class GiftQuestion:
    category: str
    title: str
    text: str
    kind: QuestionKind
    options: list[GiftOption]
    line: int
    feedback: str = ""
    tags: list[str] = field(default_factory=list)

    @property
    def correct(self) -> list[int]:
        """Indexes of the options a right answer must choose (exactly these)."""
        return [i for i, option in enumerate(self.options) if option.weight > 0]


def _unescape(text: str) -> str:
    out, i = [], 0
    while i < len(text):
        ch = text[i]
        if ch == "\\" and i + 1 < len(text):
            nxt = text[i + 1]
            out.append("\n" if nxt == "n" else nxt if nxt in _ESCAPABLE else "\\" + nxt)
            i += 2
            continue
        out.append(ch)
        i += 1
    return "".join(out)


def _split_unescaped(text: str, separators: str) -> list[tuple[str, str]]:
    """Split `text` at unescaped separator characters: [(separator, chunk)], first sep ''."""
    parts: list[tuple[str, str]] = []
    current: list[str] = []
    sep = ""
    i = 0
    while i < len(text):
        ch = text[i]
        if ch == "\\" and i + 1 < len(text):
            current.append(text[i:i + 2])
            i += 2
            continue
        if ch in separators:
            parts.append((sep, "".join(current)))
            current, sep = [], ch
        else:
            current.append(ch)
        i += 1
    parts.append((sep, "".join(current)))
    return parts


def _find_unescaped(text: str, char: str, start: int = 0) -> int:
    i = start
    while i < len(text):
        if text[i] == "\\":
            i += 2
            continue
        if text[i] == char:
            return i
        i += 1
    return -1


def _clean(text: str) -> str:
    return re.sub(r"\s+", " ", _unescape(text)).strip()


def _blocks(source: str) -> list[tuple[int, list[str]]]:
    """Blank-line separated blocks with the line number of their first line; comments dropped."""
    blocks: list[tuple[int, list[str]]] = []
    current: list[str] = []
    start = 0
    for number, raw in enumerate(source.splitlines(), start=1):
        line = raw.rstrip()
        if line.lstrip().startswith("//"):
            continue
        if not line.strip():
            if current:
                blocks.append((start, current))
                current = []
            continue
        if not current:
            start = number
        current.append(line)
    if current:
        blocks.append((start, current))
    return blocks


def parse_gift(source: str, *, filename: str) -> list[GiftQuestion]:
    """Parse a GIFT file into questions; raises GiftError at the first unsupported construct."""
    if source.startswith("\ufeff"):
        source = source[1:]
    category = ""
    questions: list[GiftQuestion] = []
    for line, lines in _blocks(source):
        remaining = []
        for offset, text in enumerate(lines):
            match = _CATEGORY.match(text.strip())
            if match and not remaining:
                category = match.group(1).strip()
                if "/" in category:  # Moodle nests "$course$/top/name": keep the leaf
                    category = category.rsplit("/", 1)[-1].strip()
                continue
            remaining.append((line + offset, text))
        if remaining:
            first_line = remaining[0][0]
            questions.append(_parse_question(" \n".join(t for _n, t in remaining), category,
                                             filename, first_line))
    return questions


def _parse_question(block: str, category: str, filename: str, line: int) -> GiftQuestion:
    text = block.strip()
    title = ""
    if text.startswith("::"):
        end = text.find("::", 2)
        if end < 0:
            raise GiftError(filename, line, "the question title is not closed with '::'")
        title, text = _clean(text[2:end]), text[end + 2:].strip()
    fmt_match = re.match(r"^\[([a-zA-Z]+)\]", text)
    if fmt_match:
        fmt = fmt_match.group(1).lower()
        if fmt not in ("plain", "markdown", "moodle"):
            raise GiftError(filename, line, f"text format [{fmt}] is not supported "
                                            "(use [plain] or [markdown])")
        text = text[fmt_match.end():].strip()
    open_at = _find_unescaped(text, "{")
    if open_at < 0:
        raise GiftError(filename, line, "description items (no answer block '{...}') are not "
                                        "supported")
    close_at = _find_unescaped(text, "}", open_at)
    if close_at < 0:
        raise GiftError(filename, line, "the answer block is not closed with '}'")
    stem, answers, after = text[:open_at], text[open_at + 1:close_at], text[close_at + 1:]
    if after.strip():
        raise GiftError(filename, line, "missing-word questions (text after the answer block) "
                                        "are not supported")
    if not stem.strip():
        raise GiftError(filename, line, "the question has no text")
    kind, options, feedback = _parse_answers(answers, filename, line)
    return GiftQuestion(category=category, title=title, text=_clean(stem), kind=kind,
                        options=options, line=line, feedback=feedback)


def _parse_answers(body: str, filename: str,
                   line: int) -> tuple[QuestionKind, list[GiftOption], str]:
    body = body.strip()
    general_feedback = ""
    marker = body.find("####")
    if marker >= 0:
        general_feedback, body = _clean(body[marker + 4:]), body[:marker].strip()
    if not body:
        raise GiftError(filename, line, "essay questions (empty answer block) are not supported")
    if body.startswith("#"):
        raise GiftError(filename, line, "numerical questions are not supported")
    tf = _split_unescaped(body, "#")
    head = tf[0][1].strip().upper()
    if head in ("T", "TRUE", "F", "FALSE"):
        truth = head.startswith("T")
        # {T#shown when wrong#shown when right}: keep the explanation of the right answer.
        feedbacks = [_clean(chunk) for _sep, chunk in tf[1:]]
        explanation = feedbacks[-1] if feedbacks else ""
        options = [GiftOption("True", 100.0 if truth else 0.0),
                   GiftOption("False", 0.0 if truth else 100.0)]
        return "true_false", options, general_feedback or explanation
    parts = _split_unescaped(body, "=~")
    if parts[0][1].strip():
        raise GiftError(filename, line, "answers must start with '=' or '~'")
    if all(sep == "=" and "->" in chunk for sep, chunk in parts[1:]):
        raise GiftError(filename, line, "matching questions are not supported")
    options: list[GiftOption] = []
    rights = 0
    for sep, chunk in parts[1:]:
        weight_match = _WEIGHT.match(chunk.strip())
        chunk = chunk.strip()
        if weight_match:
            weight = float(weight_match.group(1))
            chunk = chunk[weight_match.end():]
        else:
            weight = 100.0 if sep == "=" else 0.0
        if sep == "=":
            rights += 1
        option_text, *option_feedback = [c for _s, c in _split_unescaped(chunk, "#")]
        if not _clean(option_text):
            raise GiftError(filename, line, "an answer option is empty")
        options.append(GiftOption(_clean(option_text), weight,
                                  _clean(option_feedback[0]) if option_feedback else ""))
    if len(options) < 2:
        raise GiftError(filename, line, "a choice question needs at least two options "
                                        "(short-answer questions are not supported)")
    if all(sep == "=" for sep, _c in parts[1:]):
        raise GiftError(filename, line, "short-answer questions (only '=' answers) are not "
                                        "supported")
    positive = [o.weight for o in options if o.weight > 0]
    if not positive:
        raise GiftError(filename, line, "no option is marked right")
    if rights == 1 and len(positive) == 1 and positive[0] == 100:
        return "single", options, general_feedback
    if rights > 1 and any(o.weight != 100 for o in options if o.weight > 0):
        raise GiftError(filename, line, "mixing '=' answers with weights is not supported")
    if rights > 1:
        raise GiftError(filename, line, "a single-choice question has exactly one '=' answer; "
                                        "for multiple answers use ~%50% weights")
    if abs(sum(positive) - 100) > 0.5:
        raise GiftError(filename, line, f"the positive weights add up to {sum(positive):g}%, "
                                        "not 100%")
    return ("multiple" if len(positive) > 1 else "single"), options, general_feedback


def to_gift(question: GiftQuestion) -> str:
    """Write a question back as GIFT (used by the bank export)."""

    def esc(text: str) -> str:
        return "".join("\\" + ch if ch in "=~#{}:\\" else ch for ch in text).replace("\n", "\\n")

    head = f"::{esc(question.title)}::" if question.title else ""
    if question.kind == "true_false":
        truth = question.options[0].weight > 0
        return f"{head}{esc(question.text)} {{{'TRUE' if truth else 'FALSE'}}}"
    parts = []
    for option in question.options:
        if question.kind == "single":
            prefix = "=" if option.weight > 0 else "~"
        else:
            prefix = f"~%{option.weight:g}%"
        feedback = f"#{esc(option.feedback)}" if option.feedback else ""
        parts.append(f"{prefix}{esc(option.text)}{feedback}")
    return f"{head}{esc(question.text)} {{\n  " + "\n  ".join(parts) + "\n}"
