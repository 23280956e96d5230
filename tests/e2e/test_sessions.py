"""Your sessions (issue 12, OWASP ASVS 3.3.4) in Chromium against the real server: the same person
signed in from two browsers ends the other one from /profile/sessions; that browser's next page is
the log-in page."""

import os
import re

import pytest

try:
    from playwright.sync_api import expect
except ImportError:
    if os.environ.get("CI"):
        raise
    pytest.skip("end-to-end suite skipped: Playwright is not installed", allow_module_level=True)

from tests.e2e import course_material as material
from tests.e2e.browser import PHONE, menu, t

# The second browser says it is Firefox on Windows, so the first can tell it apart on the page.
LAPTOP = "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0"


def _log_in(page, login: str, password: str) -> None:
    page.goto("/")
    menu(page).get_by_role("link", name=t("Log in")).click()
    page.get_by_label(t("E-mail or phone number")).fill(login)
    page.get_by_label(t("Password"), exact=True).fill(password)
    page.get_by_role("button", name=t("Log in")).click()
    page.wait_for_url(lambda url: "/login" not in url)
    expect(menu(page).get_by_role("button", name=t("Log out"))).to_be_visible()


def test_one_browser_ends_the_others_session(person, browser, server):
    login, password = material.demo_account("librarian")
    phone = person("sessions-phone")
    laptop = browser.new_context(viewport=PHONE, base_url=server.base_url, locale="vi-VN", user_agent=LAPTOP)
    try:
        other = laptop.new_page()
        _log_in(phone.page, login, password)
        _log_in(other, login, password)
        other.goto("/profile")
        expect(other.get_by_role("heading", level=1)).to_be_visible()

        page = phone.page
        page.goto("/profile")
        page.get_by_role("link", name=t("Your sessions")).click()
        expect(page.get_by_role("heading", level=1, name=t("Your sessions"))).to_be_visible()
        this = page.locator("section.card", has_text=t("This device"))
        expect(this).to_have_count(1)
        expect(this.get_by_role("button", name=t("End this session"))).to_have_count(0)
        laptop_card = page.locator("section.card", has_text=t("%(browser)s on %(system)s", browser="Firefox",
                                                                  system="Windows"))
        expect(laptop_card).to_have_count(1)
        expect(laptop_card).to_contain_text("127.0.0.1")
        laptop_card.get_by_role("button", name=t("End this session")).click()
        expect(page.get_by_text(t("The session was ended: that device must log in again."))).to_be_visible()
        expect(page.locator("section.card", has_text="Firefox")).to_have_count(0)

        other.goto("/profile")  # the laptop's next page
        expect(other).to_have_url(re.compile(r"/login"))
        expect(other.get_by_label(t("Password"), exact=True)).to_be_visible()

        page.goto("/profile")  # the phone carries on
        expect(menu(page).get_by_role("button", name=t("Log out"))).to_be_visible()
        phone.assert_clean()
    finally:
        laptop.close()


def test_a_lesson_page_read_again_knows_at_once_that_its_session_was_ended(person, browser, server):
    """The lesson page read again is the one a process may answer from rows it kept (lms.core.change_feed, on
    PostgreSQL): ending the session from another browser must reach it too. The laptop reads the lesson three
    times after its log-in's write cookie is gone (as it is seconds later), then the phone ends its session."""
    login, password = material.demo_account("learner")
    phone = person("sessions-phone-learner")
    # Without the service worker, whose copy of a lesson opens at once (stale-while-revalidate, docs/phones.md):
    # this is about what the server answers.
    laptop = browser.new_context(viewport=PHONE, base_url=server.base_url, locale="vi-VN", user_agent=LAPTOP,
                                 service_workers="block")
    try:
        other = laptop.new_page()
        _log_in(phone.page, login, password)
        _log_in(other, login, password)
        other.goto(f"/courses/{material.CITIZEN_COURSE}")
        lesson = other.locator(f"a[href*='/courses/{material.CITIZEN_COURSE}/lessons/']").first.get_attribute("href")
        other.goto(lesson)  # the first visit writes its progress
        laptop.clear_cookies(name="lms_wrote")  # the browser drops it 3 s after the write
        for _ in range(3):
            other.goto(lesson)
            expect(menu(other).get_by_role("button", name=t("Log out"))).to_be_visible()

        page = phone.page
        page.goto("/profile/sessions")
        laptop_card = page.locator("section.card", has_text="Firefox")
        laptop_card.get_by_role("button", name=t("End this session")).click()
        expect(page.get_by_text(t("The session was ended: that device must log in again."))).to_be_visible()

        other.goto(lesson)  # the laptop's next read of the same lesson: a visitor now
        expect(menu(other).get_by_role("link", name=t("Log in"))).to_be_visible()
        expect(menu(other).get_by_role("button", name=t("Log out"))).to_have_count(0)
        phone.assert_clean()
    finally:
        laptop.close()
