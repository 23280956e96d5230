"""Chromium as a person at a phone uses it, and the page text they read.

`t("Log in")` is what the page shows for that source string: the Vietnamese translation (the
site's default language) as the compiled catalogue would give it, so the steps read like the
English source while matching what a Vietnamese user sees. A string missing from the catalogue
comes back in English, as it would on the page.
"""

import contextlib
import functools
import os
from pathlib import Path

from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = os.environ.get("LMS_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync"]
PHONE = {"width": 360, "height": 800}


@functools.cache
def _catalogue():
    with (ROOT / "lms" / "translations" / "vi" / "LC_MESSAGES" / "messages.po").open("rb") as handle:
        return read_po(handle)


def t(message: str, **values) -> str:
    """The Vietnamese text of a source string (fuzzy entries are not compiled, so not shown)."""
    entry = _catalogue().get(message)
    text = entry.string if entry is not None and not entry.fuzzy and entry.string else message
    if isinstance(text, tuple | list):
        text = text[0]
    return text % values if values else text


class Persona:
    """One person in a fresh browser context at a phone's size; collects what went wrong on the page.

    Every console error, uncaught script error, failed request and 5xx response the browser sees is kept, so a
    step can fail on problems the person would have met even when the page "looked" fine.
    """

    def __init__(self, browser, base_url: str, who: str):
        self.who = who
        self.logged_in = False
        self.problems: list[str] = []
        self.context = browser.new_context(viewport=PHONE, base_url=base_url, locale="vi-VN", accept_downloads=True,
                                           is_mobile=True, has_touch=True)
        self.context.set_default_timeout(15_000)
        self.context.on("console", self._console)
        self.context.on("weberror", lambda error: self.problems.append(f"script error: {error.error}"))
        self.context.on("response", self._response)
        self.context.on("requestfailed", self._request_failed)
        self.page = self.context.new_page()

    def _console(self, message) -> None:
        # Chromium asks for /favicon.ico on pages without an icon link (a bare error page, a file):
        # the site's icon is linked from every page it renders, and nobody sees that miss.
        if message.type == "error" and not message.location.get("url", "").endswith("/favicon.ico"):
            self.problems.append(f"console error on {message.page.url if message.page else '?'}: {message.text}")

    def _response(self, response) -> None:
        if response.status >= 500:
            self.problems.append(f"HTTP {response.status} for {response.request.method} {response.url}")

    def _request_failed(self, request) -> None:
        # "Aborted" is the browser's own doing: a navigation that became a download, or a page left
        # (by the next click) before its fonts or a script's fetch finished; nothing the person misses.
        # Refused, reset, empty or cut-off answers are failures.
        if request.failure == "net::ERR_ABORTED":
            return
        self.problems.append(f"request failed: {request.method} {request.url} ({request.failure})")

    def assert_clean(self) -> None:
        problems, self.problems = self.problems, []
        assert not problems, f"{self.who} met problems in the browser:\n" + "\n".join(problems)

    def close(self) -> None:
        self.context.close()


def menu(page):
    """The main menu as a person on a phone reaches it: the "Menu" button opens it (a <details>); on a wide
    screen it is always open. Returns the navigation landmark."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    summary = page.locator("details.site-menu > summary")
    # Right after a click that navigates, the next page may not have its header yet: wait for it (a page
    # without the site menu: the landmark returned says what is missing).
    with contextlib.suppress(PlaywrightTimeout):
        summary.wait_for(state="attached", timeout=15_000)
    if summary.is_visible() and page.locator("details.site-menu[open]").count() == 0:
        summary.click()
    return page.get_by_role("navigation", name=t("Main menu"))


def fill_registration(page, name: str, login: str, password: str, commune_typed: str, commune: str) -> None:
    """Fill /register as a citizen does (the commune found by typing), tick consent; not submitted."""
    page.get_by_label(t("Full name")).fill(name)
    page.get_by_label(t("E-mail or phone number")).fill(login)
    page.get_by_label(t("Password"), exact=True).fill(password)
    page.get_by_label(t("Repeat the password")).fill(password)
    with page.expect_response(lambda response: "/localities/search" in response.url):
        page.get_by_label(t("Find your commune or ward")).fill(commune_typed)
    picker = page.get_by_label(t("Commune or ward where you live or work"))
    picker.select_option(label=picker.locator("option", has_text=commune).first.inner_text())
    page.get_by_label(t("I have read the privacy notice and agree to the processing of my personal data.")).check()
