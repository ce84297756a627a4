"""Course authoring by trainers: drafts, modules, lessons of every kind with checked uploads,
reordering, preview as a learner, publish (older versions archived), new versions, archive;
through the pages and through the JSON API; non-trainers refused."""

from __future__ import annotations

import re
import struct

import pytest
from sqlalchemy import func, select

from app import config, media
from app import db as app_db
from app.accounts.models import AuditEvent, Role
from app.courses import service
from app.courses.models import Course, Lesson, Module
from app.courses.package import load_package
from app.errors import Conflict
from app.learning import service as learning
from app.learning.models import Enrolment
from tests import factories as f
from tests import packages

COURSE_FORM = {"code": "ROOF-SUPPORT", "title_en": "Roof support basics",
               "title_zh_CN": "顶板支护基础", "description_en": "Why roofs fall.",
               "description_zh_CN": "", "job_category": "general.underground",
               "kind": "general", "credit_hours": "4", "required_minutes": "120",
               "practical_required": "on"}


# --- helpers --------------------------------------------------------------------------------

def _read(course_id: int) -> Course:
    """The course as stored now, with modules and lessons (a fresh session)."""
    with app_db.open_session(write=False) as s:
        return service.get_course_or_404(db=s, course_id=course_id, structure=True)


def _count(model) -> int:  # type: ignore[no-untyped-def]
    with app_db.open_session(write=False) as s:
        return s.scalar(select(func.count()).select_from(model)) or 0


def _actions() -> list[str]:
    with app_db.open_session(write=False) as s:
        return list(s.scalars(select(AuditEvent.action).where(AuditEvent.action.like("course.%"))
                              .order_by(AuditEvent.id)))


def _media_files() -> list[str]:
    root = config.get_settings().media_dir
    return sorted(p.name for p in root.rglob("*") if p.is_file()) if root.exists() else []


def _outline(course_id: int) -> list[tuple[str, list[str]]]:
    course = _read(course_id)
    return [(m.title["en"], [lesson.title["en"] for lesson in m.lessons]) for m in course.modules]


def _positions(course_id: int) -> list[tuple[int, list[int]]]:
    course = _read(course_id)
    return [(m.position, [lesson.position for lesson in m.lessons]) for m in course.modules]


class Browser:
    """A signed-in trainer's browser: posts forms with the session's CSRF token."""

    def __init__(self, client, username: str) -> None:  # type: ignore[no-untyped-def]
        self.client = client
        self.csrf = f.login(client, username)

    def post(self, url: str, data: dict | None = None, files: dict | None = None):  # type: ignore[no-untyped-def]
        return self.client.post(url, data={**(data or {}), "csrf_token": self.csrf},
                                files=files, follow_redirects=False)

    def get(self, url: str):  # type: ignore[no-untyped-def]
        return self.client.get(url, follow_redirects=False)


def _new_course(browser: Browser, **overrides: str) -> int:
    response = browser.post("/author/new", {**COURSE_FORM, **overrides})
    assert response.status_code == 303, response.text
    match = re.fullmatch(r"/author/courses/(\d+)", response.headers["location"])
    assert match, response.headers["location"]
    return int(match.group(1))


def _add_module(browser: Browser, course_id: int, en: str, zh: str = "") -> int:
    response = browser.post(f"/author/courses/{course_id}/modules",
                            {"title_en": en, "title_zh_CN": zh})
    assert response.status_code == 303, response.text
    return int(response.headers["location"].rsplit("#module-", 1)[1])


def _add_lesson(browser: Browser, course_id: int, module_id: int, kind: str, data: dict,
                file: tuple[str, bytes, str] | None = None):  # type: ignore[no-untyped-def]
    return browser.post(f"/author/courses/{course_id}/modules/{module_id}/lessons",
                        {"kind": kind, **data}, files={"file": file} if file else None)


def _lesson_ids(course_id: int) -> dict[str, int]:
    course = _read(course_id)
    return {lesson.title["en"]: lesson.id for m in course.modules for lesson in m.lessons}


@pytest.fixture
def trainer(db):  # type: ignore[no-untyped-def]
    user = f.user(db, Role.TRAINER, username="trainer1", full_name="Trainer One")
    db.commit()
    return user


@pytest.fixture
def browser(client, trainer) -> Browser:  # type: ignore[no-untyped-def]
    return Browser(client, "trainer1")


@pytest.fixture
def published(db, tmp_path) -> Course:  # type: ignore[no-untyped-def]
    """The mini package course (TEST-MINI v1), imported and published."""
    outcome = service.import_package(db=db, package=load_package(
        packages.write_package(tmp_path / "mini")), by=None)
    db.commit()
    return _read(outcome.course_id)


def _fake_mp4() -> bytes:
    return b"This is a text file with an .mp4 name, not a video.\n" * 20


def _oversized_png() -> bytes:
    return b"\x89PNG\r\n\x1a\n" + b"\0" * (media.KINDS["png"].max_bytes + 16)


def _mp4_without_duration() -> bytes:
    return struct.pack(">I4s4sI8s", 24, b"ftyp", b"isom", 512, b"isomiso2") + b"\0" * 64


# --- pages: the whole flow ------------------------------------------------------------------

