"""A quiz attempt in a real browser (Debian's Chromium driven by Playwright) against a real server:
answers survive a dropped connection and a reload, and "Submit" never leaves a fresh answer behind.

Skipped where Chromium or Playwright is missing (`apt-get install -y chromium`; Playwright comes
with requirements-dev.txt and uses that Chromium, it downloads nothing).
"""

import json
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from bench.lesson_page import free_port, wait_for
from tests.conftest import ROOT

CHROMIUM = os.environ.get("LMS_CHROMIUM", "/usr/bin/chromium")
playwright = pytest.importorskip("playwright.sync_api")
pytestmark = [
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason=f"needs Chromium at {CHROMIUM}"),
    # The server is `make run`'s embedded default (SQLite) whatever the pass; once is enough.
    pytest.mark.skipif(bool(os.environ.get("LMS_TEST_DATABASE_URL")), reason="runs in the SQLite pass"),
]

LEARNER = ("hocvien@demo.vn", "hocvien-demo-2025")
COURSE = "ky-nang-so-cong-dan"


@pytest.fixture(scope="module")
def server():
    """`make run`'s set-up in a throw-away instance, served by gunicorn; yields (base URL, database file)."""
    instance = Path(tempfile.mkdtemp(prefix="lms-browser-"))
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "CELERY_BROKER_URL")}
    env.update(LMS_INSTANCE_PATH=str(instance), LMS_DEMO="1", SECRET_KEY="browser-test-secret")
    flask = [sys.executable, "-m", "flask", "--app", "app"]
    for step in (["db", "upgrade"], ["localities", "load"], ["courses", "import", "courses/"], ["demo", "create"]):
        subprocess.run(flask + step, cwd=ROOT, env=env, check=True, capture_output=True)
    port = free_port()
    process = subprocess.Popen([sys.executable, "-m", "gunicorn", "--bind", f"127.0.0.1:{port}", "--workers", "2",
                                "--log-level", "warning", "app:app"], cwd=ROOT, env=env)
    try:
        wait_for(port)
        yield f"http://127.0.0.1:{port}", instance / "lms.sqlite3"
    finally:
        process.terminate()
        process.wait(timeout=20)
        shutil.rmtree(instance, ignore_errors=True)


@pytest.fixture()
def learner_page(server):
    base, _ = server
    with playwright.sync_playwright() as driver:
        browser = driver.chromium.launch(executable_path=CHROMIUM, args=[
            "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
            "--disable-sync"])
        context = browser.new_context(viewport={"width": 390, "height": 844})
        page = context.new_page()
        errors = []
        # A request failing while the test holds the browser offline is expected; anything else is not.
        page.on("console", lambda message: errors.append(message.text)
                if message.type == "error" and "ERR_INTERNET_DISCONNECTED" not in message.text else None)
        page.goto(f"{base}/login")
        page.fill("input[name=login]", LEARNER[0])
        page.fill("input[name=password]", LEARNER[1])
        with page.expect_navigation():
            page.press("input[name=password]", "Enter")
        yield page, context, errors
        browser.close()


def _start_attempt(page, base) -> int:
    page.goto(f"{base}/courses/{COURSE}")
    enrol = page.query_selector(f"form[action$='/courses/{COURSE}/enrol'] button")
    if enrol:
        with page.expect_navigation():
            enrol.click()
        page.goto(f"{base}/courses/{COURSE}")
    page.goto(base + page.get_attribute("a[href^='/quizzes/']", "href"))
    start = page.query_selector("form[action$='/start'] button")
    with page.expect_navigation():
        start.click()
    return int(page.url.rstrip("/").rsplit("/", 1)[1].split("?")[0])


def _stored(database: Path, attempt_id: int) -> dict:
    with sqlite3.connect(database) as connection:
        rows = connection.execute("SELECT question_id, response, score FROM attempt_answers WHERE attempt_id = ?",
                                  (attempt_id,)).fetchall()
    return {question: (json.loads(response), score) for question, response, score in rows}


def _last_finished_attempt(database: Path) -> int | None:
    with sqlite3.connect(database) as connection:
        row = connection.execute("SELECT id FROM attempts WHERE submitted_at IS NOT NULL ORDER BY id DESC").fetchone()
    return row[0] if row else None


def test_an_answer_given_offline_survives_a_reload_and_reaches_the_server(server, learner_page):
    base, database = server
    page, context, errors = learner_page
    attempt_id = _start_attempt(page, base)
    radio = page.query_selector("form[data-autosave] input[type=radio]")
    name, value = radio.get_attribute("name"), radio.get_attribute("value")
    question_id = int(name.removeprefix("q"))

    context.set_offline(True)
    radio.check()
    offline_text = page.get_attribute("form[data-autosave]", "data-offline")
    page.wait_for_function("text => document.querySelector('.autosave-status').textContent === text", arg=offline_text)
    assert question_id not in _stored(database, attempt_id)  # nothing reached the server

    context.set_offline(False)
    page.reload()
    # Restored from this browser and sent again; the server confirms.
    assert page.is_checked(f"input[name='{name}'][value='{value}']")
    saved_text = page.get_attribute("form[data-autosave]", "data-saved")
    page.wait_for_function("text => document.querySelector('.autosave-status').textContent === text", arg=saved_text)
    assert _stored(database, attempt_id)[question_id][0] == [value]
    assert page.evaluate("() => Object.keys(localStorage).filter(k => k.startsWith('lms-unsaved:')).length") == 0
    assert not errors, errors


def test_submitting_right_after_changing_an_answer_keeps_that_answer(server, learner_page):
    base, database = server
    page, _, errors = learner_page
    page.goto(f"{base}/courses/{COURSE}")
    attempt_id = _start_attempt(page, base)
    radios = page.query_selector_all("form[data-autosave] input[type=radio]")
    radio = radios[-1]
    name, value = radio.get_attribute("name"), radio.get_attribute("value")
    radio.check()
    # No pause: the autosave (150 ms later) has not gone out when "Submit" is pressed.
    with page.expect_navigation():
        page.click("form.finish-form button[type=submit]")
    assert _last_finished_attempt(database) == attempt_id
    response, score = _stored(database, attempt_id)[int(name.removeprefix("q"))]
    assert response == [value] and score is not None
    # An autosave already on its way may arrive after the submission: refused (409) by design.
    assert not [e for e in errors if "409" not in e], errors
