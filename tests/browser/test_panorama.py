"""The 360° panorama lesson in a real browser: the WebGL viewer (vendored A-Frame) loads the
package's panorama, hazards are invisible until the learner aims at them and taps (mouse, or the
keyboard's arrow keys and Enter), a wrong tap finds nothing, information hotspots only inform,
and finding every hazard completes the lesson in the page and in the database. The page knows no
hazard before it is found (the server judges each tap's direction), too many misses are refused
with a message, and no page logs a console error (A-Frame's injected styles pass the CSP).
Without WebGL the flat picture takes the taps."""

from __future__ import annotations

import base64
import hashlib
import io
import math
import re

import pytest
from PIL import Image, ImageDraw
from playwright.sync_api import expect
from sqlalchemy import select

from app.courses import service as courses
from app.courses.models import Lesson
from app.courses.package import load_package
from app.learning import hotspots
from app.learning import service as learning
from app.learning.models import Enrolment, LessonProgress
from tests import factories as f
from tests import packages
from tests.browser.conftest import CHROMIUM_ARGS

pytestmark = pytest.mark.browser

CABLE = {"yaw": 40, "pitch": -10, "hazard": True,
         "label": {"en": "Damaged cable", "zh_CN": "电缆破损"},
         "description": {"en": "Bare conductors: shock and methane ignition.",
                         "zh_CN": "导线裸露：触电并可能引燃瓦斯。"}}
ROOF = {"yaw": -120, "pitch": 20, "hazard": True,
        "label": {"en": "Loose roof", "zh_CN": "顶板松动"}}
REFUGE = {"yaw": 150, "pitch": 0, "hazard": False,
          "label": {"en": "Refuge chamber", "zh_CN": "避难硐室"},
          "description": {"en": "Go here if you cannot get out.", "zh_CN": "无法撤离时到这里。"}}
SPOTS = [CABLE, ROOF, REFUGE]
COMPLETE = re.compile(r"\bis-complete\b")