def test_trainer_builds_a_draft_with_every_kind_of_lesson_and_publishes_it(client, db, browser):
    home = browser.get("/author")
    assert home.status_code == 200 and 'href="/author/new"' in home.text
    assert 'href="/author">Authoring</a>' in home.text  # the nav link for trainers

    course_id = _new_course(browser)
    course = _read(course_id)
    assert (course.code, course.version, course.status) == ("ROOF-SUPPORT", 1, "draft")
    assert course.title == {"en": "Roof support basics", "zh_CN": "顶板支护基础"}
    assert course.description == {"en": "Why roofs fall."}
    assert (course.job_category, course.kind, course.credit_hours, course.required_minutes,
            course.practical_required) == ("general.underground", "general", 4.0, 120, True)
    assert course.created_by is not None and course.modules == []

    basics = _add_module(browser, course_id, "Basics", "基础")
    media_module = _add_module(browser, course_id, "Media")

    text = _add_lesson(browser, course_id, basics, "text", {
        "title_en": "", "title_zh_CN": "", "minutes": "5",
        "body_en": "# Why roofs fall\r\n\r\nCheck the roof **before** you work.\r\n",
        "body_zh_CN": "# 顶板为何冒落\n\n作业前检查顶板。"})
    assert text.status_code == 303, text.text
    case = _add_lesson(browser, course_id, basics, "case", {
        "title_en": "The 2019 roof fall", "minutes": "7",
        "body_en": "# A heading that is not the title\n\nThree men were hurt.",
        "body_zh_CN": ""})
    assert case.status_code == 303, case.text
    video = _add_lesson(browser, course_id, media_module, "video",
                        {"title_en": "Barring down", "title_zh_CN": "敲帮问顶", "minutes": "3"},
                        ("clip.mp4", packages.mp4(95.5), "video/mp4"))
    assert video.status_code == 303, video.text
    document = _add_lesson(browser, course_id, media_module, "document",
                           {"title_en": "Support card", "minutes": "2"},
                           ("card.pdf", packages.pdf(), "application/pdf"))
    assert document.status_code == 303, document.text
    panorama = _add_lesson(browser, course_id, media_module, "panorama",
                           {"title_en": "Heading 3 scene", "minutes": "4"},
                           ("scene.png", packages.png(128, 64), "image/png"))
    assert panorama.status_code == 303, panorama.text
    ids = _lesson_ids(course_id)
    assert panorama.headers["location"] == \
        f"/author/courses/{course_id}/lessons/{ids['Heading 3 scene']}#hotspots"

    course = _read(course_id)
    lessons = {lesson.kind: lesson for m in course.modules for lesson in m.lessons}
    assert lessons["text"].title == {"en": "Why roofs fall", "zh_CN": "顶板为何冒落"}
    assert lessons["text"].body == {"en": "# Why roofs fall\n\nCheck the roof **before** you "
                                          "work.\n",
                                    "zh_CN": "# 顶板为何冒落\n\n作业前检查顶板。\n"}
    assert lessons["case"].title == {"en": "The 2019 roof fall"}
    assert lessons["video"].media_key == media.store(packages.mp4(95.5))
    assert lessons["video"].duration_seconds == 95.5
    assert lessons["video"].title == {"en": "Barring down", "zh_CN": "敲帮问顶"}
    assert lessons["document"].media_key.endswith(".pdf")
    assert lessons["panorama"].media_key.endswith(".png")
    assert [(lesson.kind, lesson.position, lesson.minutes) for m in course.modules
            for lesson in m.lessons] == [("text", 1, 5), ("case", 2, 7), ("video", 1, 3),
                                         ("document", 2, 2), ("panorama", 3, 4)]
    assert len(_media_files()) == 3

    # Hotspots: "add a row" shows one more row and saves nothing; then two rows are saved.
    hotspots_url = f"/author/courses/{course_id}/lessons/{ids['Heading 3 scene']}/hotspots"
    more = browser.post(hotspots_url, {"rows": "1", "action": "add", "hotspots_0_yaw": "30",
                                       "hotspots_0_pitch": "-5",
                                       "hotspots_0_label_en": "Loose cable"})
    assert more.status_code == 200
    assert 'name="hotspots_1_yaw"' in more.text and 'name="hotspots_2_yaw"' not in more.text
    assert 'value="Loose cable"' in more.text
    assert _read(course_id).modules[1].lessons[2].hotspots == []
    saved = browser.post(hotspots_url, {
        "rows": "3", "action": "save",
        "hotspots_0_yaw": "30", "hotspots_0_pitch": "-5", "hotspots_0_label_en": "Loose cable",
        "hotspots_0_label_zh_CN": "松动电缆", "hotspots_0_description_en": "Hang it up.",
        "hotspots_0_hazard": "on",
        "hotspots_1_yaw": "", "hotspots_1_pitch": "", "hotspots_1_label_en": "",
        "hotspots_2_yaw": "-120.5", "hotspots_2_pitch": "10", "hotspots_2_label_en": "Refuge"})
    assert saved.status_code == 303, saved.text
    assert _read(course_id).modules[1].lessons[2].hotspots == [
        {"yaw": 30.0, "pitch": -5.0, "label": {"en": "Loose cable", "zh_CN": "松动电缆"},
         "hazard": True, "description": {"en": "Hang it up."}},
        {"yaw": -120.5, "pitch": 10.0, "label": {"en": "Refuge"}, "hazard": False}]
    removed = browser.post(hotspots_url, {
        "rows": "2", "action": "save",
        "hotspots_0_yaw": "30", "hotspots_0_pitch": "-5", "hotspots_0_label_en": "Loose cable",
        "hotspots_0_hazard": "on",
        "hotspots_1_yaw": "-120.5", "hotspots_1_pitch": "10", "hotspots_1_label_en": "Refuge",
        "hotspots_1_remove": "on"})
    assert removed.status_code == 303
    assert [s["label"]["en"] for s in _read(course_id).modules[1].lessons[2].hotspots] == \
        ["Loose cable"]

    # The editor shows everything, with the course ready to publish.
    editor = browser.get(f"/author/courses/{course_id}")
    assert editor.status_code == 200
    assert "Ready to publish." in editor.text
    for title in ("Why roofs fall", "The 2019 roof fall", "Barring down", "Support card",
                  "Heading 3 scene", "Basics", "Media"):
        assert title in editor.text

    # Publish: the version is live in the catalogue.
    published = browser.post(f"/author/courses/{course_id}/publish", {"confirm": "yes"})
    assert published.status_code == 303
    course = _read(course_id)
    assert course.status == "published" and course.published_at is not None
    assert "Roof support basics" in client.get("/courses").text
    assert _actions() == ["course.draft_created", "course.module_added", "course.module_added",
                          *["course.lesson_added"] * 5, "course.hotspots_set",
                          "course.hotspots_set", "course.published"]


