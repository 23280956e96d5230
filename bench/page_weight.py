"""Page weight over the wire, as a phone's browser meets it: bytes and requests, cold and warm.

    .venv/bin/python bench/page_weight.py

Starts `make run`'s set-up in a throw-away instance served by `flask serve` (gunicorn, the
embedded default), logs the demo resident in with Debian's Chromium at 360×800, enrols in the
citizen course and loads the catalogue, the first lesson and the quiz page: first (empty cache and no
`css` cookie: the stylesheet comes inline, lms/core/inline_style.py), cold (empty cache, but the cookie
from the log-in page: the stylesheet is linked and fetched — the worst case, a cache emptied since)
and warm (the same context, the page opened again after another page).
Counted from Chromium's DevTools network events: a request is one the server answered (not served
from the browser's cache); bytes are what came over the wire for it (headers and the body as sent,
compressed or not). The page-weight test (tests/journey/test_page_weight.py) asserts the budgets of
docs/performance.md with the same function.
"""

import json
import sys
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

PHONE = {"width": 360, "height": 800}
LEARNER = ("hocvien@demo.vn", "hocvien-demo-2025")
CITIZEN_COURSE = "ky-nang-so-cong-dan"


@dataclass
class Load:
    """One page load: each request that reached the server, with the bytes that came back for it."""

    requests: dict = field(default_factory=dict)  # request id → url
    cached: set = field(default_factory=set)
    sizes: dict = field(default_factory=dict)
    encodings: dict = field(default_factory=dict)

    @property
    def wire(self) -> list[str]:
        return [rid for rid in self.requests if rid not in self.cached]

    @property
    def count(self) -> int:
        return len(self.wire)

    @property
    def bytes(self) -> int:
        return int(sum(self.sizes.get(rid, 0) for rid in self.wire))

    def summary(self) -> dict:
        return {"requests": self.count, "bytes": self.bytes,
                "urls": [f"{self.requests[rid]} ({int(self.sizes.get(rid, 0))} B"
                         f"{', ' + self.encodings[rid] if self.encodings.get(rid) else ''})" for rid in self.wire]}


def measured_load(page, url: str) -> Load:
    """Open `url` in `page` and collect its network traffic until the page has loaded and gone quiet."""
    load = Load()
    cdp = page.context.new_cdp_session(page)
    cdp.on("Network.requestWillBeSent", lambda e: load.requests.setdefault(e["requestId"], e["request"]["url"]))
    cdp.on("Network.requestServedFromCache", lambda e: load.cached.add(e["requestId"]))
    cdp.on("Network.loadingFinished", lambda e: load.sizes.__setitem__(e["requestId"], e["encodedDataLength"]))

    def response(event):
        headers = {k.lower(): v for k, v in event["response"]["headers"].items()}
        load.encodings[event["requestId"]] = headers.get("content-encoding", "")
        if event["response"].get("fromDiskCache") or event["response"].get("fromServiceWorker"):
            load.cached.add(event["requestId"])

    cdp.on("Network.responseReceived", response)
    cdp.send("Network.enable")
    page.goto(url, wait_until="networkidle")
    cdp.detach()
    return load


def logged_in_context(browser, base: str):
    # The service worker (issue 16) is blocked here: these are the figures of the HTTP cache alone, as on a
    # first visit (no worker yet) or a browser without workers. With the worker, its own fetches happen in its
    # target, not the page's, and every response reads "fromServiceWorker"; docs/performance.md has those figures.
    context = browser.new_context(viewport=PHONE, base_url=base, locale="vi-VN", is_mobile=True, has_touch=True,
                                  service_workers="block")
    page = context.new_page()
    page.goto("/login")
    page.fill("input[name=login]", LEARNER[0])
    page.fill("input[name=password]", LEARNER[1])
    with page.expect_navigation():
        page.press("input[name=password]", "Enter")
    return context, page


def journey_urls(browser, base: str) -> dict:
    """The catalogue, the citizen course's first lesson and its quiz, for the demo resident (enrolled here)."""
    context, page = logged_in_context(browser, base)
    page.goto(f"/courses/{CITIZEN_COURSE}")
    enrol = page.query_selector(f"form[action$='/courses/{CITIZEN_COURSE}/enrol'] button")
    if enrol:
        with page.expect_navigation():
            enrol.click()
        page.goto(f"/courses/{CITIZEN_COURSE}")
    lesson = page.get_attribute("a[href*='/lessons/']", "href")
    quiz = page.get_attribute("a[href^='/quizzes/']", "href")
    context.close()
    return {"catalogue": "/courses", "lesson": lesson, "quiz": quiz}


def measure(browser, base: str) -> dict:
    """{page: {"first", "cold", "warm", "warm after first": Load}} for the logged-in resident."""
    figures = {}
    for name, url in journey_urls(browser, base).items():
        figures[name] = {}
        for when in ("first", "cold"):
            context, page = logged_in_context(browser, base)
            # The log-in already fetched the shared assets: start from an empty cache for the cold figures.
            cdp = context.new_cdp_session(page)
            cdp.send("Network.clearBrowserCache")
            cdp.detach()
            if when == "first":
                context.clear_cookies(name="css")  # the stylesheet is inline, and prefetched after the load
            figures[name][when] = measured_load(page, url)
            page.goto("/my", wait_until="networkidle")
            # warm after the first visit: the stylesheet now linked, from the HTTP cache the prefetch filled.
            figures[name]["warm" if when == "cold" else "warm after first"] = measured_load(page, url)
            context.close()
    return figures


def main() -> int:
    from playwright.sync_api import sync_playwright

    from tests.e2e.servers import embedded_server
    from tests.journey.live import launch

    with embedded_server() as server, sync_playwright() as driver:
        browser = launch(driver)
        figures = measure(browser, server.base)
        browser.close()
    report = {name: {when: load.summary() for when, load in loads.items()} for name, loads in figures.items()}
    print(json.dumps(report, indent=2, ensure_ascii=False))
    for name, loads in figures.items():
        print(f"{name:10s} first {loads['first'].bytes / 1024:6.1f} KB in {loads['first'].count:2d} requests · "
              f"cold {loads['cold'].bytes / 1024:6.1f} KB in {loads['cold'].count:2d} requests · "
              f"warm {loads['warm'].bytes / 1024:6.1f} KB in {loads['warm'].count:2d} requests · after first "
              f"{loads['warm after first'].bytes / 1024:4.1f} KB in {loads['warm after first'].count} request(s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
