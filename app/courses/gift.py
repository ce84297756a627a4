"""A parser for the GIFT kinds Pithead grades (COURSE_PACKAGE.md, docs/question-bank.md):
single choice, multiple choice/response with weights, true/false; with Moodle's categories
(the whole path), `::titles::`, `[html]`/`[moodle]`/`[plain]`/`[markdown]` markers on texts,
options and feedback, per-answer and general feedback, `// [id:..] [tag:..]` comments, escapes
and line breaks. Anything else is refused with its line.

Texts are plain text: an `[html]` text is sanitized and turned into text (line breaks kept),
so a page escapes it like any other. Escaped characters are swapped for Unicode
noncharacters while the structure is parsed (as Moodle swaps them for placeholders), so
`\\{`, `\\#`, `\\:` ... never count as syntax."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from typing import Literal

from app.courses.markdown import html_to_text

QuestionKind = Literal["single", "multiple", "true_false"]
MAX_QUESTIONS = 5_000
MAX_BYTES = 5 * 1024 * 1024
FORMATS = ("moodle", "html", "plain", "markdown")

# Escaped characters while parsing: noncharacters U+FDD0.. never occur in interchanged text
# (the control-character check refuses them in a file).
_ESCAPES = {"\\": "\ufdd0", ":": "\ufdd1", "#": "\ufdd2", "=": "\ufdd3", "{": "\ufdd4",
            "}": "\ufdd5", "~": "\ufdd6", "n": "\ufdd7"}
_RESTORE = str.maketrans({v: ("\n" if k == "n" else k) for k, v in _ESCAPES.items()})
_FORBIDDEN = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ufdd0-\ufdef]")
_CATEGORY = re.compile(r"^\$CATEGORY:(.*)$")
_CONTEXT = re.compile(r"^\$(course|system|module|cat\d*|coursecategory)\$$")
_FORMAT = re.compile(r"^\[(moodle|html|plain|markdown)\]")
_WEIGHT = re.compile(r"^%(-?\d+(?:\.\d+)?)%")
_ID = re.compile(r"\[id:((?:\\.|[^\]\\])*)\]")
_TAG = re.compile(r"\[tag:((?:\\.|[^\]\\])*)\]")


class GiftError(ValueError):
    """A GIFT problem, located by file and line."""

    def __init__(self, filename: str, line: int, message: str) -> None:
        super().__init__(f"{filename}:{line}: {message}")
        self.filename, self.line, self.message = filename, line, message


@dataclass
class GiftOption:
    text: str
    weight: float  # percent of the question's credit; right options > 0
    feedback: str = ""  # shown to a taker who chose this option


@dataclass
class GiftQuestion:
    category: str  # Moodle's path without its "$course$/top" part: "gas/detection"
    title: str
    text: str  # plain text; line breaks and indentation kept
    kind: QuestionKind
    options: list[GiftOption]  # true/false: [True, False], each with its feedback
    line: int
    feedback: str = ""  # the general feedback (`####`)
    tags: list[str] = field(default_factory=list)  # `// [tag:...]`, in order
    idnumber: str = ""  # `// [id:...]`
    text_format: str = "moodle"  # the format the file gave the question text
    comment_line: int = 0  # the first comment line carrying [id:] or [tag:] (0: none)

    @property
    def correct(self) -> list[int]:
        """Indexes of the options a right answer must choose (exactly these)."""
        return [i for i, option in enumerate(self.options) if option.weight > 0]

    @property
    def key(self) -> str:
        """The question's id in its file: the [id:] number, else the ::title::."""
        return self.idnumber or self.title


def _protect(text: str) -> str:
    out, i = [], 0
    while i < len(text):
        ch = text[i]
        if ch == "\\" and i + 1 < len(text) and text[i + 1] in _ESCAPES:
            out.append(_ESCAPES[text[i + 1]])
            i += 2
            continue
        out.append(ch)
        i += 1
    return "".join(out)


def _restore(text: str) -> str:
    return text.translate(_RESTORE)