def test_reorder_modules_and_lessons_with_plain_forms(browser):
    course_id = _new_course(browser)
    first = _add_module(browser, course_id, "First")
    second = _add_module(browser, course_id, "Second")
    for title in ("A", "B", "C"):
        assert _add_lesson(browser, course_id, first, "text",
                           {"title_en": title, "minutes": "1",
                            "body_en": f"Text {title}"}).status_code == 303
    ids = _lesson_ids(course_id)

    assert browser.post(f"/author/courses/{course_id}/modules/{second}/move",
                        {"direction": "up"}).status_code == 303
    assert _outline(course_id) == [("Second", []), ("First", ["A", "B", "C"])]
    # At the top already: nothing moves.
    browser.post(f"/author/courses/{course_id}/modules/{second}/move", {"direction": "up"})
    assert _outline(course_id) == [("Second", []), ("First", ["A", "B", "C"])]

    browser.post(f"/author/courses/{course_id}/lessons/{ids['A']}/move", {"direction": "down"})
    browser.post(f"/author/courses/{course_id}/lessons/{ids['C']}/move", {"direction": "up"})
    assert _outline(course_id) == [("Second", []), ("First", ["B", "C", "A"])]
    assert _positions(course_id) == [(1, []), (2, [1, 2, 3])]

    # Editing a lesson with another module moves it to the end of that module.
    moved = browser.post(f"/author/courses/{course_id}/lessons/{ids['C']}",
                         {"title_en": "C", "minutes": "2", "body_en": "Text C",
                          "module_id": str(second)})
    assert moved.status_code == 303, moved.text
    assert _outline(course_id) == [("Second", ["C"]), ("First", ["B", "A"])]
    assert _positions(course_id) == [(1, [1]), (2, [1, 2])]

    # Deleting renumbers what is left.
    assert browser.post(f"/author/courses/{course_id}/lessons/{ids['B']}/delete").status_code \
        == 303
    assert browser.post(f"/author/courses/{course_id}/modules/{second}/delete").status_code \
        == 303
    assert _outline(course_id) == [("First", ["A"])]
    assert _positions(course_id) == [(1, [1])]
    assert _count(Lesson) == 1 and _count(Module) == 1


def test_preview_shows_the_lesson_as_learners_see_it_without_an_enrolment(browser):
    course_id = _new_course(browser)
    module = _add_module(browser, course_id, "Only")
    _add_lesson(browser, course_id, module, "text",
                {"minutes": "5", "body_en": "# Gas\n\nMethane rises. <script>alert(1)</script>"})
    _add_lesson(browser, course_id, module, "panorama", {"title_en": "Scene", "minutes": "2"},
                ("s.png", packages.png(64, 32), "image/png"))
    ids = _lesson_ids(course_id)
    browser.post(f"/author/courses/{course_id}/lessons/{ids['Scene']}/hotspots", {
        "rows": "1", "action": "save", "hotspots_0_yaw": "10", "hotspots_0_pitch": "0",
        "hotspots_0_label_en": "Open flame", "hotspots_0_hazard": "on"})

    page = browser.get(f"/author/courses/{course_id}/lessons/{ids['Gas']}/preview")
    assert page.status_code == 200
    assert "<h1>Gas</h1>" in page.text and "<p>Methane rises." in page.text
    assert "<script>alert(1)</script>" not in page.text
    assert "Preview: this is what learners see. No study time is credited." in page.text
    assert "data-beat-url" not in page.text and "data-hotspot-url" not in page.text
    assert "/learn/" not in page.text
    assert f'href="/author/courses/{course_id}/lessons/{ids["Scene"]}/preview" rel="next"' \
        in page.text
    assert f'href="/author/courses/{course_id}"' in page.text
    assert "Lesson 1 of 2" in page.text

    scene = browser.get(f"/author/courses/{course_id}/lessons/{ids['Scene']}/preview")
    assert scene.status_code == 200
    assert "Open flame" in scene.text and "Find all 1 hazards" in scene.text
    # The preview judges taps in the page (the author knows the hazards) and records nothing.
    assert 'data-mode="local"' in scene.text and "data-tap-url" not in scene.text
    assert _count(Enrolment) == 0


# --- pages: bad input -----------------------------------------------------------------------

def test_bad_course_form_is_shown_again_with_messages_and_nothing_written(browser):
    response = browser.post("/author/new", {**COURSE_FORM, "code": "roof support",
                                            "title_en": " ", "job_category": "miner",
                                            "credit_hours": "lots", "required_minutes": "-5"})
    assert response.status_code == 400
    for message in ("Use capital letters, digits and hyphens only",
                    "The English text is required.", "Choose a job category from the list.",
                    "Enter a number of class hours from 0 to 1000.",
                    "Enter a number of minutes from 0 to 100000."):
        assert message in response.text
    assert 'value="roof support"' in response.text and 'value="顶板支护基础"' in response.text
    assert _count(Course) == 0 and _actions() == []


def test_bad_uploads_are_refused_with_a_specific_message_and_nothing_written(browser):
    course_id = _new_course(browser)
    module = _add_module(browser, course_id, "Media")
    before = _actions()
    cases = [
        ("video", ("clip.mp4", _fake_mp4(), "video/mp4"),
         "The file&#39;s content is not mp4 (it was checked, not its name)."),
        ("video", ("card.mp4", packages.pdf(), "video/mp4"), "The file&#39;s content is not mp4"),
        ("video", ("clip.mp4", _mp4_without_duration(), "video/mp4"),
         "The video&#39;s duration cannot be read"),
        ("document", ("card.pdf", packages.png(), "application/pdf"),
         "The file&#39;s content is not pdf"),
        ("panorama", ("huge.png", _oversized_png(), "image/png"),
         "The file is larger than 5 MB."),
        ("panorama", ("square.png", packages.png(64, 64), "image/png"),
         "this image is 64×64"),
        ("panorama", None, "Choose a file to upload."),
    ]
    for kind, file, message in cases:
        response = _add_lesson(browser, course_id, module, kind,
                               {"title_en": "Upload", "minutes": "3"}, file)
        assert response.status_code == 400, (kind, response.text[:300])
        assert message in response.text, (kind, message)
        assert "Choose the file again." in response.text
    assert _count(Lesson) == 0
    assert _media_files() == []
    assert _actions() == before


