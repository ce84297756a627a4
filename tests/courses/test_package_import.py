import time
from pathlib import Path

import pytest
from sqlalchemy import func, select

from app.courses import service
from app.courses.models import Course, CourseStatus, Lesson
from app.courses.package import PackageError, load_package
from tests import packages


def problems_of(root: Path) -> list[str]:
    with pytest.raises(PackageError) as info:
        load_package(root)
    return [str(p) for p in info.value.problems]


def test_mini_package_loads_with_translations_and_questions(tmp_path):
    package = load_package(packages.write_package(tmp_path / "mini"))
    assert package.spec.code == "TEST-MINI"
    assert [lesson.title["en"] for lesson in package.lessons] == [
        "Introduction", "A clip", "Card", "Scene"]
    assert package.lessons[0].bodies["zh_CN"].startswith("# 介绍")
    assert package.lessons[1].duration_seconds == 60.0
    assert [q.source.kind for q in package.questions] == ["true_false", "single", "multiple"]
    assert package.questions[1].options[0] == {"en": "Methane", "zh_CN": "甲烷"}


def test_unknown_key_is_refused_with_its_line(tmp_path):
    text = "code: TEST-X\nversion: 1\ncolour: red\n"
    found = problems_of(packages.write_package(tmp_path / "p", yaml_text=text))
    assert any(p.startswith("p/course.yaml:3: colour: unknown key 'colour'") for p in found)


def test_missing_lesson_file_and_bad_media_are_reported_with_lines(tmp_path):
    data = packages.course_yaml()
    data["modules"][0]["lessons"][0]["file"] = "lessons/nope.md"
    root = packages.write_package(tmp_path / "p", data=data,
                                  files={"media/card.pdf": b"not a pdf at all"})
    found = problems_of(root)
    assert any("lessons/nope.md: file not found" in p for p in found)
    assert any("media/card.pdf: the file is not one of: pdf" in p for p in found)
    assert all(p.startswith("p/course.yaml:") for p in found)


def test_unsupported_gift_type_is_refused_with_file_and_line(tmp_path):
    gift = packages.GIFT_EN + "\n::B-4::What is 2+2? {#4}\n"
    found = problems_of(packages.write_package(tmp_path / "p",
                                               files={"questions/basics.gift": gift}))
    assert "questions/basics.gift:9: numerical questions are not supported" in found


def test_translation_that_differs_is_refused(tmp_path):
    zh = packages.GIFT_ZH.replace("{=甲烷 ~二氧化碳 ~氮气}", "{~甲烷 =二氧化碳 ~氮气}")
    found = problems_of(packages.write_package(tmp_path / "p",
                                               files={"questions/basics.zh_CN.gift": zh}))
    assert any("question 'B-2' differs from the English one" in p for p in found)


def test_blueprint_needing_more_questions_than_the_bank_is_refused(tmp_path):
    data = packages.course_yaml()
    data["exam"]["blueprint"] = [{"category": "basics", "count": 5}]
    found = problems_of(packages.write_package(tmp_path / "p", data=data))
    assert any("category 'basics' has 3 questions, 5 are drawn" in p for p in found)


def test_panorama_must_be_equirectangular(tmp_path):
    found = problems_of(packages.write_package(tmp_path / "p",
                                               files={"media/scene.png": packages.png(50, 50)}))
    assert any("width = 2 × height" in p for p in found)


def test_import_is_idempotent_and_a_higher_version_publishes(tmp_path, db, settings_env):
    root = packages.write_package(tmp_path / "mini")
    first = service.import_package(db=db, package=load_package(root), by=None)
    again = service.import_package(db=db, package=load_package(root), by=None)
    assert (first.action, again.action) == ("created", "unchanged")
    assert again.course_id == first.course_id
    assert db.scalar(select(func.count()).select_from(Course)) == 1
    lesson = db.scalar(select(Lesson).where(Lesson.course_id == first.course_id,
                                            Lesson.kind == "text"))
    assert "/media/" in lesson.body["en"] and "../media/d.png" not in lesson.body["en"]

    changed = packages.course_yaml(title={"en": "Mini course, revised"})
    with pytest.raises(PackageError, match="raise 'version'"):
        service.import_package(db=db, package=load_package(
            packages.write_package(tmp_path / "mini", data=changed)), by=None)

    v2 = service.import_package(db=db, package=load_package(packages.write_package(
        tmp_path / "mini", data={**changed, "version": 2})), by=None)
    assert v2.action == "new_version"
    statuses = dict(db.execute(select(Course.version, Course.status)).all())
    assert statuses == {1: CourseStatus.ARCHIVED.value, 2: CourseStatus.PUBLISHED.value}