def _formatted(raw: str, default: str) -> tuple[str, str]:
    """(plain text, format) of a protected text that may start with a [format] marker."""
    raw = raw.strip()
    fmt = default
    match = _FORMAT.match(raw)
    if match:
        fmt, raw = match.group(1), raw[match.end():]
    text = _restore(raw)
    if fmt == "html":
        text = html_to_text(text)
    lines = [line.rstrip() for line in text.split("\n")]
    return "\n".join(lines).strip("\n"), fmt


def _strip_text(text: str) -> str:
    # Drop blank lines and spaces around the text; keep the indentation of inner lines.
    lines = text.split("\n")
    while lines and not lines[0].strip():
        lines.pop(0)
    while lines and not lines[-1].strip():
        lines.pop()
    if lines:
        lines[0] = lines[0].lstrip()
    return "\n".join(lines)


def _one_line(text: str) -> str:
    return " ".join(text.split())


def check_characters(source: str, *, filename: str) -> None:
    """Refuse NUL and other control characters (tab and line breaks are fine), naming the
    line and column of the first one."""
    match = _FORBIDDEN.search(source)
    if match:
        char = match.group(0)
        line = source.count("\n", 0, match.start()) + 1
        column = match.start() - (source.rfind("\n", 0, match.start()) + 1) + 1
        name = "NUL" if char == "\0" else "a noncharacter" if char >= "\ufdd0" else \
            unicodedata.name(char, "a control character")
        raise GiftError(filename, line, f"column {column}: the character U+{ord(char):04X} "
                                        f"({name}) is not allowed in a GIFT file; remove it")


def category_path(raw: str) -> str:
    """A `$CATEGORY:` value as Pithead keeps it: Moodle's context (`$course$`, `$system$`...)
    and its `top` category dropped, parts trimmed; `//` (a slash inside a name) kept."""
    parts = [p.strip() for p in re.split(r"(?<!/)/(?!/)", raw.strip())]
    if parts and _CONTEXT.match(parts[0]):
        parts = parts[1:]
    if parts and parts[0] == "top":
        parts = parts[1:]
    return "/".join(parts)


def _comment_marks(comment: str) -> tuple[str, list[str]]:
    """([id:] number, [tag:] tags) of a comment line (`\\]` is a ']' inside them)."""
    idnumber = ""
    match = _ID.search(comment)
    if match:
        idnumber = match.group(1).replace("\\]", "]").strip()
    tags = [t.replace("\\]", "]").strip() for t in _TAG.findall(comment)]
    return idnumber, [t for t in tags if t]


def parse_gift(source: str, *, filename: str) -> list[GiftQuestion]:
    """Parse a GIFT file into questions; raises GiftError at the first unsupported construct,
    at a control character, past MAX_QUESTIONS questions or MAX_BYTES bytes."""
    if len(source) > MAX_BYTES or len(source.encode("utf-8", "surrogatepass")) > MAX_BYTES:
        raise GiftError(filename, 1, f"the file is larger than {MAX_BYTES // (1024 * 1024)} MB; "
                                     "split it into smaller files")
    if source.startswith("\ufeff"):
        source = source[1:]
    source = source.replace("\r\n", "\n").replace("\r", "\n")
    check_characters(source, filename=filename)
    category = ""
    questions: list[GiftQuestion] = []
    block: list[tuple[int, str]] = []
    comments: list[tuple[int, str]] = []

    def flush() -> None:
        nonlocal category
        if not block:
            comments.clear()
            return
        first_line, first = block[0]
        match = _CATEGORY.match(first.strip())
        if match:
            # A $CATEGORY line stands alone in Moodle; tolerate a question right below it.
            category = category_path(match.group(1))
            del block[0]
            if not block:
                comments.clear()
                return
        if len(questions) >= MAX_QUESTIONS:
            raise GiftError(filename, block[0][0], f"more than {MAX_QUESTIONS:,} questions in "
                                                   "one file; split it into smaller files")
        question = _parse_question("\n".join(t for _n, t in block), category, filename,
                                   block[0][0])
        for number, comment in comments:
            idnumber, tags = _comment_marks(comment)
            if (idnumber or tags) and not question.comment_line:
                question.comment_line = number
            question.idnumber = question.idnumber or idnumber
            question.tags.extend(tags)
        questions.append(question)
        block.clear()
        comments.clear()

    for number, raw in enumerate(source.split("\n"), start=1):
        stripped = raw.strip()
        if stripped.startswith("//"):
            comments.append((number, stripped))
            continue
        if not stripped:
            flush()
            continue
        if _CATEGORY.match(stripped) and block:
            flush()
        if _CATEGORY.match(stripped):
            comments.clear()
        block.append((number, raw.rstrip()))
    flush()
    return questions