def test_bad_lesson_and_hotspot_forms_keep_what_was_stored(browser):
    course_id = _new_course(browser)
    module = _add_module(browser, course_id, "Only")
    missing = _add_lesson(browser, course_id, module, "text",
                          {"title_en": "", "minutes": "0", "body_en": "  "})
    assert missing.status_code == 400
    assert "Write the lesson&#39;s English text." in missing.text
    assert "Enter the study time in minutes, from 1 to 600." in missing.text
    assert _count(Lesson) == 0

    _add_lesson(browser, course_id, module, "panorama", {"title_en": "Scene", "minutes": "2"},
                ("s.png", packages.png(64, 32), "image/png"))
    lesson_id = _lesson_ids(course_id)["Scene"]
    browser.post(f"/author/courses/{course_id}/lessons/{lesson_id}/hotspots", {
        "rows": "1", "action": "save", "hotspots_0_yaw": "10", "hotspots_0_pitch": "0",
        "hotspots_0_label_en": "Flame", "hotspots_0_hazard": "on"})
    bad = browser.post(f"/author/courses/{course_id}/lessons/{lesson_id}/hotspots", {
        "rows": "3", "action": "save",
        "hotspots_0_yaw": "", "hotspots_0_pitch": "", "hotspots_0_label_en": "",
        "hotspots_1_yaw": "200", "hotspots_1_pitch": "0", "hotspots_1_label_en": "Too far",
        "hotspots_2_yaw": "0", "hotspots_2_pitch": "-95", "hotspots_2_label_en": "",
        "hotspots_2_label_zh_CN": "只有中文"})
    assert bad.status_code == 400
    assert 'id="e-hotspots_1_yaw" class="error">Yaw is an angle from -180 to 180.' in bad.text
    assert 'id="e-hotspots_2_pitch" class="error">Pitch is an angle from -90 to 90.' in bad.text
    assert 'id="e-hotspots_2_label_en" class="error">The English text is required.' in bad.text
    assert 'value="只有中文"' in bad.text
    assert [s["label"] for s in _read(course_id).modules[0].lessons[0].hotspots] == \
        [{"en": "Flame"}]

    # A lesson that is not a panorama has no hotspots.
    _add_lesson(browser, course_id, module, "text", {"minutes": "1", "body_en": "# Words"})
    text_id = _lesson_ids(course_id)["Words"]
    wrong = browser.post(f"/author/courses/{course_id}/lessons/{text_id}/hotspots", {
        "rows": "1", "action": "save", "hotspots_0_yaw": "1", "hotspots_0_pitch": "1",
        "hotspots_0_label_en": "X"})
    assert wrong.status_code == 404
    assert "Only 360° panorama lessons have hotspots." in wrong.text
    assert _read(course_id).modules[0].lessons[1].hotspots == []


def test_publishing_an_incomplete_draft_lists_what_is_missing(browser, client, db):
    course_id = _new_course(browser)
    empty = browser.post(f"/author/courses/{course_id}/publish", {"confirm": "yes"})
    assert empty.status_code == 400
    assert "The draft is not complete yet; nothing was published." in empty.text
    assert "Add at least one module." in empty.text
    module = _add_module(browser, course_id, "One")
    _add_module(browser, course_id, "Two")
    _add_lesson(browser, course_id, module, "text", {"minutes": "1", "body_en": "# Fine"})
    again = browser.post(f"/author/courses/{course_id}/publish", {"confirm": "yes"})
    assert again.status_code == 400
    assert "Module 2 has no lessons." in again.text and "Add at least one module." not in again.text
    assert _read(course_id).status == "draft"
    assert "course.published" not in _actions()


def test_only_drafts_can_be_edited(browser, published):
    v1 = published
    lesson = v1.modules[0].lessons[0]
    for url, data in (
        (f"/author/courses/{v1.id}", COURSE_FORM),
        (f"/author/courses/{v1.id}/modules", {"title_en": "More"}),
        (f"/author/courses/{v1.id}/lessons/{lesson.id}", {"title_en": "X", "minutes": "1",
                                                          "body_en": "x"}),
        (f"/author/courses/{v1.id}/lessons/{lesson.id}/delete", {}),
        (f"/author/courses/{v1.id}/publish", {}),
        (f"/author/courses/{v1.id}/discard", {}),
    ):
        response = browser.post(url, data)
        assert response.status_code == 409, url
        assert "Version 1 of TEST-MINI is published; only drafts can be edited." in response.text
    assert browser.get(f"/author/courses/{v1.id}/lessons/{lesson.id}").status_code == 409
    # The read-only view and the preview still work.
    view = browser.get(f"/author/courses/{v1.id}")
    assert view.status_code == 200 and "New version" in view.text
    assert "Save details" not in view.text
    assert browser.get(f"/author/courses/{v1.id}/lessons/{lesson.id}/preview").status_code == 200
    assert _outline(v1.id) == _outline(published.id)
    assert len(_read(v1.id).modules) == 2


# --- versions ---------------------------------------------------------------------------------