def test_cli_import_refuses_a_broken_package_whole(tmp_path, settings_env):
    from typer.testing import CliRunner

    from app.cli import app as cli

    good = packages.write_package(tmp_path / "all" / "good")
    data = packages.course_yaml(code="TEST-BAD")
    data["modules"][0]["lessons"][0]["minutes"] = 0
    packages.write_package(tmp_path / "all" / "bad", data=data)
    result = CliRunner().invoke(cli, ["courses", "import", str(tmp_path / "all")])
    assert result.exit_code == 1
    assert "good: TEST-MINI version 1 created" in result.output
    assert "bad: refused, nothing imported" in result.output
    assert "bad/course.yaml:" in result.output and "minutes" in result.output
    assert good.exists()


# --- hostile course.yaml (issue 9 item 14): clear errors, never a traceback or a hang --------

BILLION_LAUGHS = """\
a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]
b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]
c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]
d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]
e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]
f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]
g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]
h: &h [*g,*g,*g,*g,*g,*g,*g,*g,*g]
i: &i [*h,*h,*h,*h,*h,*h,*h,*h,*h]
"""


def write_raw(root: Path, content: bytes) -> Path:
    packages.write_package(root)
    (root / "course.yaml").write_bytes(content)
    return root


def test_yaml_alias_bomb_is_refused_at_once(tmp_path):
    assert len(BILLION_LAUGHS) < 500
    started = time.perf_counter()
    found = problems_of(write_raw(tmp_path / "p", BILLION_LAUGHS.encode()))
    assert time.perf_counter() - started < 2
    assert found == ["p/course.yaml:2: more than 100 uses of YAML aliases (*name)"]


def test_yaml_alias_expansion_is_counted(tmp_path, monkeypatch):
    from app.courses import package

    monkeypatch.setattr(package, "MAX_YAML_ALIASES", 10**9)
    found = problems_of(write_raw(tmp_path / "p", BILLION_LAUGHS.encode()))
    assert len(found) == 1 and "more than 50,000 values" in found[0]
    deep = "x: " + "[" * 100 + "]" * 100 + "\n"
    found = problems_of(write_raw(tmp_path / "q", deep.encode()))
    assert found == ["q/course.yaml:1: nested more than 40 levels deep"]
    recursive = "x: &x [*x]\n"
    assert problems_of(write_raw(tmp_path / "r", recursive.encode()))


def test_binary_and_non_utf8_course_yaml_are_refused_by_name(tmp_path):
    found = problems_of(write_raw(tmp_path / "bin", b"code: X\n\x89PNG\r\n\x1a\n\x00\x00\x00"))
    assert found == ["bin/course.yaml:4: binary content (a NUL byte): course.yaml must be "
                     "UTF-8 text"]
    found = problems_of(write_raw(tmp_path / "gbk", "code: X\ntitle: 煤矿\n".encode("gbk")))
    assert found == ["gbk/course.yaml:2: not UTF-8 text (byte 0xbf); save course.yaml as UTF-8"]
    found = problems_of(write_raw(tmp_path / "big", b"# " + b"x" * (1024 * 1024) + b"\n"))
    assert found == ["big/course.yaml:1: the file is 1,048,579 bytes; the limit is 1,048,576 "
                     "bytes"]


def test_out_of_range_integers_name_the_field(tmp_path):
    data = packages.course_yaml()
    data["version"] = 99999999999999999999999
    found = problems_of(packages.write_package(tmp_path / "v", data=data))
    assert len(found) == 1
    assert found[0].startswith("v/course.yaml:2: version: Input should be less than or equal "
                               "to 2147483647")
    data = packages.course_yaml()
    data["required_minutes"] = 10**12
    found = problems_of(packages.write_package(tmp_path / "m", data=data))
    assert len(found) == 1 and "required_minutes: Input should be less than or equal" in found[0]
    text = "code: TEST-X\nversion: " + "9" * 5000 + "\n"
    found = problems_of(packages.write_package(tmp_path / "d", yaml_text=text))
    assert len(found) == 1 and found[0].startswith("d/course.yaml:2: version: '99999")
    assert "is not a valid value" in found[0]


def test_cli_prints_the_refusal_and_exits_1(tmp_path, settings_env):
    from typer.testing import CliRunner

    from app.cli import app as cli

    write_raw(tmp_path / "all" / "bomb", BILLION_LAUGHS.encode())
    write_raw(tmp_path / "all" / "binary", b"\x00\x01\x02")
    data = packages.course_yaml(code="TEST-HUGE")
    data["version"] = 99999999999999999999999
    packages.write_package(tmp_path / "all" / "huge", data=data)
    result = CliRunner().invoke(cli, ["courses", "import", str(tmp_path / "all")])
    assert result.exit_code == 1
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert "Traceback" not in result.output
    for name in ("bomb", "binary", "huge"):
        assert f"{name}: refused, nothing imported" in result.output
    assert "bomb/course.yaml:2: more than 100 uses of YAML aliases" in result.output
    assert "binary/course.yaml:1: binary content" in result.output
    assert "huge/course.yaml:2: version: Input should be less than or equal to" in result.output