def _parse_question(block: str, category: str, filename: str, line: int) -> GiftQuestion:
    text = _protect(block.strip())
    title = ""
    if text.startswith("::"):
        end = text.find("::", 2)  # an escaped colon is no longer a ':' here
        if end < 0:
            raise GiftError(filename, line, "the question title is not closed with '::'")
        title, text = _one_line(_restore(text[2:end])), text[end + 2:].strip()
    open_at = text.find("{")
    close_at = text.find("}")
    if 0 <= open_at < close_at:
        close_at = text.find("}", open_at + 1)
    elif close_at >= 0:
        open_at = -1
    if open_at < 0 and close_at < 0:
        raise GiftError(filename, line, "description items (no answer block '{...}') are not "
                                        "supported")
    if open_at < 0 or close_at < 0:
        raise GiftError(filename, line, "the answer block is not closed with '}'"
                        if open_at >= 0 else "a '}' has no '{' before it (write \\} for a "
                                             "brace in the text)")
    stem, answers, after = text[:open_at], text[open_at + 1:close_at], text[close_at + 1:]
    if after.strip():
        raise GiftError(filename, line, "missing-word questions (text after the answer block) "
                                        "are not supported")
    match = _FORMAT.match(stem.strip())
    fmt = match.group(1) if match else "moodle"
    stem_text, _fmt = _formatted(stem, "moodle")
    stem_text = _strip_text(stem_text)
    if not stem_text.strip():
        raise GiftError(filename, line, "the question has no text")
    kind, options, feedback = _parse_answers(answers, fmt, filename, line)
    return GiftQuestion(category=category, title=title, text=stem_text, kind=kind,
                        options=options, line=line, feedback=feedback, text_format=fmt)