def test_new_version_copies_everything_and_publishing_it_archives_the_old_one(
        client, db, browser, published):
    v1 = published
    ent = f.enterprise(db)
    worker = f.worker(db, ent)
    admin = f.user(db, Role.ADMIN, username="root")
    old_enrolment = learning.enrol(db=db, course=db.get(Course, v1.id), workers=[worker],
                                   by=admin)[0]
    db.commit()

    copied = browser.post(f"/author/courses/{v1.id}/new-version")
    assert copied.status_code == 303
    v2_id = int(copied.headers["location"].rsplit("/", 1)[1])
    v2 = _read(v2_id)
    assert (v2.code, v2.version, v2.status) == ("TEST-MINI", 2, "draft")
    for name in ("title", "description", "job_category", "kind", "credit_hours",
                 "required_minutes", "practical_required", "certificate", "practical",
                 "exam_spec"):
        assert getattr(v2, name) == getattr(v1, name), name
    assert v2.exam_spec is not None and v2.exam_spec["blueprint"] == [{"category": "basics",
                                                                       "count": 3}]

    def shape(course: Course) -> list:
        return [(m.position, m.title, [(lesson.position, lesson.kind, lesson.title,
                                        lesson.minutes, lesson.body, lesson.media_key,
                                        lesson.duration_seconds, lesson.hotspots)
                                       for lesson in m.lessons]) for m in course.modules]

    assert shape(v2) == shape(v1)
    assert {m.id for m in v2.modules}.isdisjoint({m.id for m in v1.modules})
    assert all(lesson.course_id == v2.id for m in v2.modules for lesson in m.lessons)

    # A second "new version" leads to the draft that exists; no third version appears.
    again = browser.post(f"/author/courses/{v1.id}/new-version")
    assert again.status_code == 303 and again.headers["location"] == f"/author/courses/{v2_id}"
    assert _count(Course) == 2

    # Change the draft, then publish it: v1 is archived, its learner stays on it.
    renamed = browser.post(f"/author/courses/{v2_id}",
                           {**COURSE_FORM, "title_en": "Mini course, revised",
                            "job_category": "general.underground", "kind": "general"})
    assert renamed.status_code == 303
    assert _read(v1.id).title == {"en": "Mini course", "zh_CN": "迷你课程"}
    assert browser.post(f"/author/courses/{v2_id}/publish", {"confirm": "yes"}).status_code == 303
    assert (_read(v1.id).status, _read(v2_id).status) == ("archived", "published")
    with app_db.open_session(write=False) as s:
        assert s.get(Enrolment, old_enrolment.id).course_id == v1.id
    listing = browser.get("/author")
    assert listing.status_code == 200
    assert "Mini course, revised" in listing.text and "archived" in listing.text

    # Archive v2: no new enrolments, the catalogue no longer lists the course.
    assert browser.post(f"/author/courses/{v2_id}/archive").status_code == 303
    assert _read(v2_id).status == "archived"
    other = f.worker(db, ent)
    db.commit()
    with pytest.raises(Conflict) as refused:
        learning.enrol(db=db, course=db.get(Course, v2_id), workers=[other], by=admin)
    assert refused.value.code == "course_not_published"
    db.rollback()
    assert "Mini course, revised" not in client.get("/courses").text
    assert browser.post(f"/author/courses/{v2_id}/archive").status_code == 409
    assert _actions()[-4:] == ["course.version_created", "course.draft_updated",
                               "course.published", "course.archived"]


def test_new_course_with_an_existing_code_becomes_its_next_version(browser, published):
    course_id = _new_course(browser, code="TEST-MINI")
    course = _read(course_id)
    assert (course.version, course.status, course.modules) == (2, "draft", [])
    duplicate = browser.post("/author/new", {**COURSE_FORM, "code": "TEST-MINI"})
    assert duplicate.status_code == 400
    assert "There already is a draft of TEST-MINI (version 2)" in duplicate.text
    assert _count(Course) == 2


def test_discarding_a_draft_deletes_it_with_its_lessons(browser, published):
    draft = int(browser.post(f"/author/courses/{published.id}/new-version")
                .headers["location"].rsplit("/", 1)[1])
    lessons_before = _count(Lesson)
    response = browser.post(f"/author/courses/{draft}/discard")
    assert response.status_code == 303 and response.headers["location"] == "/author"
    assert _count(Course) == 1 and _count(Lesson) == lessons_before - 4
    assert browser.get(f"/author/courses/{draft}").status_code == 404


# --- who may author -------------------------------------------------------------------------

@pytest.mark.parametrize("role", [Role.WORKER, Role.ENTERPRISE_ADMIN, Role.REGULATOR,
                                  Role.EXAMINER])
def test_non_trainers_are_refused(client, db, published, role):
    ent = f.enterprise(db)
    f.user(db, role, username="someone", enterprise_id=ent.id if role in (
        Role.WORKER, Role.ENTERPRISE_ADMIN) else None,
        region_code="14" if role == Role.REGULATOR else None)
    db.commit()
    page = Browser(client, "someone")
    assert 'href="/author"' not in page.get("/").text
    assert page.get("/author").status_code == 403
    assert page.get(f"/author/courses/{published.id}").status_code == 403
    assert page.post("/author/new", COURSE_FORM).status_code == 403
    assert page.post(f"/author/courses/{published.id}/new-version").status_code == 403
    assert page.post(f"/author/courses/{published.id}/archive").status_code == 403
    auth = f.token(client, "someone")
    assert client.get("/api/v1/authoring/courses", headers=auth).status_code == 403
    assert client.post("/api/v1/authoring/courses", json={
        "code": "X", "title": {"en": "X"}, "job_category": "general.underground",
        "kind": "general"}, headers=auth).status_code == 403
    assert client.post(f"/api/v1/authoring/courses/{published.id}/archive",
                       headers=auth).status_code == 403
    assert _count(Course) == 1 and _read(published.id).status == "published"
    assert _actions() == ["course.imported"]


def test_admin_may_author(client, db):
    f.user(db, Role.ADMIN, username="root")
    db.commit()
    course_id = _new_course(Browser(client, "root"))
    assert _read(course_id).status == "draft"


