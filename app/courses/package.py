"""Read and validate a course package folder (COURSE_PACKAGE.md + docs/course-packages.md).

Everything is checked before anything is written: the caller gets either a complete `Package`
or a PackageError listing every problem with its file and line.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from app import media
from app.courses.gift import GiftError, GiftQuestion, parse_gift
from app.organisations import reference

LOCALES = ("en", "zh_CN")
MAX_VERSION = 2**31 - 1  # the database column is a 32-bit integer
# A course.yaml is a few kilobytes. The limits stop a hostile one: 400 bytes of nested
# aliases ("billion laughs") expanded for over 120 s into 5 GB before these existed.
MAX_YAML_BYTES = 1024 * 1024
MAX_YAML_VALUES = 50_000
MAX_YAML_ALIASES = 100
MAX_YAML_DEPTH = 40
_IMAGE_LINK = re.compile(r"!\[([^\]]*)\]\(\s*([^)\s]+)(\s+\"[^\"]*\")?\s*\)")


@dataclass
class Problem:
    file: str
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.message}"


class PackageError(Exception):
    """A package that cannot be imported; `problems` says where and why."""

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__("\n".join(str(p) for p in problems))
        self.problems = problems


# --- course.yaml schema (unknown keys refused) ---------------------------------------------

class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=False)


def _check_localized(value: dict[str, str]) -> dict[str, str]:
    if not isinstance(value, dict):
        raise ValueError("must be a map of locale to text, e.g. {en: ..., zh_CN: ...}")
    unknown = set(value) - set(LOCALES)
    if unknown:
        raise ValueError(f"unknown locale(s) {sorted(unknown)}; use en and zh_CN")
    if not str(value.get("en", "")).strip():
        raise ValueError("the English text (en) is required")
    return {k: str(v).strip() for k, v in value.items() if str(v).strip()}


class HotspotSpec(_Strict):
    yaw: float = Field(ge=-180, le=180)
    pitch: float = Field(ge=-90, le=90)
    label: dict[str, str]
    hazard: bool = False
    description: dict[str, str] | None = None

    _label = field_validator("label")(_check_localized)

    @field_validator("description")
    @classmethod
    def _description(cls, value: dict[str, str] | None) -> dict[str, str] | None:
        return None if value is None else _check_localized(value)


class LessonSpec(_Strict):
    kind: Literal["text", "video", "document", "panorama", "case"]
    file: str
    minutes: int = Field(ge=1, le=600)
    title: dict[str, str] | None = None
    hotspots: list[HotspotSpec] | None = None

    @field_validator("title")
    @classmethod
    def _title(cls, value: dict[str, str] | None) -> dict[str, str] | None:
        return None if value is None else _check_localized(value)


class ModuleSpec(_Strict):
    title: dict[str, str]
    lessons: list[LessonSpec] = Field(min_length=1)

    _title = field_validator("title")(_check_localized)


class CertificateSpec(_Strict):
    title: dict[str, str]
    validity_years: int = Field(ge=1, le=50)
    review_years: int = Field(ge=1, le=50)

    _title = field_validator("title")(_check_localized)


class ChecklistItemSpec(_Strict):
    station: dict[str, str]
    item: dict[str, str]
    points: int = Field(ge=1, le=100)

    _station = field_validator("station")(_check_localized)
    _item = field_validator("item")(_check_localized)


class PracticalSpec(_Strict):
    pass_mark: int = Field(ge=0, le=100)
    checklist: list[ChecklistItemSpec] = []


class BlueprintItemSpec(_Strict):
    category: str = Field(min_length=1)
    count: int = Field(ge=1, le=500)


class ExamSpec(_Strict):
    title: dict[str, str]
    duration_minutes: int = Field(ge=1, le=600)
    pass_mark: int = Field(ge=0, le=100)
    max_attempts: int = Field(ge=1, le=20)
    requires_completion: bool = True
    blueprint: list[BlueprintItemSpec] = Field(min_length=1)

    _title = field_validator("title")(_check_localized)


class CourseSpec(_Strict):
    code: str = Field(pattern=r"^[A-Z0-9-]+$", max_length=64)
    version: int = Field(ge=1, le=MAX_VERSION)
    title: dict[str, str]
    job_category: str
    kind: Literal["initial", "refresher", "review", "general", "warning"]
    credit_hours: float = Field(ge=0, le=1000)
    required_minutes: int = Field(ge=0, le=100_000)
    practical_required: bool = False
    # The roles the course is offered to (an extension of the shared package format).
    audience: list[Literal["worker", "regulator"]] = Field(default=["worker"], min_length=1)
    certificate: CertificateSpec | None = None
    description: dict[str, str] | None = None
    modules: list[ModuleSpec] = Field(min_length=1)
    practical: PracticalSpec | None = None
    exam: ExamSpec | None = None

    _title = field_validator("title")(_check_localized)

    @field_validator("job_category")
    @classmethod
    def _job_category(cls, value: str) -> str:
        if value not in reference.job_category_codes():
            raise ValueError(f"unknown job category {value!r}")
        return value

    @field_validator("audience")
    @classmethod
    def _audience(cls, value: list[str]) -> list[str]:
        if len(set(value)) != len(value):
            raise ValueError("audience names a role twice")
        return value


# --- what a valid package holds -------------------------------------------------------------

@dataclass
class LessonData:
    module_index: int
    spec: LessonSpec
    title: dict[str, str]
    bodies: dict[str, str] = field(default_factory=dict)  # Markdown per locale
    media_bytes: bytes | None = None
    images: dict[str, bytes] = field(default_factory=dict)  # link target -> content
    duration_seconds: float | None = None


@dataclass
class QuestionData:
    """A question with its translations (text and options per locale)."""

    source: GiftQuestion
    file: str
    texts: dict[str, str]
    options: list[dict[str, str]]


@dataclass
class Package:
    root: Path
    spec: CourseSpec
    lessons: list[LessonData]
    questions: list[QuestionData]
    source_hash: str

    def questions_in(self, category: str) -> list[QuestionData]:
        return [q for q in self.questions if q.source.category == category]


# --- YAML with line numbers -----------------------------------------------------------------

def _read_text(path: Path, name: str) -> str:
    """course.yaml as text: small, UTF-8, no NUL bytes; anything else is a Problem."""
    try:
        size = path.stat().st_size
        if size > MAX_YAML_BYTES:
            raise PackageError([Problem(name, 1, f"the file is {size:,} bytes; the limit is "
                                                 f"{MAX_YAML_BYTES:,} bytes")])
        raw = path.read_bytes()
    except OSError as exc:
        raise PackageError([Problem(name, 1, f"cannot be read: {exc.strerror}")]) from None
    if b"\x00" in raw:
        line = raw[: raw.index(b"\x00")].count(b"\n") + 1
        raise PackageError([Problem(name, line, "binary content (a NUL byte): course.yaml must "
                                                "be UTF-8 text")])
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise PackageError([Problem(name, line, f"not UTF-8 text (byte 0x{raw[exc.start]:02x}); "
                                                "save course.yaml as UTF-8")]) from None


def _compose(text: str, filename: str) -> tuple[Any, dict[tuple[Any, ...], int]]:
    """The YAML document as Python data, and the line of every key/item path in it.

    Aliases are resolved here, not by PyYAML's constructor, so their expansion is counted:
    more than MAX_YAML_ALIASES uses, MAX_YAML_VALUES values or MAX_YAML_DEPTH levels is a
    Problem, as is a scalar that cannot be constructed (an integer of 5,000 digits)."""
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise PackageError([Problem(filename, (mark.line + 1) if mark else 1,
                                    f"not valid YAML: {getattr(exc, 'problem', exc)}")]) from None
    except RecursionError:
        raise PackageError([Problem(filename, 1, "not valid YAML: nested too deeply")]) from None
    lines: dict[tuple[Any, ...], int] = {}
    seen: set[int] = set()
    counts = {"values": 0, "aliases": 0}
    loader = yaml.SafeLoader("")

    def refuse(current: yaml.Node, message: str) -> PackageError:
        return PackageError([Problem(filename, current.start_mark.line + 1, message)])

    def convert(current: yaml.Node, path: tuple[Any, ...]) -> Any:
        lines[path] = current.start_mark.line + 1
        counts["values"] += 1
        if counts["values"] > MAX_YAML_VALUES:
            raise refuse(current, f"more than {MAX_YAML_VALUES:,} values (YAML aliases such as "
                                  "*name expand to copies): write the values out")
        if len(path) > MAX_YAML_DEPTH:
            raise refuse(current, f"nested more than {MAX_YAML_DEPTH} levels deep")
        if isinstance(current, yaml.MappingNode | yaml.SequenceNode):
            if id(current) in seen:  # the composer hands out the anchored node again
                counts["aliases"] += 1
                if counts["aliases"] > MAX_YAML_ALIASES:
                    raise refuse(current, f"more than {MAX_YAML_ALIASES} uses of YAML aliases "
                                          "(*name)")
            seen.add(id(current))
        if isinstance(current, yaml.MappingNode):
            result = {}
            for key_node, value_node in current.value:
                if not isinstance(key_node, yaml.ScalarNode):
                    raise refuse(key_node, "a key must be plain text")
                key = key_node.value
                lines[path + (key,)] = key_node.start_mark.line + 1
                result[key] = convert(value_node, path + (key,))
            return result
        if isinstance(current, yaml.SequenceNode):
            return [convert(item, path + (i,)) for i, item in enumerate(current.value)]
        try:
            return loader.construct_object(current, deep=True)
        except (yaml.YAMLError, ValueError, OverflowError) as exc:
            where = ".".join(str(p) for p in path) or "value"
            raise refuse(current, f"{where}: {current.value[:40]!r} is not a valid value "
                                  f"({exc})") from None

    if node is None:
        raise PackageError([Problem(filename, 1, "the file is empty")])
    return convert(node, ()), lines


def _line_of(lines: dict[tuple[Any, ...], int], loc: tuple[Any, ...]) -> int:
    for end in range(len(loc), -1, -1):
        if loc[:end] in lines:
            return lines[loc[:end]]
    return 1


# --- loading --------------------------------------------------------------------------------

def _inside(root: Path, relative: str) -> Path | None:
    candidate = (root / relative).resolve()
    return candidate if candidate.is_relative_to(root.resolve()) else None


def first_heading(markdown: str) -> str:
    for line in markdown.splitlines():
        if line.startswith("# "):
            return line[2:].strip()
    return ""


def load_package(root: Path) -> Package:
    """Read and validate the package at `root`; PackageError lists every problem found."""
    root = root.resolve()
    yaml_path = root / "course.yaml"
    if not yaml_path.is_file():
        raise PackageError([Problem(str(root.name) + "/course.yaml", 1, "course.yaml is missing")])
    name = f"{root.name}/course.yaml"
    raw_text = _read_text(yaml_path, name)
    data, lines = _compose(raw_text, name)
    try:
        spec = CourseSpec.model_validate(data)
    except ValidationError as exc:
        invalid = []
        for error in exc.errors():
            loc = tuple(error["loc"])
            message = error["msg"]
            if error["type"] == "extra_forbidden":
                message = f"unknown key {loc[-1]!r}"
            where = ".".join(str(p) for p in loc)
            invalid.append(Problem(name, _line_of(lines, loc), f"{where}: {message}"))
        raise PackageError(invalid) from None
    problems: list[Problem] = []
    hasher = hashlib.sha256(raw_text.encode())
    lessons = _load_lessons(root, spec, lines, name, problems, hasher)
    questions = _load_questions(root, problems, hasher)
    _check_blueprint(spec, questions, lines, name, problems)
    if spec.practical_required and spec.practical is None:
        pass  # the examiner then records pass/score only (COURSE_PACKAGE.md)
    if spec.practical and spec.practical.checklist:
        total = sum(item.points for item in spec.practical.checklist)
        if total != 100:
            problems.append(Problem(name, _line_of(lines, ("practical", "checklist")),
                                    f"practical.checklist: the points add up to {total}, not 100"))
    if problems:
        raise PackageError(problems)
    return Package(root=root, spec=spec, lessons=lessons, questions=questions,
                   source_hash=hasher.hexdigest())


def _load_lessons(root: Path, spec: CourseSpec, lines: dict[tuple[Any, ...], int], name: str,
                  problems: list[Problem], hasher: Any) -> list[LessonData]:
    lessons: list[LessonData] = []
    for m, module in enumerate(spec.modules):
        for n, lesson in enumerate(module.lessons):
            loc = ("modules", m, "lessons", n)
            line = _line_of(lines, loc + ("file",))
            path = _inside(root, lesson.file)
            if path is None or not path.is_file():
                problems.append(Problem(name, line, f"{lesson.file}: file not found in the "
                                                    "package"))
                continue
            content = path.read_bytes()
            hasher.update(lesson.file.encode() + b"\0" + content)
            item = LessonData(module_index=m, spec=lesson, title=dict(lesson.title or {}))
            if lesson.kind in ("text", "case"):
                _load_markdown(root, path, lesson, item, problems, hasher)
            else:
                _load_media(lesson, content, item, problems, name, line, lines, loc)
            if not item.title.get("en"):
                problems.append(Problem(name, _line_of(lines, loc), "the lesson needs a title "
                                        "(a 'title' map, or a '# heading' in its Markdown)"))
            lessons.append(item)
    return lessons


def _load_markdown(root: Path, path: Path, lesson: LessonSpec, item: LessonData,
                   problems: list[Problem], hasher: Any) -> None:
    rel = str(path.relative_to(root.resolve()))
    if path.suffix.lower() != ".md":
        problems.append(Problem(rel, 1, "a text or case lesson must be a Markdown (.md) file"))
        return
    variants = {"en": path, "zh_CN": path.with_name(path.stem + ".zh_CN.md")}
    for locale, variant in variants.items():
        if not variant.is_file():
            continue
        try:
            text = variant.read_text(encoding="utf-8")
        except UnicodeDecodeError as exc:
            problems.append(Problem(str(variant.relative_to(root.resolve())), 1,
                                    f"not UTF-8 text ({exc.reason})"))
            continue
        if locale != "en":
            hasher.update(text.encode())
        item.bodies[locale] = text
        heading = first_heading(text)
        if heading and locale not in item.title:
            item.title[locale] = heading
        for number, line in enumerate(text.splitlines(), start=1):
            for match in _IMAGE_LINK.finditer(line):
                target = match.group(2)
                if re.match(r"^[a-z]+:", target) or target.startswith("/"):
                    problems.append(Problem(str(variant.relative_to(root.resolve())), number,
                                            f"image {target}: only images inside the package "
                                            "may be used"))
                    continue
                image_path = _inside(root, str(variant.parent.relative_to(root.resolve())
                                               / target))
                if image_path is None or not image_path.is_file():
                    problems.append(Problem(str(variant.relative_to(root.resolve())), number,
                                            f"image {target} not found in the package"))
                    continue
                data = image_path.read_bytes()
                why = media.problem(data, allowed=media.IMAGE_KINDS)
                if why:
                    problems.append(Problem(str(variant.relative_to(root.resolve())), number,
                                            f"image {target}: {why}"))
                    continue
                item.images[target] = data
                hasher.update(data)


def _load_media(lesson: LessonSpec, content: bytes, item: LessonData, problems: list[Problem],
                name: str, line: int, lines: dict[tuple[Any, ...], int],
                loc: tuple[Any, ...]) -> None:
    allowed = {"video": {"mp4"}, "document": {"pdf"}, "panorama": {"jpg", "png", "webp"}}
    why = media.problem(content, allowed=allowed[lesson.kind])
    if why:
        problems.append(Problem(name, line, f"{lesson.file}: {why}"))
        return
    if not lesson.title:
        problems.append(Problem(name, _line_of(lines, loc), f"a {lesson.kind} lesson needs a "
                                                            "title"))
    if lesson.kind == "panorama":
        _check_panorama(content, lesson, problems, name, line)
    if lesson.kind != "panorama" and lesson.hotspots:
        problems.append(Problem(name, line, "only panorama lessons have hotspots"))
    if lesson.kind == "video":
        item.duration_seconds = media.mp4_duration_seconds(content)
        if not item.duration_seconds:
            problems.append(Problem(name, line, f"{lesson.file}: cannot read the video's "
                                                "duration (is it an MP4?)"))
    item.media_bytes = content


def image_size(content: bytes) -> tuple[int, int] | None:
    """Width and height of an image, or None if it cannot be read."""
    from io import BytesIO

    from PIL import Image

    try:
        with Image.open(BytesIO(content)) as image:
            return image.size
    except (OSError, Image.DecompressionBombError):
        return None


def is_equirectangular(width: int, height: int) -> bool:
    """A 360° panorama is equirectangular: width = 2 × height (within rounding)."""
    return abs(width - 2 * height) <= 2


def _check_panorama(content: bytes, lesson: LessonSpec, problems: list[Problem], name: str,
                    line: int) -> None:
    size = image_size(content)
    if size is None:
        problems.append(Problem(name, line, f"{lesson.file}: not a readable image"))
        return
    width, height = size
    if not is_equirectangular(width, height):
        problems.append(Problem(name, line, f"{lesson.file}: a 360° panorama is equirectangular "
                                            f"(width = 2 × height); this one is {width}×{height}"))


def _load_questions(root: Path, problems: list[Problem], hasher: Any) -> list[QuestionData]:
    folder = root / "questions"
    if not folder.is_dir():
        return []
    result: list[QuestionData] = []
    for path in sorted(folder.glob("*.gift")):
        if path.name.endswith(".zh_CN.gift"):
            continue
        rel = f"questions/{path.name}"
        parsed = _parse_file(path, rel, problems, hasher)
        if parsed is None:
            continue
        translated_path = path.with_name(path.stem + ".zh_CN.gift")
        translations: dict[str, GiftQuestion] = {}
        if translated_path.is_file():
            translated = _parse_file(translated_path, f"questions/{translated_path.name}",
                                     problems, hasher)
            if translated is not None:
                translations = _pair(parsed, translated, rel,
                                     f"questions/{translated_path.name}", problems)
        for question in parsed:
            if not question.category:
                problems.append(Problem(rel, question.line, "the question has no $CATEGORY"))
                continue
            texts = {"en": question.text}
            options = [{"en": o.text} for o in question.options]
            other = translations.get(question.title)
            if other is not None:
                texts["zh_CN"] = other.text
                for option, translated_option in zip(options, other.options, strict=True):
                    option["zh_CN"] = translated_option.text
            result.append(QuestionData(source=question, file=rel, texts=texts, options=options))
    for orphan in sorted(folder.glob("*.zh_CN.gift")):
        if not orphan.with_name(orphan.name.replace(".zh_CN.gift", ".gift")).is_file():
            problems.append(Problem(f"questions/{orphan.name}", 1, "a translation without its "
                                                                    "English bank"))
    titles: dict[str, tuple[str, int]] = {}
    for q in result:
        if q.source.title:
            if q.source.title in titles:
                first = titles[q.source.title]
                problems.append(Problem(q.file, q.source.line, f"question id {q.source.title!r} "
                                        f"is also used at {first[0]}:{first[1]}"))
            titles.setdefault(q.source.title, (q.file, q.source.line))
    return result


def _parse_file(path: Path, rel: str, problems: list[Problem],
                hasher: Any) -> list[GiftQuestion] | None:
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        problems.append(Problem(rel, 1, f"not UTF-8 text ({exc.reason})"))
        return None
    hasher.update(rel.encode() + b"\0" + text.encode())
    try:
        return parse_gift(text, filename=rel)
    except GiftError as exc:
        problems.append(Problem(exc.filename, exc.line, exc.message))
        return None


def _pair(english: list[GiftQuestion], chinese: list[GiftQuestion], en_file: str, zh_file: str,
          problems: list[Problem]) -> dict[str, GiftQuestion]:
    by_title = {q.title: q for q in chinese}
    paired: dict[str, GiftQuestion] = {}
    for question in english:
        if not question.title:
            problems.append(Problem(en_file, question.line, "a bank with a translation needs an "
                                                            "::ID:: title on every question"))
            continue
        other = by_title.get(question.title)
        if other is None:
            problems.append(Problem(zh_file, 1, f"question {question.title!r} is missing"))
            continue
        if other.kind != question.kind or len(other.options) != len(question.options) or \
                [o.weight for o in other.options] != [o.weight for o in question.options]:
            problems.append(Problem(zh_file, other.line, f"question {question.title!r} differs "
                                    "from the English one (kind, options or right answers)"))
            continue
        paired[question.title] = other
    extra = set(by_title) - {q.title for q in english}
    for title in sorted(extra):
        problems.append(Problem(zh_file, by_title[title].line, f"question {title!r} is not in "
                                                               "the English bank"))
    return paired


def _check_blueprint(spec: CourseSpec, questions: list[QuestionData],
                     lines: dict[tuple[Any, ...], int], name: str,
                     problems: list[Problem]) -> None:
    if spec.exam is None:
        return
    available: dict[str, int] = {}
    for q in questions:
        available[q.source.category] = available.get(q.source.category, 0) + 1
    for i, item in enumerate(spec.exam.blueprint):
        have = available.get(item.category, 0)
        if have < item.count:
            problems.append(Problem(name, _line_of(lines, ("exam", "blueprint", i)),
                                    f"exam.blueprint: category {item.category!r} has {have} "
                                    f"questions, {item.count} are drawn"))


def find_packages(path: Path) -> list[Path]:
    """`path` itself if it is a package, else every package folder directly under it."""
    if (path / "course.yaml").is_file():
        return [path]
    return sorted(p for p in path.iterdir() if (p / "course.yaml").is_file()) if path.is_dir() \
        else []