def _parse_answers(body: str, fmt: str, filename: str,
                   line: int) -> tuple[QuestionKind, list[GiftOption], str]:
    body = body.strip()
    general_feedback = ""
    marker = body.rfind("####")
    if marker >= 0:
        general_feedback = _one_line(_formatted(body[marker + 4:], fmt)[0])
        body = body[:marker].strip()
    if not body:
        raise GiftError(filename, line, "essay questions (empty answer block) are not supported")
    if body.startswith("#"):
        raise GiftError(filename, line, "numerical questions are not supported")
    if "~" not in body and "=" in body and "->" in body:
        raise GiftError(filename, line, "matching questions are not supported")
    if "~" not in body:
        answer, *feedbacks = body.split("#", 2)
        head = answer.strip().upper()
        if head in ("T", "TRUE", "F", "FALSE"):
            # {T#shown to who answered wrong#shown to who answered right}
            if_wrong, if_right = [_one_line(_formatted(f, fmt)[0]) for f in feedbacks] + \
                [""] * (2 - len(feedbacks))
            truth = head.startswith("T")
            return "true_false", [
                GiftOption("True", 100.0 if truth else 0.0, if_right if truth else if_wrong),
                GiftOption("False", 0.0 if truth else 100.0, if_wrong if truth else if_right),
            ], general_feedback
        raise GiftError(filename, line, "short-answer questions (only '=' answers) are not "
                                        "supported")
    single = "=" in body
    chunks = body.replace("=", "~=").split("~")
    if chunks[0].strip():
        raise GiftError(filename, line, "answers must start with '=' or '~'")
    options: list[GiftOption] = []
    rights = 0
    for chunk in chunks[1:]:
        chunk = chunk.strip()
        right = chunk.startswith("=")
        if right:
            chunk = chunk[1:].lstrip()
            rights += 1
        weight_match = _WEIGHT.match(chunk)
        if weight_match:
            weight = float(weight_match.group(1))
            chunk = chunk[weight_match.end():]
            if not -100 <= weight <= 100:
                raise GiftError(filename, line, f"the weight {weight:g}% is not between -100% "
                                                "and 100%")
        else:
            weight = 100.0 if right else 0.0
        option_text, *option_feedback = chunk.split("#", 1)
        text = _one_line(_formatted(option_text, fmt)[0])
        if not text:
            raise GiftError(filename, line, "an answer option is empty")
        feedback = _one_line(_formatted(option_feedback[0], fmt)[0]) if option_feedback else ""
        options.append(GiftOption(text, weight, feedback))
    if len(options) < 2:
        raise GiftError(filename, line, "a choice question needs at least two options")
    positive = [o.weight for o in options if o.weight > 0]
    if not positive:
        raise GiftError(filename, line, "no option is marked right")
    if single:
        if rights > 1 and any(o.weight != 100 for o in options if o.weight > 0):
            raise GiftError(filename, line, "mixing '=' answers with weights is not supported")
        if rights > 1:
            raise GiftError(filename, line, "a single-choice question has exactly one '=' "
                                            "answer; for multiple answers use ~%50% weights")
        if positive != [100.0]:
            raise GiftError(filename, line, "a single-choice question ('=' answer) cannot give "
                                            "partial credit: the other options need weights "
                                            "of 0 or less")
        return "single", options, general_feedback
    if abs(sum(positive) - 100) > 0.5:
        raise GiftError(filename, line, f"the positive weights add up to {sum(positive):g}%, "
                                        "not 100%")
    return "multiple", options, general_feedback


def _escape_name(text: str) -> str:
    return "".join("\\" + ch if ch in "=~#{}:\\" else ch for ch in text).replace("\n", "\\n")


def _escape(text: str) -> str:
    escaped = _escape_name(text)
    # A text that starts like a [format] marker keeps it as text behind an explicit marker.
    return "[moodle]" + escaped if _FORMAT.match(escaped) else escaped


def _weight(value: float) -> str:
    return f"{value:.10g}"


def _comment(question: GiftQuestion) -> str:
    marks = [f"[id:{question.idnumber.replace(']', chr(92) + ']')}]"] if question.idnumber \
        else []
    marks += [f"[tag:{tag.replace(']', chr(92) + ']')}]" for tag in question.tags]
    return "// " + " ".join(marks) + "\n" if marks else ""


def to_gift(question: GiftQuestion) -> str:
    """A question as GIFT (the bank export), read back the same by parse_gift: its [id:] and
    [tag:] comment, title, text (line breaks as \\n), options with weights and feedback, and
    the general feedback."""
    head = _comment(question) + (f"::{_escape_name(question.title)}::" if question.title else "")
    general = f"####{_escape(question.feedback)}" if question.feedback else ""
    if question.kind == "true_false":
        true_option, false_option = question.options[0], question.options[1]
        truth = true_option.weight > 0
        right, wrong = (true_option, false_option) if truth else (false_option, true_option)
        answer = "TRUE" if truth else "FALSE"
        if wrong.feedback or right.feedback:
            answer += f"#{_escape(wrong.feedback)}"
        if right.feedback:
            answer += f"#{_escape(right.feedback)}"
        return f"{head}{_escape(question.text)} {{{answer}{general}}}"
    parts = []
    for option in question.options:
        if question.kind == "single":
            prefix = "=" if option.weight > 0 else "~" if option.weight == 0 else \
                f"~%{_weight(option.weight)}%"
        else:
            prefix = f"~%{_weight(option.weight)}%"
        feedback = f"#{_escape(option.feedback)}" if option.feedback else ""
        parts.append(f"{prefix}{_escape(option.text)}{feedback}")
    if general:
        parts.append(general)
    return f"{head}{_escape(question.text)} {{\n  " + "\n  ".join(parts) + "\n}"