# --- JSON API ---------------------------------------------------------------------------------

def test_the_same_flows_through_the_api(client, db, trainer, published):
    auth = f.token(client, "trainer1")
    api = "/api/v1/authoring/courses"
    package_files = _media_files()
    created = client.post(api, headers=auth, json={
        "code": "GAS-CHECK", "title": {"en": "Gas checks", "zh_CN": "瓦斯检查"},
        "job_category": "general.underground", "kind": "general", "credit_hours": 8,
        "required_minutes": 30})
    assert created.status_code == 201, created.text
    course = created.json()
    cid = course["id"]
    assert (course["code"], course["version"], course["status"], course["modules"]) == \
        ("GAS-CHECK", 1, "draft", [])
    assert course["publish_problems"] == [{"loc": ["modules"], "msg": "Add at least one module."}]

    m1 = client.post(f"{api}/{cid}/modules", headers=auth, json={"title": {"en": "Theory"}})
    m2 = client.post(f"{api}/{cid}/modules", headers=auth, json={"title": {"en": "Scenes"}})
    assert m1.status_code == m2.status_code == 201
    m1_id, m2_id = m1.json()["id"], m2.json()["id"]
    bad_module = client.post(f"{api}/{cid}/modules", headers=auth, json={"title": {"zh_CN": "无"}})
    assert bad_module.status_code == 422
    assert bad_module.json()["errors"] == [{"loc": ["title", "en"],
                                            "msg": "The English text is required."}]

    text = client.post(f"{api}/{cid}/modules/{m1_id}/lessons", headers=auth, json={
        "kind": "text", "minutes": 4, "body": {"en": "# Methane\n\nIt is light."}})
    assert text.status_code == 201, text.text
    assert (text.json()["title"], text.json()["position"]) == ({"en": "Methane"}, 1)
    video = client.post(f"{api}/{cid}/modules/{m1_id}/lessons", headers=auth, json={
        "kind": "video", "minutes": 2, "title": {"en": "Detector"}})
    assert video.status_code == 201 and video.json()["media_key"] is None
    video_id = video.json()["id"]
    fake = client.put(f"{api}/{cid}/lessons/{video_id}/media", headers=auth,
                      files={"file": ("clip.mp4", _fake_mp4(), "video/mp4")})
    assert fake.status_code == 422
    assert fake.json()["errors"] == [{"loc": ["file"], "msg": "The file's content is not mp4 "
                                                              "(it was checked, not its name)."}]
    assert _media_files() == package_files
    uploaded = client.put(f"{api}/{cid}/lessons/{video_id}/media", headers=auth,
                          files={"file": ("clip.mp4", packages.mp4(42), "video/mp4")})
    assert uploaded.status_code == 200, uploaded.text
    assert uploaded.json()["duration_seconds"] == 42.0
    assert uploaded.json()["media_url"] == "/media/" + uploaded.json()["media_key"]
    assert client.get(uploaded.json()["media_url"], headers=auth).content == packages.mp4(42)

    scene = client.post(f"{api}/{cid}/modules/{m2_id}/lessons", headers=auth, json={
        "kind": "panorama", "minutes": 3, "title": {"en": "Face"},
        "hotspots": [{"yaw": 45, "pitch": 5, "label": {"en": "Smoking"}, "hazard": True}]})
    assert scene.status_code == 201, scene.text
    scene_id = scene.json()["id"]
    assert scene.json()["hotspots"] == [{"yaw": 45.0, "pitch": 5.0, "label": {"en": "Smoking"},
                                         "hazard": True}]
    oversized = client.put(f"{api}/{cid}/lessons/{scene_id}/media", headers=auth,
                           files={"file": ("big.png", _oversized_png(), "image/png")})
    assert oversized.status_code == 422
    assert oversized.json()["detail"] == "The file is larger than 5 MB."
    assert client.put(f"{api}/{cid}/lessons/{scene_id}/media", headers=auth,
                      files={"file": ("s.png", packages.png(64, 32), "image/png")}
                      ).status_code == 200
    bad_spot = client.patch(f"{api}/{cid}/lessons/{scene_id}", headers=auth, json={
        "hotspots": [{"yaw": -181, "pitch": 0, "label": {"en": "x"}}]})
    assert bad_spot.status_code == 422
    assert bad_spot.json()["errors"] == [{"loc": ["hotspots", 0, "yaw"],
                                          "msg": "Yaw is an angle from -180 to 180."}]

    # Reorder: the scenes module first, the video moved into it before the panorama.
    order = client.put(f"{api}/{cid}/order", headers=auth, json={"modules": [
        {"id": m2_id, "lessons": [video_id, scene_id]}, {"id": m1_id, "lessons": [
            text.json()["id"]]}]})
    assert order.status_code == 200, order.text
    assert [(m["title"]["en"], [(lesson["title"]["en"], lesson["position"])
                                for lesson in m["lessons"]]) for m in order.json()["modules"]] \
        == [("Scenes", [("Detector", 1), ("Face", 2)]), ("Theory", [("Methane", 1)])]
    assert _outline(cid) == [("Scenes", ["Detector", "Face"]), ("Theory", ["Methane"])]
    incomplete_order = client.put(f"{api}/{cid}/order", headers=auth, json={"modules": [
        {"id": m2_id, "lessons": [video_id]}, {"id": m1_id, "lessons": []}]})
    assert incomplete_order.status_code == 422
    assert _outline(cid) == [("Scenes", ["Detector", "Face"]), ("Theory", ["Methane"])]

    patched = client.patch(f"{api}/{cid}/lessons/{text.json()['id']}", headers=auth,
                           json={"minutes": 6, "body": {"en": "# Methane\n\nIt rises.",
                                                        "zh_CN": "# 甲烷\n\n它上升。"}})
    assert patched.status_code == 200
    assert (patched.json()["minutes"], patched.json()["title"]) == (6, {"en": "Methane",
                                                                       "zh_CN": "甲烷"})
    extra = client.post(f"{api}/{cid}/modules", headers=auth, json={"title": {"en": "Spare"}})
    assert client.delete(f"{api}/{cid}/modules/{extra.json()['id']}",
                         headers=auth).status_code == 204
    spare = client.post(f"{api}/{cid}/modules/{m1_id}/lessons", headers=auth, json={
        "kind": "case", "minutes": 1, "body": {"en": "# Spare case"}})
    assert client.delete(f"{api}/{cid}/lessons/{spare.json()['id']}",
                         headers=auth).status_code == 204
    renamed = client.patch(f"{api}/{cid}/modules/{m1_id}", headers=auth,
                           json={"title": {"en": "Theory of gas", "zh_CN": "瓦斯理论"}})
    assert renamed.status_code == 200 and renamed.json()["title"]["zh_CN"] == "瓦斯理论"
    fields = client.patch(f"{api}/{cid}", headers=auth, json={"credit_hours": 9.5})
    assert fields.status_code == 200 and fields.json()["credit_hours"] == 9.5
    assert fields.json()["title"] == {"en": "Gas checks", "zh_CN": "瓦斯检查"}

    detail = client.get(f"{api}/{cid}", headers=auth).json()
    assert detail["publish_problems"] == []
    published_now = client.post(f"{api}/{cid}/publish", headers=auth)
    assert published_now.status_code == 200 and published_now.json()["status"] == "published"
    not_draft = client.patch(f"{api}/{cid}", headers=auth, json={"credit_hours": 1})
    assert not_draft.status_code == 409 and not_draft.json()["code"] == "course_not_draft"

    # New version of the package course, publish it, the old one is archived; then archive.
    listed = client.get(api, headers=auth, params={"code": "TEST-MINI"}).json()
    assert [(c["version"], c["status"]) for c in listed] == [(1, "published")]
    v2 = client.post(f"{api}/{published.id}/versions", headers=auth)
    assert v2.status_code == 201
    assert (v2.json()["version"], v2.json()["status"]) == (2, "draft")
    assert [len(m["lessons"]) for m in v2.json()["modules"]] == [2, 2]
    second = client.post(f"{api}/{published.id}/versions", headers=auth)
    assert second.status_code == 409 and second.json()["code"] == "draft_exists"
    assert client.post(f"{api}/{v2.json()['id']}/publish", headers=auth).status_code == 200
    listed = client.get(api, headers=auth, params={"code": "TEST-MINI"}).json()
    assert [(c["version"], c["status"]) for c in listed] == [(2, "published"), (1, "archived")]
    archived = client.post(f"{api}/{v2.json()['id']}/archive", headers=auth)
    assert archived.status_code == 200 and archived.json()["status"] == "archived"

    empty = client.post(api, headers=auth, json={
        "code": "EMPTY", "title": {"en": "Empty"}, "job_category": "general.underground",
        "kind": "general"}).json()
    refused = client.post(f"{api}/{empty['id']}/publish", headers=auth)
    assert refused.status_code == 422 and refused.json()["code"] == "draft_incomplete"
    assert refused.json()["errors"] == [{"loc": ["modules"], "msg": "Add at least one module."}]
    assert client.delete(f"{api}/{empty['id']}", headers=auth).status_code == 204
    assert client.get(f"{api}/{empty['id']}", headers=auth).status_code == 404


