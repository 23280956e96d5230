"""Issue 16, a lesson on "Slow 3G" (Chromium's network emulation through CDP: 2 s latency per request,
50 KB/s — DevTools' classic preset) in Chromium at 360×800: cold (nothing on the phone, no worker yet) it
must be readable in under 3 s — one round trip, as the first visit gets the stylesheet inline
(lms/core/inline_style.py) — and the next visit links the stylesheet instead; warm (the lesson stored
by the service worker) it must be readable in under 1 s, because the stored copy answers at once
(stale-while-revalidate) — and the copy is then refreshed from the server in the background, so the
next visit shows the lesson as changed meanwhile."""

import json
import os

import pytest

try:
    from playwright.sync_api import expect
except ImportError:
    if os.environ.get("CI"):
        raise
    pytest.skip("end-to-end suite skipped: Playwright is not installed (requirements-dev.txt)", allow_module_level=True)

from tests.e2e.test_offline import wait_for
from tests.e2e.test_offline_files import SET_UP

# A wall-clock budget: `make test` runs this alone, after its two passes (scripts/test_passes.sh).
pytestmark = pytest.mark.timing

SLOW_3G = {"offline": False, "latency": 2000, "downloadThroughput": 50_000, "uploadThroughput": 50_000}
COLD_BUDGET_MS = 3000
WARM_BUDGET_MS = 1000
EDIT = """
from lms import create_app
from lms.extensions import db
from sqlalchemy import select
app = create_app(); ctx = app.app_context(); ctx.push()
from lms.catalog.models import Course
lesson = db.session.scalar(select(Course).where(Course.slug == "mini-course")).active_lessons()[0]
lesson.body_html += '<p id="changed-meanwhile">Đoạn mới thêm vào bài.</p>'
db.session.commit()
"""
READABLE_MS = """() => {
  const paint = performance.getEntriesByName("first-contentful-paint")[0];
  const navigation = performance.getEntriesByType("navigation")[0];
  return { paint: paint ? paint.startTime : null, loaded: navigation.domContentLoadedEventEnd,
           fromWorker: navigation.workerStart > 0, inline: document.querySelectorAll("head > style").length,
           linked: document.querySelectorAll("link[rel=stylesheet]").length,
           styled: getComputedStyle(document.body).fontFamily.includes("Be Vietnam Pro") };
}"""
STORED = """(url) => caches.match(url, { ignoreVary: true }).then((r) => r ? r.text() : null)"""


def slow_3g(page):
    session = page.context.new_cdp_session(page)
    session.send("Network.enable")
    session.send("Network.emulateNetworkConditions", SLOW_3G)
    return session


def open_readable(page, url) -> dict:
    page.goto(url)
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    wait_for(lambda: page.evaluate("() => performance.getEntriesByName('first-contentful-paint').length > 0"), 15,
             "the first paint")
    return page.evaluate(READABLE_MS)


def test_a_stored_lesson_is_readable_in_under_a_second_on_slow_3g_and_refreshed_behind(server, person, figure):
    made = json.loads(server.run_python(SET_UP).strip().splitlines()[-1])
    lesson = f"/courses/{made['course']}/lessons/"
    cold_visitor = person("slow 3g visitor, cold")
    page = cold_visitor.page
    page.goto(f"/courses/{made['course']}")
    url = page.get_attribute(f"ol.lesson-list a[href^='{lesson}']", "href")
    cold_visitor.context.clear_cookies()

    cold = person("slow 3g visitor, first time").page
    slow_3g(cold)
    first = open_readable(cold, url)
    figure("lesson on Slow 3G, cold (first contentful paint / DOMContentLoaded)",
           f"{first['paint']:.0f} ms / {first['loaded']:.0f} ms")
    # One round trip: the stylesheet came inside the page (styled at the first paint), nothing linked.
    assert first["inline"] == 1 and first["linked"] == 0 and first["styled"], first
    assert first["paint"] < COLD_BUDGET_MS and first["loaded"] < COLD_BUDGET_MS, first
    expect(cold.locator("main")).to_contain_text("Xin chào")  # the lesson's own text, not only the frame
    # The next visit links the fingerprinted stylesheet, already on the phone (the prefetch, the worker).
    cold.goto(url)
    expect(cold.get_by_role("heading", level=1)).to_be_visible()
    second = cold.evaluate(READABLE_MS)
    assert second["inline"] == 0 and second["linked"] == 1 and second["styled"], second

    warm = person("slow 3g visitor, returning").page
    warm.goto(url)  # the service worker is installed and this visit stores the lesson
    wait_for(lambda: warm.evaluate("() => navigator.serviceWorker.controller !== null"), 30,
             "the service worker controls the page")  # (a string predicate would be eval: the CSP forbids it)
    warm.goto(url)
    wait_for(lambda: warm.evaluate(STORED, url), 10, "the lesson is stored on the phone")
    server.run_python(EDIT)  # the lesson changes on the server

    slow_3g(warm)
    again = open_readable(warm, url)
    figure("lesson on Slow 3G, warm: stored copy (first contentful paint / DOMContentLoaded)",
           f"{again['paint']:.0f} ms / {again['loaded']:.0f} ms")
    assert again["fromWorker"] and again["paint"] < WARM_BUDGET_MS, again
    assert warm.locator("#changed-meanwhile").count() == 0  # the stored copy answered, not the network
    # Behind it the copy is refreshed from the server; the next visit shows the change.
    wait_for(lambda: "changed-meanwhile" in (warm.evaluate(STORED, url) or ""), 30, "the stored copy is refreshed")
    latest = open_readable(warm, url)
    expect(warm.locator("#changed-meanwhile")).to_have_text("Đoạn mới thêm vào bài.")
    assert latest["paint"] < WARM_BUDGET_MS, latest
    for persona in ("slow 3g visitor, cold", "slow 3g visitor, first time", "slow 3g visitor, returning"):
        person(persona).assert_clean()
