"""Issue 16, a downloaded course's library files in Chromium through the real server: a lesson links a
library item with a PDF; "Download for offline learning" shows a size that counts the PDF, stores it,
and with the network off the PDF and the item's page are still read from the phone."""

import json
import os

import pytest

try:
    from playwright.sync_api import expect
except ImportError:
    if os.environ.get("CI"):
        raise
    pytest.skip("end-to-end suite skipped: Playwright is not installed (requirements-dev.txt)", allow_module_level=True)

from tests.e2e.browser import t
from tests.e2e.test_journey import log_in

SET_UP = """
import json
from pathlib import Path
from lms import create_app
from lms.extensions import db
from sqlalchemy import select
app = create_app(); ctx = app.app_context(); ctx.push()
from lms.catalog.models import Course
from lms.catalog.operations import import_course
from lms.catalog.source import read_course
from lms.core.markdown import render
from lms.library import operations
from lms.library.models import LibraryItem
from tests.search.conftest import make_pdf
course = db.session.scalar(select(Course).where(Course.slug == "mini-course"))
if course is None:
    import_course(read_course(Path("tests/fixtures/courses/mini-course")))
    db.session.flush()
    course = db.session.scalar(select(Course).where(Course.slug == "mini-course"))
item = db.session.scalar(select(LibraryItem).where(LibraryItem.slug == "so-tay-ngoai-tuyen"))
if item is None:
    item = LibraryItem(slug="so-tay-ngoai-tuyen", kind="document", title="Sổ tay học ngoại tuyến",
                       title_folded="so tay hoc ngoai tuyen", licence="CC BY 4.0", status="published")
    db.session.add(item)
    operations.attach_file(item, "so-tay.pdf", make_pdf([f"Dòng {n}: nộp hồ sơ trực tuyến" for n in range(300)]))
lesson = course.active_lessons()[1]
lesson.body_md = "Đọc [[library:so-tay-ngoai-tuyen]] khi không có mạng.\\n"
lesson.body_html = render(lesson.body_md)
db.session.commit()
print(json.dumps({"course": course.slug, "item": item.slug, "size": item.current_file().size}))
"""


def test_a_library_pdf_linked_by_a_lesson_is_weighed_stored_and_read_offline(server, person):
    made = json.loads(server.run_python(SET_UP).strip().splitlines()[-1])
    learner = person("offline files learner")
    log_in(learner, "learner")
    page = learner.page
    page.goto(f"/courses/{made['course']}")
    enrol = page.get_by_role("button", name=t("Enrol in this course"))
    if enrol.count():
        enrol.click()
        page.goto(f"/courses/{made['course']}")
    page.wait_for_function("navigator.serviceWorker && navigator.serviceWorker.controller !== null")
    manifest = page.evaluate(f"fetch('/courses/{made['course']}/offline.json').then((r) => r.json())")
    assert f"/library/{made['item']}/file" in manifest["urls"] and manifest["file_bytes"] >= made["size"]
    box = page.locator("#offline-course")
    expect(box.locator(".offline-size")).to_contain_text(f"{round(manifest['bytes'] / 1024)} KB")
    box.get_by_role("button", name=t("Download for offline learning")).click()
    expect(box.get_by_role("status")).to_have_text(t("Downloaded. You can read this course without a network."))

    learner.context.set_offline(True)
    try:
        pdf = page.evaluate(f"""fetch('/library/{made['item']}/file').then((r) => r.arrayBuffer())
            .then((b) => ({{ size: b.byteLength, head: String.fromCharCode(...new Uint8Array(b.slice(0, 4))) }}))""")
        assert pdf == {"size": made["size"], "head": "%PDF"}
        page.goto(f"/library/{made['item']}")
        expect(page.get_by_role("heading", level=1)).to_have_text("Sổ tay học ngoại tuyến")
    finally:
        learner.context.set_offline(False)
    problems = [p for p in learner.problems if "ERR_INTERNET_DISCONNECTED" not in p]
    learner.problems.clear()
    assert not problems, "\n".join(problems)