# --- exams, certificates and rule checks (issue 9 items 7 and 10) ----------------------------

def test_new_version_keeps_the_exam_and_its_blueprint(client, db, browser, published):
    from app.exams.models import Exam

    copied = browser.post(f"/author/courses/{published.id}/new-version")
    v2_id = int(copied.headers["location"].rsplit("/", 1)[1])
    with app_db.open_session(write=False) as s:
        exams = {e.course_id: e for e in s.scalars(select(Exam))}
    assert (exams[v2_id].duration_minutes, exams[v2_id].pass_mark, exams[v2_id].max_attempts,
            exams[v2_id].blueprint, exams[v2_id].bank) == \
        (30, 80, 2, [{"category": "basics", "count": 3}], "TEST-MINI")
    assert exams[v2_id].id != exams[published.id].id
    editor = browser.get(f"/author/courses/{v2_id}")
    assert "30 minutes · 3 questions · pass mark 80" in editor.text
    assert "Ready to publish." in editor.text
    api = client.get(f"/api/v1/authoring/courses/{v2_id}", headers=f.token(client, "trainer1"))
    assert api.json()["exam"]["question_count"] == 3 and api.json()["publish_problems"] == []
    # Discarding the draft takes its exam copy with it.
    assert browser.post(f"/author/courses/{v2_id}/discard").status_code == 303
    assert _count(Exam) == 1


