"""The catalogue's search box on a 360 px phone, against the real server of this pass: a resident
types words without diacritics that are only inside lessons ("ma otp"), sees the course and the
lessons that mention them with the words marked, and opens one."""

import os
import time

import pytest

try:
    from playwright.sync_api import expect
except ImportError:  # requirements-dev.txt not installed: a clone may skip, CI may not
    if os.environ.get("CI"):
        raise
    pytest.skip("end-to-end suite skipped: Playwright is not installed (requirements-dev.txt)", allow_module_level=True)

from tests.e2e.browser import PHONE, t

CITIZEN_COURSE = "Kỹ năng số cho công dân"
INDEXED_WITHIN = 60  # seconds: the worker indexes the imported courses after the server starts


def test_a_resident_searches_the_catalogue_for_lesson_words_and_opens_a_hit(person, server):
    resident = person("resident")
    page = resident.page
    assert page.viewport_size == PHONE
    deadline = time.monotonic() + INDEXED_WITHIN
    while True:
        page.goto("/courses")
        box = page.get_by_role("searchbox", name=t("Search courses"))
        box.fill("ma otp")
        box.press("Enter")
        hits = page.locator(".search-hit")
        expect(page.get_by_role("main")).to_contain_text(t("Search everything for “%(q)s”: lessons and the library",
                                                           q="ma otp"))
        if hits.count() or time.monotonic() > deadline:
            break
        page.wait_for_timeout(500)  # polling as a person would (search again) until the worker indexed
    expect(page.get_by_role("heading", level=2, name=CITIZEN_COURSE)).to_be_visible()
    expect(hits.first.locator("mark").first).to_have_text("mã")
    first = hits.first.get_by_role("link")
    title = first.inner_text()
    # Nothing sticks out of a phone's screen.
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text(title)
    expect(page.get_by_role("main")).to_contain_text("OTP")
    resident.assert_clean()