def panorama_png(width: int = 512, height: int = 256) -> bytes:
    """A real equirectangular picture: rock above, floor below, a disc at every hotspot."""
    image = Image.new("RGB", (width, height), (70, 72, 80))
    draw = ImageDraw.Draw(image)
    draw.rectangle([0, height // 2, width, height], fill=(60, 50, 35))
    for spot in SPOTS:
        x = (spot["yaw"] / 360 + 0.5) * width
        y = (0.5 - spot["pitch"] / 180) * height
        colour = (220, 60, 40) if spot["hazard"] else (60, 120, 230)
        draw.ellipse([x - 6, y - 6, x + 6, y + 6], fill=colour)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


@pytest.fixture(scope="module")
def webgl_browser(playwright_instance, chromium_path):  # type: ignore[no-untyped-def]
    """Chromium with WebGL on the software rasteriser (no GPU on test machines)."""
    browser = playwright_instance.chromium.launch(
        executable_path=chromium_path, headless=True,
        args=[*CHROMIUM_ARGS, "--enable-unsafe-swiftshader"])
    yield browser
    browser.close()


@pytest.fixture
def scene(db, tmp_path):  # type: ignore[no-untyped-def]
    """A one-lesson course whose lesson is the panorama, and an enrolled worker."""
    data = packages.course_yaml(code="TEST-PANO", required_minutes=0)
    data["modules"] = [{"title": {"en": "Scene", "zh_CN": "场景"}, "lessons": [
        {"kind": "panorama", "file": "media/scene.png", "minutes": 5,
         "title": {"en": "The heading", "zh_CN": "巷道"}, "hotspots": SPOTS}]}]
    root = packages.write_package(tmp_path / "pano", data=data,
                                  files={"media/scene.png": panorama_png()})
    outcome = courses.import_package(db=db, package=load_package(root), by=None)
    course = courses.get_course_or_404(db=db, course_id=outcome.course_id, structure=True)
    lesson = course.modules[0].lessons[0]
    ent = f.enterprise(db)
    worker = f.worker(db, ent, full_name="王小明")
    enrolment = learning.enrol(db=db, course=course, workers=[worker],
                               by=f.user(db, f.Role.ADMIN))[0]
    ids = (worker.id_number, enrolment.id, lesson.id)
    db.commit()
    return ids


@pytest.fixture(autouse=True)
def fresh_budget():  # type: ignore[no-untyped-def]
    hotspots.misses.clear()
    yield
    hotspots.misses.clear()


def console_errors(page) -> list[str]:  # type: ignore[no-untyped-def]
    """Every console error and uncaught exception of the page, as it happens."""
    errors: list[str] = []
    page.on("console", lambda message: errors.append(message.text)
            if message.type == "error" else None)
    page.on("pageerror", lambda error: errors.append(str(error)))
    return errors


def open_lesson(page, base: str, scene: tuple[str, int, int]) -> None:  # type: ignore[no-untyped-def]
    """Sign in through the login form (in any language) and open the panorama lesson."""
    username, enrolment_id, lesson_id = scene
    page.goto(base + "/login")
    page.locator("#username").fill(username)
    page.locator("#password").fill(f.PASSWORD)
    page.locator("form[action='/login'] button[type=submit]").click()
    page.wait_for_url(base + "/")
    page.goto(f"{base}/learn/{enrolment_id}/lessons/{lesson_id}")


def wait_ready(page, kind: str) -> None:  # type: ignore[no-untyped-def]
    # The viewer is ready once A-Frame has drawn the image (software WebGL can be slow on CI).
    expect(page.locator("#panorama")).to_have_attribute("data-ready", kind, timeout=20_000)


def found_in_db(db, enrolment_id: int, lesson_id: int) -> tuple[list[int], bool]:  # type: ignore[no-untyped-def]
    db.rollback()  # a fresh snapshot: what the app has committed since
    progress = db.scalar(select(LessonProgress).where(LessonProgress.enrolment_id == enrolment_id,
                                                      LessonProgress.lesson_id == lesson_id))
    found = ([], False) if progress is None else (list(progress.found_hotspots or []),
                                                   progress.completed_at is not None)
    db.rollback()  # hold no snapshot while the app goes on writing
    return found


def colour_at_view_centre(page) -> tuple[int, int, int]:  # type: ignore[no-untyped-def]
    """The pixel in the middle of the viewer, once the view has been drawn (the reticle is a
    ring around it, not over it)."""
    page.evaluate("() => new Promise(done => requestAnimationFrame(() => "
                  "requestAnimationFrame(done)))")
    box = page.locator("#panorama canvas").bounding_box()
    png = page.screenshot(clip={"x": box["x"] + box["width"] / 2 - 1,
                                "y": box["y"] + box["height"] / 2 - 1, "width": 3, "height": 3})
    return Image.open(io.BytesIO(png)).convert("RGB").getpixel((1, 1))


def is_red(rgb: tuple[int, int, int]) -> bool:
    return rgb[0] > 160 and rgb[1] < 120 and rgb[2] < 100


def look_at(page, yaw: float, pitch: float) -> None:  # type: ignore[no-untyped-def]
    page.evaluate("([yaw, pitch]) => window.PitheadPanorama.lookAt(yaw, pitch)", [yaw, pitch])


def aim_and_click(page, yaw: float, pitch: float) -> None:  # type: ignore[no-untyped-def]
    """Turn the view to (yaw, pitch) and click the middle of the viewer, as a learner would
    after dragging the hazard into view."""
    look_at(page, yaw, pitch)
    view = page.evaluate("window.PitheadPanorama.view()")
    assert math.isclose(view["yaw"], yaw, abs_tol=0.01)
    assert math.isclose(view["pitch"], pitch, abs_tol=0.01)
    page.locator("#panorama canvas").click()


def test_hazard_drill_in_the_webgl_viewer_completes_the_lesson(live_server, webgl_browser, db,
                                                               scene):
    _username, enrolment_id, lesson_id = scene
    context = webgl_browser.new_context(viewport={"width": 390, "height": 844}, locale="en-US",
                                        has_touch=True)
    page = context.new_page()
    errors = console_errors(page)
    responses: list = []
    page.on("response", lambda response: responses.append(response)
            if "/lessons/" in response.url and "/api/" not in response.url else None)
    open_lesson(page, live_server, scene)
    wait_ready(page, "3d")
    expect(page.locator("#panorama a-scene canvas")).to_be_visible()
    # Nothing in the page tells where the hazards are: only the information hotspot is given.
    spots = page.evaluate("JSON.parse(document.getElementById('panorama').dataset.spots)")
    assert [(s["label"], s["hazard"]) for s in spots] == [("Refuge chamber", False)]
    source = responses[-1].text()
    assert "Damaged cable" not in source and "Loose roof" not in source
    # A-Frame's stylesheet is a <style> it injects: the CSP allows exactly its text by hash.
    csp = responses[-1].headers["content-security-policy"]
    styles = page.evaluate("Array.from(document.querySelectorAll('style'), s => s.textContent)")
    assert styles  # A-Frame did inject its stylesheet
    for style in styles:
        digest = base64.b64encode(hashlib.sha256(style.encode()).digest()).decode()
        assert f"'sha256-{digest}'" in csp
    expect(page.locator("#panorama-image")).to_be_hidden()
    status = page.locator("[data-status-text]")
    count = page.locator("[data-found-count]")
    feedback = page.locator("[data-feedback]")
    found_list = page.locator("[data-found-list] li")
    expect(status).to_have_text("Find all 2 hazards in the scene to complete this lesson.")
    expect(count).to_have_text("0")
    # The picture is where the angles say: the discs painted at the hotspots are in the middle
    # of the view when the view is turned to them (and the cable is not marked yet).
    look_at(page, CABLE["yaw"], CABLE["pitch"])
    assert is_red(colour_at_view_centre(page))
    look_at(page, CABLE["yaw"] + 12, CABLE["pitch"])
    assert not is_red(colour_at_view_centre(page))
    look_at(page, ROOF["yaw"], ROOF["pitch"])
    assert is_red(colour_at_view_centre(page))

    # A tap where there is nothing: feedback, nothing found.
    aim_and_click(page, 0, 0)
    expect(feedback).to_have_text("Nothing dangerous there — look again.")
    expect(count).to_have_text("0")
    expect(found_list).to_have_count(0)

    # The information hotspot only informs.
    aim_and_click(page, 150, 0)
    expect(feedback).to_have_text("Refuge chamber — Go here if you cannot get out.")
    expect(count).to_have_text("0")
    assert found_in_db(db, enrolment_id, lesson_id) == ([], False)

    # A tap 6° beside the cable (within the tolerance) finds it.
    aim_and_click(page, CABLE["yaw"] + 6, CABLE["pitch"])
    expect(feedback).to_have_text("Found: Damaged cable")
    expect(count).to_have_text("1")
    expect(found_list).to_have_text(["Damaged cable — Bare conductors: shock and methane "
                                     "ignition."])
    # Tapping it again only reminds.
    aim_and_click(page, CABLE["yaw"], CABLE["pitch"])
    expect(feedback).to_have_text("Already found: Damaged cable")
    expect(count).to_have_text("1")
    expect(page.locator("#lesson")).not_to_have_class(COMPLETE)
    expect(status).to_have_text("Find all 2 hazards in the scene to complete this lesson.")

    # The roof by keyboard alone: arrows turn the view 5° a press, Enter reports the centre.
    look_at(page, 0, 0)
    page.locator("#panorama").focus()
    for _ in range(24):
        page.keyboard.press("ArrowLeft")
    for _ in range(4):
        page.keyboard.press("ArrowUp")
    view = page.evaluate("window.PitheadPanorama.view()")
    assert (round(view["yaw"]), round(view["pitch"])) == (ROOF["yaw"], ROOF["pitch"])
    page.keyboard.press("Enter")
    expect(count).to_have_text("2")
    expect(status).to_have_text("✓ Lesson complete.")
    expect(page.locator("#lesson")).to_have_class(COMPLETE)
    expect(feedback).to_have_text("You found every hazard in this scene. Course complete.")
    assert found_in_db(db, enrolment_id, lesson_id) == ([0, 1], True)
    assert db.scalar(select(Enrolment.status).where(Enrolment.id == enrolment_id)) == "completed"
    db.rollback()

    # Coming back, the found hazards are listed and counted from the start.
    page.reload()
    wait_ready(page, "3d")
    expect(count).to_have_text("2")
    expect(found_list).to_have_text(["Damaged cable — Bare conductors: shock and methane "
                                     "ignition.", "Loose roof"])
    expect(status).to_have_text("✓ Lesson complete.")
    # The found hazards are marked again (their places are in the page now).
    spots = page.evaluate("JSON.parse(document.getElementById('panorama').dataset.spots)")
    assert [(s["label"], s["yaw"], s["hazard"]) for s in spots] == [
        ("Damaged cable", 40, True), ("Loose roof", -120, True), ("Refuge chamber", 150, False)]
    assert errors == []
    context.close()


def test_report_button_uses_the_view_centre(live_server, webgl_browser, db, scene):
    _username, enrolment_id, lesson_id = scene
    context = webgl_browser.new_context(viewport={"width": 1280, "height": 800}, locale="en-US")
    page = context.new_page()
    errors = console_errors(page)
    open_lesson(page, live_server, scene)
    wait_ready(page, "3d")
    report = page.get_by_role("button", name="Report a hazard at the view centre")
    look_at(page, -100, 20)  # 20° from the roof: a miss
    report.click()
    expect(page.locator("[data-feedback]")).to_have_text("Nothing dangerous there — look again.")
    look_at(page, ROOF["yaw"], ROOF["pitch"])
    report.click()
    expect(page.locator("[data-found-count]")).to_have_text("1")
    expect(page.locator("[data-found-list] li")).to_have_text(["Loose roof"])
    expect(page.locator("[data-status-text]")).to_have_text(
        "Find all 2 hazards in the scene to complete this lesson.")
    assert found_in_db(db, enrolment_id, lesson_id) == ([1], False)
    assert errors == []
    context.close()


def test_sweeping_with_taps_is_stopped_with_a_message(live_server, webgl_browser, db, scene):
    _username, enrolment_id, lesson_id = scene
    context = webgl_browser.new_context(viewport={"width": 1280, "height": 800}, locale="en-US")
    page = context.new_page()
    errors = console_errors(page)
    open_lesson(page, live_server, scene)
    wait_ready(page, "3d")
    report = page.get_by_role("button", name="Report a hazard at the view centre")
    feedback = page.locator("[data-feedback]")
    for step in range(hotspots.MISSES_PER_MINUTE):
        look_at(page, -60 + 3 * step, -60)
        report.click()
        expect(feedback).to_have_attribute("data-kind", "miss")
        page.evaluate("document.querySelector('[data-feedback]').dataset.kind = ''")
    look_at(page, CABLE["yaw"], CABLE["pitch"])  # right on a hazard, but too late
    report.click()
    expect(feedback).to_have_text(re.compile(r"^Too many taps that found nothing\. Look around "
                                             r"and try again in \d+ seconds\.$"))
    expect(page.locator("[data-found-count]")).to_have_text("0")
    assert found_in_db(db, enrolment_id, lesson_id) == ([], False)
    # The refused request is the browser's only console error (its failed-resource line).
    assert [e for e in errors if "429" not in e] == []
    context.close()


def test_without_webgl_the_flat_picture_takes_the_taps(live_server, browser, db, scene):
    _username, enrolment_id, lesson_id = scene
    context = browser.new_context(viewport={"width": 390, "height": 844}, locale="zh-CN",
                                  extra_http_headers={"Accept-Language": "zh-CN,zh;q=0.9"})
    page = context.new_page()
    errors = console_errors(page)
    page.add_init_script("""(() => {
      const getContext = HTMLCanvasElement.prototype.getContext;
      HTMLCanvasElement.prototype.getContext = function (type, options) {
        return /webgl/.test(type) ? null : getContext.call(this, type, options);
      };
    })()""")
    open_lesson(page, live_server, scene)
    wait_ready(page, "flat")
    expect(page.locator("[data-flat-note]")).to_be_visible()
    expect(page.locator("[data-tools]")).to_be_hidden()
    picture = page.locator("#panorama-image")
    box = picture.bounding_box()
    assert box is not None and math.isclose(box["width"], 2 * box["height"], rel_tol=0.01)
    # Only the information hotspot is marked before anything is found.
    expect(page.locator(".panorama-pin:not(.is-miss)")).to_have_text(["避难硐室"])

    def tap(yaw: float, pitch: float) -> None:
        picture.click(position={"x": (yaw / 360 + 0.5) * box["width"],
                                "y": (0.5 - pitch / 180) * box["height"]})

    tap(-60, -30)
    expect(page.locator("[data-feedback]")).to_have_attribute("data-kind", "miss")
    expect(page.locator("[data-found-count]")).to_have_text("0")
    tap(CABLE["yaw"], CABLE["pitch"])
    tap(ROOF["yaw"] - 4, ROOF["pitch"] + 3)
    expect(page.locator("[data-found-count]")).to_have_text("2")
    expect(page.locator(".panorama-pin.is-hazard")).to_have_text(["电缆破损", "顶板松动"])
    expect(page.locator("[data-found-list] li")).to_have_text(
        ["电缆破损 — 导线裸露：触电并可能引燃瓦斯。", "顶板松动"])
    expect(page.locator("#lesson")).to_have_class(COMPLETE)
    assert found_in_db(db, enrolment_id, lesson_id) == ([0, 1], True)
    assert errors == []
    context.close()


def test_author_preview_judges_in_the_page_and_others_only_look(live_server, browser, db, scene):
    """An author's preview has every hotspot (the author wrote them) and records nothing; an
    administrator looking at a learner's lesson sees what the learner found and checks nothing."""
    _username, enrolment_id, lesson_id = scene
    course_id = db.scalar(select(Lesson.course_id).where(Lesson.id == lesson_id))
    f.user(db, f.Role.ADMIN, username="root")
    db.commit()
    context = browser.new_context(viewport={"width": 1280, "height": 800}, locale="en-US")
    page = context.new_page()
    errors = console_errors(page)
    page.add_init_script("""(() => {
      const getContext = HTMLCanvasElement.prototype.getContext;
      HTMLCanvasElement.prototype.getContext = function (type, options) {
        return /webgl/.test(type) ? null : getContext.call(this, type, options);
      };
    })()""")
    page.goto(live_server + "/login")
    page.locator("#username").fill("root")
    page.locator("#password").fill(f.PASSWORD)
    page.locator("form[action='/login'] button[type=submit]").click()
    page.wait_for_url(live_server + "/")
    page.goto(f"{live_server}/author/courses/{course_id}/lessons/{lesson_id}/preview")
    wait_ready(page, "flat")
    picture = page.locator("#panorama-image")
    box = picture.bounding_box()

    def tap(yaw: float, pitch: float) -> None:
        picture.click(position={"x": (yaw / 360 + 0.5) * box["width"],
                                "y": (0.5 - pitch / 180) * box["height"]})

    feedback = page.locator("[data-feedback]")
    tap(CABLE["yaw"], CABLE["pitch"])
    expect(feedback).to_have_text("Found: Damaged cable")
    expect(page.locator("[data-found-count]")).to_have_text("1")
    tap(0, 0)
    expect(feedback).to_have_text("Nothing dangerous there — look again.")
    assert found_in_db(db, enrolment_id, lesson_id) == ([], False)

    page.goto(f"{live_server}/learn/{enrolment_id}/lessons/{lesson_id}")
    wait_ready(page, "flat")
    assert "Damaged cable" not in page.content()
    tap(CABLE["yaw"], CABLE["pitch"])
    expect(feedback).to_have_text("Only the learner’s own taps are checked for hazards.")
    tap(REFUGE["yaw"], REFUGE["pitch"])
    expect(feedback).to_have_text("Refuge chamber — Go here if you cannot get out.")
    expect(page.locator("[data-found-count]")).to_have_text("0")
    assert found_in_db(db, enrolment_id, lesson_id) == ([], False)
    assert errors == []
    context.close()