def test_a_course_with_a_certificate_needs_a_valid_exam(client, db, trainer):
    auth = f.token(client, "trainer1")
    api = "/api/v1/authoring/courses"
    bad = client.post(api, headers=auth, json={
        "code": "CERT-ME", "title": {"en": "Certified"}, "job_category": "general.underground",
        "kind": "general", "certificate": {"title": {"en": ""}, "validity_years": 3,
                                           "review_years": 4}})
    assert bad.status_code == 422
    assert bad.json()["errors"] == [
        {"loc": ["certificate", "title", "en"], "msg": "The English text is required."},
        {"loc": ["certificate", "review_years"],
         "msg": "The review falls due within the validity (3 years) at the latest."}]
    assert _count(Course) == 0
    created = client.post(api, headers=auth, json={
        "code": "CERT-ME", "title": {"en": "Certified"}, "job_category": "general.underground",
        "kind": "general", "certificate": {"title": {"en": "Roof certificate"},
                                           "validity_years": 3, "review_years": 1}})
    assert created.status_code == 201, created.text
    cid = created.json()["id"]
    assert created.json()["certificate"] == {"title": {"en": "Roof certificate"},
                                             "validity_years": 3, "review_years": 1}
    module = client.post(f"{api}/{cid}/modules", headers=auth, json={"title": {"en": "M"}})
    client.post(f"{api}/{cid}/modules/{module.json()['id']}/lessons", headers=auth,
                json={"kind": "text", "minutes": 2, "body": {"en": "# Roofs\n\nLook up."}})
    refused = client.post(f"{api}/{cid}/publish", headers=auth)
    assert refused.status_code == 422 and refused.json()["code"] == "draft_incomplete"
    assert [e["loc"] for e in refused.json()["errors"]] == [["exam"]]
    assert "needs a theory exam" in refused.json()["errors"][0]["msg"]
    assert _read(cid).status == "draft"
    # Removing the certificate (null) makes the exam optional again; leaving it out keeps it.
    kept = client.patch(f"{api}/{cid}", headers=auth, json={"credit_hours": 2})
    assert kept.json()["certificate"]["validity_years"] == 3
    removed = client.patch(f"{api}/{cid}", headers=auth, json={"certificate": None})
    assert removed.json()["certificate"] is None and removed.json()["publish_problems"] == []


def test_certificate_settings_through_the_form(browser):
    form = {**COURSE_FORM, "issues_certificate": "on", "certificate_title_en": "",
            "certificate_title_zh_CN": "", "certificate_validity_years": "0",
            "certificate_review_years": "3"}
    bad = browser.post("/author/new", form)
    assert bad.status_code == 400
    assert "The certificate is valid for 1 to 50 years." in bad.text
    assert _count(Course) == 0
    new = browser.get("/author/new")
    assert 'name="certificate_validity_years" type="number" value="6"' in new.text  # profile
    course_id = _new_course(browser, issues_certificate="on",
                            certificate_title_en="Roof support certificate",
                            certificate_title_zh_CN="顶板支护证", certificate_validity_years="6",
                            certificate_review_years="3")
    assert _read(course_id).certificate == {
        "title": {"en": "Roof support certificate", "zh_CN": "顶板支护证"},
        "validity_years": 6, "review_years": 3}
    editor = browser.get(f"/author/courses/{course_id}")
    assert 'value="Roof support certificate"' in editor.text
    assert "needs a theory exam" in editor.text and "Ready to publish." not in editor.text
    saved = browser.post(f"/author/courses/{course_id}", COURSE_FORM)  # box unticked
    assert saved.status_code == 303 and _read(course_id).certificate is None


def test_special_operations_are_checked_against_the_rule_profile(client, db, trainer,
                                                                 published, browser):
    from app.exams import bank

    auth = f.token(client, "trainer1")
    api = "/api/v1/authoring/courses"
    # TEST-MINI's bank has three "basics" questions; version 2 is a special-operations course.
    created = client.post(api, headers=auth, json={
        "code": "TEST-MINI", "title": {"en": "Gas inspection"},
        "job_category": "coal.gas_inspection", "kind": "initial", "credit_hours": 8,
        "required_minutes": 1})
    cid = created.json()["id"]
    module = client.post(f"{api}/{cid}/modules", headers=auth, json={"title": {"en": "M"}})
    client.post(f"{api}/{cid}/modules/{module.json()['id']}/lessons", headers=auth,
                json={"kind": "text", "minutes": 2, "body": {"en": "# Gas\n\nMeasure."}})
    refused = client.post(f"{api}/{cid}/publish", headers=auth)
    assert refused.status_code == 422
    messages = [e["msg"] for e in refused.json()["errors"]]
    assert messages[0].startswith("This course needs a theory exam")
    assert "Special operations need at least 72 class hours (rule profile cn-mines: "\
           "special_operations.initial_hours); this course gives 8." in messages
    assert "Special operations need at least 2160 minutes of credited online study: 72 class " \
           "hours of 30 minutes (rule profile cn-mines: special_operations.initial_hours and " \
           "class_hour_minutes.online); this course requires 1." in messages
    assert any("issues the operations certificate" in m for m in messages)

    bank.create_exam(db=db, course=db.get(Course, cid), by=trainer, settings=bank.ExamSettings(
        title={"en": "Exam"}, duration_minutes=30, pass_mark=60, max_attempts=5,
        requires_completion=True, blueprint=[{"category": "basics", "count": 3}]))
    db.commit()
    fixed = client.patch(f"{api}/{cid}", headers=auth, json={
        "credit_hours": 72, "required_minutes": 2160,
        "certificate": {"title": {"en": "Gas inspection"}, "validity_years": 8,
                        "review_years": 3}})
    assert fixed.status_code == 200
    assert [e["loc"] for e in fixed.json()["publish_problems"]] == [
        ["exam", "duration_minutes"], ["exam", "pass_mark"], ["exam", "max_attempts"],
        ["certificate", "validity_years"]]
    assert fixed.json()["publish_problems"][0]["msg"] == (
        "Special-operations exams last 120 minutes (rule profile cn-mines: "
        "special_operations.exam.duration_minutes); this exam lasts 30.")
    page = browser.get(f"/author/courses/{cid}")
    assert "4 things to finish before publishing" in page.text

    exam = db.scalar(select(bank.Exam).where(bank.Exam.course_id == cid))
    bank.update_exam(db=db, exam=exam, by=trainer, settings=bank.ExamSettings(
        title={"en": "Exam"}, duration_minutes=120, pass_mark=80, max_attempts=2,
        requires_completion=True, blueprint=[{"category": "basics", "count": 3}]))
    db.commit()
    client.patch(f"{api}/{cid}", headers=auth, json={"certificate": {
        "title": {"en": "Gas inspection"}, "validity_years": 6, "review_years": 3}})
    published_now = client.post(f"{api}/{cid}/publish", headers=auth)
    assert published_now.status_code == 200, published_now.text
    assert published_now.json()["status"] == "published"
